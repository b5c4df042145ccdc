#!/bin/bash
# usage: ab.sh ROUNDS REGEX PARAMS... ; alternates jars before/grace/head, one fork each
R=$1; shift; RX=$1; shift
for r in $(seq 1 $R); do
 for j in ${JARS:-before grace head}; do
  java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp /tmp/g2ab/$j.jar org.openjdk.jmh.Main "$RX" "$@" -f 1 -wi 3 -i 4 -w 1s -r 1s -foe true -rf json -rff /tmp/g2ab/res-$j-$r.json > /tmp/g2ab/log-$j-$r.txt 2>&1
  echo "$j r$r $(grep -E '^Pasid.*avgt' /tmp/g2ab/log-$j-$r.txt | awk '{print $1,$2,$(NF-3),$(NF-1)}' | tr '\n' ';')"
 done
done
