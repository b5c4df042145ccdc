package org.pasidkit.tables;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.pasidkit.allocator.EpochDomain;

/*
 * The driver-data lookup inside an epoch critical section: reader.enter(); space.driverData(pasid, rid);
 * reader.exit(), against the bare lookup on the same bonds and access sequence (the baseline), one thread. The reader
 * is registered on the space's own EpochDomain. Issue 13's target: enter + lookup + exit <= 5 ns on the membarrier
 * path.
 *
 * Run:
 *   ./mvnw -B -ntp -q -pl bench -am package -DskipTests -Djcstress.skip=true
 *   java -Djmh.ignoreLock=true -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceEpochLookupBenchmark \
 *       -prof gc -foe true
 * The fenced path in the same session: add -jvmArgsPrepend -Dpasidkit.fence=fenced.
 *
 * Data set: PasidSpaceLookupBenchmark's BondSet, dense layout (512 address spaces, 2 devices each, PASIDs as the
 * allocator hands them out); the access sequence is 2^14 seeded random picks among the 1024 bonds.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class PasidSpaceEpochLookupBenchmark
{
    static final int SEQUENCE_LENGTH = 1 << 14;
    static final int SEQUENCE_MASK = SEQUENCE_LENGTH - 1;
    static final long SEED = 0x9A51DL;

    PasidSpace space;
    int[] pasids;
    int[] rids;

    @Setup(Level.Trial)
    public void setUp()
    {
        final PasidSpaceLookupBenchmark.BondSet bonds = PasidSpaceLookupBenchmark.BondSet.create(SEED, 512, 2, 0,
            false);
        space = bonds.space;
        final SplittableRandom random = new SplittableRandom(SEED ^ 0x5E9L);
        pasids = new int[SEQUENCE_LENGTH];
        rids = new int[SEQUENCE_LENGTH];
        for (int i = 0; i < SEQUENCE_LENGTH; i++)
        {
            final int bond = random.nextInt(bonds.size());
            pasids[i] = bonds.pasids[bond];
            rids[i] = bonds.rids[bond];
            if (space.driverData(pasids[i], rids[i]) != bonds.data[bond])
            {
                throw new IllegalStateException("lookup of (PASID " + pasids[i] + ", rid " + rids[i] + ") is wrong");
            }
        }
    }

    /** Keeps a thread's hot fields off the lines of whatever JMH or the heap put before them. */
    abstract static class ThreadPadding1
    {
        long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;
    }

    /** The thread's hot fields: its reader and its cursor in the access sequence. */
    abstract static class ThreadFields extends ThreadPadding1
    {
        EpochDomain.Reader reader;
        int next;
    }

    /** Keeps the hot fields off the lines of whatever follows them. */
    abstract static class ThreadPadding2 extends ThreadFields
    {
        long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;
    }

    /** One reader per benchmark thread, registered by that thread on the space's epoch domain. */
    @State(Scope.Thread)
    public static class ThreadState extends ThreadPadding2
    {
        @Setup(Level.Trial)
        public void setUp(final PasidSpaceEpochLookupBenchmark bench)
        {
            reader = bench.space.epochDomain().register();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            reader.close();
        }
    }

    /** Baseline: the lookup alone. */
    @Benchmark
    @Threads(1)
    public Object lookup(final ThreadState state)
    {
        final int i = state.next++ & SEQUENCE_MASK;
        return space.driverData(pasids[i], rids[i]);
    }

    /** The lookup inside a critical section of the space's epoch domain. */
    @Benchmark
    @Threads(1)
    public Object enterLookupExit(final ThreadState state)
    {
        final int i = state.next++ & SEQUENCE_MASK;
        final EpochDomain.Reader reader = state.reader;
        reader.enter();
        final Object data = space.driverData(pasids[i], rids[i]);
        reader.exit();
        return data;
    }
}
