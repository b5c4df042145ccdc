package org.pasidkit.tables;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/*
 * Data path: PasidSpace.reportFault, one fault an op, for each answer a device can get.
 *
 * Full run (3 forks a benchmark: 15 forks, about 5 minutes; on a quiet machine):
 *   ./mvnw -B -ntp -q -pl bench -am -DskipTests -Djcstress.skip=true package
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceFaultBenchmark \
 *       -prof gc -foe true -rf json -rff pasidspace-fault.json
 * Smoke run (noisy, shared machine):
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceFaultBenchmark \
 *       -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc -foe true
 *
 * Data set (PasidSpaceLookupBenchmark.BondSet): 4 devices; 512 live address spaces bound to 2 devices each (1024
 * bonds on 512 random 20-bit PASIDs), and 256 more that bound 2 devices each and then exited without their drivers
 * unbinding (512 bonds on 256 PASIDs in TEARDOWN).
 *
 * Benchmarks (each walks a 2^14-long random sequence over its population, one index an op):
 *   faultAttributed    a live bond: seq-validated read of the PASID entry with the device's driver-data cell
 *                      inside the window -> ATTRIBUTED with owner, address space, generation and driver data.
 *   faultSuppressed    a PASID in TEARDOWN -> SUPPRESSED; counted twice atomically (the entry's counter and one
 *                      stripe of the space's striped total).
 *   faultUnknownPasid  a PASID next to a live one (pasid ^ 1, same 64-entry table leaf, never allocated): the leaf
 *                      exists, so this is the full seq-validated read, not the no-leaf shortcut -> UNKNOWN_PASID.
 *   fault*TwoThreads   @Group of 2 threads doing the same: attributed ones share nothing written; suppressed ones
 *                      count on their own stripes of the space's total (unless the thread-id hash puts both on
 *                      one stripe), and contend on an entry's counter when both hit the same PASID.
 * @AuxCounters misattributed: reports whose kind was not the expected one (must stay 0).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class PasidSpaceFaultBenchmark
{
    static final int SEQUENCE_LENGTH = 1 << 14;
    static final int SEQUENCE_MASK = SEQUENCE_LENGTH - 1;

    private PasidSpace space;
    private final int[] attributedPasids = new int[SEQUENCE_LENGTH];
    private final int[] attributedRids = new int[SEQUENCE_LENGTH];
    private final int[] suppressedPasids = new int[SEQUENCE_LENGTH];
    private final int[] suppressedRids = new int[SEQUENCE_LENGTH];
    private final int[] unknownPasids = new int[SEQUENCE_LENGTH];
    private final int[] unknownRids = new int[SEQUENCE_LENGTH];

    @Setup(Level.Trial)
    public void setUp()
    {
        final PasidSpaceLookupBenchmark.BondSet bonds =
            PasidSpaceLookupBenchmark.BondSet.create(PasidSpaceLookupBenchmark.SEED, 512, 2, 256, true);
        space = bonds.space;
        final SplittableRandom random = new SplittableRandom(PasidSpaceLookupBenchmark.SEED ^ 0xFA17L);
        final FaultAttribution check = new FaultAttribution();
        for (int i = 0; i < SEQUENCE_LENGTH; i++)
        {
            final int live = random.nextInt(bonds.size());
            attributedPasids[i] = bonds.pasids[live];
            attributedRids[i] = bonds.rids[live];
            expect(FaultAttribution.Kind.ATTRIBUTED, attributedRids[i], attributedPasids[i], check);
            if (check.driverData() != bonds.data[live])
            {
                throw new IllegalStateException("fault attributed to " + check.driverData() + ", expected " +
                    bonds.data[live]);
            }

            final int exited = random.nextInt(bonds.teardownPasids.length);
            suppressedPasids[i] = bonds.teardownPasids[exited];
            suppressedRids[i] = bonds.teardownRids[exited];
            expect(FaultAttribution.Kind.SUPPRESSED, suppressedRids[i], suppressedPasids[i], check);

            int neighbour = random.nextInt(bonds.size());
            while (0 == (bonds.pasids[neighbour] ^ 1) ||
                FaultAttribution.Kind.UNKNOWN_PASID !=
                    space.reportFault(bonds.rids[neighbour], bonds.pasids[neighbour] ^ 1, 0, check).kind())
            {
                neighbour = random.nextInt(bonds.size());
            }
            unknownPasids[i] = bonds.pasids[neighbour] ^ 1;
            unknownRids[i] = bonds.rids[neighbour];
        }
    }

    private void expect(final FaultAttribution.Kind kind, final int rid, final int pasid, final FaultAttribution into)
    {
        if (kind != space.reportFault(rid, pasid, 0, into).kind())
        {
            throw new IllegalStateException("setup: " + into + ", expected " + kind);
        }
    }

    /** One thread's position in the sequences and its reusable result. */
    @State(Scope.Thread)
    public static class Cursor
    {
        final FaultAttribution into = new FaultAttribution();
        int next;

        @Setup(Level.Trial)
        public void setUp(final ThreadParams threads)
        {
            next = threads.getThreadIndex() * (SEQUENCE_LENGTH / Math.max(1, threads.getThreadCount()));
        }
    }

    /** Reports of an unexpected kind (must stay 0). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters
    {
        public long misattributed;

        @Setup(Level.Iteration)
        public void reset()
        {
            misattributed = 0;
        }
    }

    private FaultAttribution attributed(final Cursor cursor, final Counters counters)
    {
        final int i = cursor.next++ & SEQUENCE_MASK;
        final FaultAttribution result =
            space.reportFault(attributedRids[i], attributedPasids[i], (long)i << 12, cursor.into);
        if (FaultAttribution.Kind.ATTRIBUTED != result.kind())
        {
            counters.misattributed++;
        }
        return result;
    }

    private FaultAttribution suppressed(final Cursor cursor, final Counters counters)
    {
        final int i = cursor.next++ & SEQUENCE_MASK;
        final FaultAttribution result =
            space.reportFault(suppressedRids[i], suppressedPasids[i], (long)i << 12, cursor.into);
        if (FaultAttribution.Kind.SUPPRESSED != result.kind())
        {
            counters.misattributed++;
        }
        return result;
    }

    @Benchmark
    @Threads(1)
    public FaultAttribution faultAttributed(final Cursor cursor, final Counters counters)
    {
        return attributed(cursor, counters);
    }

    @Benchmark
    @Threads(1)
    public FaultAttribution faultSuppressed(final Cursor cursor, final Counters counters)
    {
        return suppressed(cursor, counters);
    }

    @Benchmark
    @Threads(1)
    public FaultAttribution faultUnknownPasid(final Cursor cursor, final Counters counters)
    {
        final int i = cursor.next++ & SEQUENCE_MASK;
        final FaultAttribution result =
            space.reportFault(unknownRids[i], unknownPasids[i], (long)i << 12, cursor.into);
        if (FaultAttribution.Kind.UNKNOWN_PASID != result.kind())
        {
            counters.misattributed++;
        }
        return result;
    }

    @Benchmark
    @Group("faultAttributedTwoThreads")
    @GroupThreads(2)
    public FaultAttribution faultAttributedTwoThreads(final Cursor cursor, final Counters counters)
    {
        return attributed(cursor, counters);
    }

    @Benchmark
    @Group("faultSuppressedTwoThreads")
    @GroupThreads(2)
    public FaultAttribution faultSuppressedTwoThreads(final Cursor cursor, final Counters counters)
    {
        return suppressed(cursor, counters);
    }
}
