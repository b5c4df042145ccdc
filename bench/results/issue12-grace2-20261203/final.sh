#!/bin/bash
cd /tmp/g2ab; mkdir -p fin; X="--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
J() { jar=$1; shift; java -Djmh.ignoreLock=true $X -cp /tmp/g2ab/$jar.jar org.openjdk.jmh.Main "$@" -wi 2 -i 3 -w 1s -r 1s -foe true -prof gc; }
echo "start $(date -u)"
for jar in head new4; do
  P="pasidkit,pasidkit-grace,sbitmap,atomic-bitmap"; [ $jar = new4 ] && P="pasidkit,pasidkit-grace,pasidkit-grace-reader,sbitmap,atomic-bitmap"
  J $jar 'PasidAllocatorAllocFreeBenchmark.pairT1$' -p impl=$P -f 1 -rf json -rff fin/p1-$jar.json > fin/p1-$jar.log 2>&1
  J $jar 'PasidAllocatorAllocFreeBenchmark.pairT2$' -p impl=$P -f 2 -rf json -rff fin/p2-$jar.json > fin/p2-$jar.log 2>&1
  echo "pair $jar done $(date -u)"
done
J new4 'PasidAllocatorAllocFreeBenchmark.pairT4$' -p impl=pasidkit,pasidkit-grace,pasidkit-grace-reader,sbitmap -f 1 -rf json -rff fin/p4-new4.json > fin/p4-new4.log 2>&1
echo "p4 done $(date -u)"
for jar in head new4; do
  J $jar PasidAllocatorHeldSetBenchmark -p impl=pasidkit,pasidkit-grace,sbitmap,atomic-bitmap -p heldPercent=50,99.99 -f 1 -rf json -rff fin/hs-$jar.json > fin/hs-$jar.log 2>&1
  echo "hs $jar done $(date -u)"
done
for jar in head new4; do
  J $jar 'PasidAllocatorExhaustionChurnBenchmark.churn$' -p impl=pasidkit,pasidkit-grace,sbitmap -f 1 -prof 'org.pasidkit.allocator.PasidAllocatorExhaustionChurnBenchmark$Percentiles' -rf json -rff fin/ch-$jar.json > fin/ch-$jar.log 2>&1
  echo "churn $jar done $(date -u)"
done
