#!/usr/bin/env bash
set -u
cd /work/wt-fence
R='EpochDomainEnterExitBenchmark\.(enterExit|enterExit2Threads|pinStoreFloor|pinStoreLightFloor|advanceWithIdleReader|advanceNoReader)$|PasidSpaceEpochLookupBenchmark\.'
common=(-Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main "$R" -f 2 -wi 3 -i 5 -w 1s -r 1s -prof gc -prof org.pasidkit.bench.HeavyBarrierProfiler -foe true -rf json)
echo "start $(date -u) load $(cat /proc/loadavg)"
java "${common[@]}" -rff /tmp/fence-jmh/membarrier.json > /tmp/fence-jmh/membarrier.txt 2>&1
echo "mid $(date -u) load $(cat /proc/loadavg)"
java "${common[@]}" -jvmArgsPrepend -Dpasidkit.fence=fenced -rff /tmp/fence-jmh/fenced.json > /tmp/fence-jmh/fenced.txt 2>&1
echo "end $(date -u) load $(cat /proc/loadavg)"
