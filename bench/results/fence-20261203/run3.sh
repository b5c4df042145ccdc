#!/usr/bin/env bash
cd /work/wt-fence
R='EpochDomainEnterExitBenchmark\.underReclaimScan'
common=(-Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main "$R" -f 3 -wi 3 -i 5 -w 1s -r 1s -prof gc -prof org.pasidkit.bench.HeavyBarrierProfiler -foe true -rf json)
echo "start $(date -u) load $(cat /proc/loadavg)"
java "${common[@]}" -rff /tmp/fence-jmh/scan-membarrier.json > /tmp/fence-jmh/scan-membarrier.txt 2>&1
java "${common[@]}" -jvmArgsPrepend -Dpasidkit.fence=fenced -rff /tmp/fence-jmh/scan-fenced.json > /tmp/fence-jmh/scan-fenced.txt 2>&1
echo "end $(date -u) load $(cat /proc/loadavg)"
