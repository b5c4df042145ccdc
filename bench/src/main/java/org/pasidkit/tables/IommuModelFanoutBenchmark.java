package org.pasidkit.tables;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The end-to-end fan-out of one address-space change per IOMMU architecture model: one change of one page of an
 * address space bound to {@code devices} devices (all with ATS) through 1 + {@code privatePasids} PASIDs; for each
 * PASID the model's driver writes its commands in its own format and order (VT-d: P_IOTLB, one P_DEVTLB per device,
 * batches of 16 and an invalidation wait; SMMUv3: TLBI_NH_VA + CMD_SYNC, one ATC_INV per device + CMD_SYNC; AMD-Vi:
 * INVALIDATE_IOMMU_PAGES and INVALIDATE_IOTLB_PAGES per device, COMPLETION_WAIT) and waits for them, and the model's
 * simulated IOMMU consumes every command and keeps its ordering checks. The driver and the simulated IOMMU run on the
 * benchmark thread (a model's wait runs the IOMMU to the queue's tail), so this measures command generation plus
 * consumption on one core, not a cross-core handoff: compare it with {@code AtcInvalidatorFanoutBenchmark.endToEnd}
 * (two threads) only as context.
 * <p>Scores: {@code atcInvalidations} (device-TLB invalidation commands per second: the generic benchmark's
 * {@code commands}) and {@code commands} (every command of the architecture, waits included). The trial fails if the
 * model counted a different number of device-TLB invalidations or reported a violation.</p>
 * <pre>
 *   java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main 'IommuModelFanoutBenchmark' -foe true -prof gc \
 *     -rf json -rff iommu-fanout.json
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xms512m", "-Xmx512m",
    "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@State(Scope.Thread)
public class IommuModelFanoutBenchmark
{
    @Param({"vtd", "smmuv3", "amd"})
    String iommu;

    @Param({"16"})
    int devices;

    @Param({"3"})
    int privatePasids;

    IommuModel model;
    int[] pasids;
    long address = 0x7f0000000000L;
    long commandsPerChange;
    long changes;
    long atcPerChange;

    /** Commands per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters
    {
        /** Device-TLB (ATC) invalidation commands: the generic benchmark's score. */
        public long atcInvalidations;
        /** Every command of the architecture, waits and IOTLB invalidations included. */
        public long commands;
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        model = IommuModel.create(IommuArch.parse(iommu).get(0));
        final PasidSpace space = PasidSpace.builder().maxPasid(4095).build();
        final Device[] all = new Device[devices];
        for (int d = 0; d < devices; d++)
        {
            all[d] = space.addDevice(0x100 + d * 8, 20, true, null);
            model.addDevice(all[d]);
        }
        pasids = new int[1 + privatePasids];
        for (int p = 0; p < pasids.length; p++)
        {
            pasids[p] = 17 + p;
            for (final Device device : all)
            {
                model.bind(device, pasids[p], 0x40000000L);
            }
        }
        atcPerChange = (long)devices * pasids.length;
        final long before = model.counts().commands();
        change();
        commandsPerChange = model.counts().commands() - before;
        changes = 0;
    }

    @TearDown(Level.Trial)
    public void check()
    {
        final IommuCounts counts = model.counts();
        if (0 != counts.violations())
        {
            throw new IllegalStateException(iommu + ": " + counts.violations() + " violations: " +
                counts.firstViolations());
        }
        if (counts.deviceTlbInvalidationsInChanges() != (changes + 1) * atcPerChange)
        {
            throw new IllegalStateException(iommu + ": " + counts.deviceTlbInvalidationsInChanges() +
                " device-TLB invalidations for " + (changes + 1) + " changes x " + atcPerChange);
        }
    }

    private void change()
    {
        address += 4096;
        final int[] pasids = this.pasids;
        for (int p = 0; p < pasids.length; p++)
        {
            model.invalidateRange(pasids[p], address, 4096);
        }
        changes++;
    }

    @Benchmark
    public long endToEnd(final Counters counters)
    {
        change();
        counters.atcInvalidations += atcPerChange;
        counters.commands += commandsPerChange;
        return address;
    }
}
