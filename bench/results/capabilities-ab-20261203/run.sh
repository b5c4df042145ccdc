#!/bin/bash
# A/B: the lookup and fault benchmarks on the code before (540d70d) and after (20ede08) the capability change,
# interleaved old/new/old/new in one session so both see the same machine state.
cd "$(dirname "$0")"  # with old.jar (bench jar of 540d70d) and new.jar (of 5c688e9) beside this script
J="java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
for round in 1 2 3; do
  for v in old new; do
    $J -cp $v.jar org.openjdk.jmh.Main 'PasidSpaceLookupBenchmark.lookup$' -p impl=pasidkit,pasidkitByHandle \
      -f 1 -wi 4 -i 8 -w 1s -r 1s -prof gc -foe true -rf json -rff lookup-$v-$round.json > lookup-$v-$round.txt 2>&1
    $J -cp $v.jar org.openjdk.jmh.Main 'PasidSpaceFaultBenchmark.fault(Attributed|Suppressed)$' \
      -f 1 -wi 4 -i 8 -w 1s -r 1s -prof gc -foe true -rf json -rff fault-$v-$round.json > fault-$v-$round.txt 2>&1
  done
done
echo finished
