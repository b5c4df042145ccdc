/*
 * Run (after `./mvnw -B -ntp -pl bench -am package -DskipTests -Djcstress.skip=true`):
 *
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidAllocatorFullRangeBenchmark \
 *       -prof gc -foe true -rf json -rff full.json
 *
 * Read the sample percentiles (p0.999 must stay under 50 us for pasidkit) and gc.alloc.rate.norm (0 B/op).
 */
package org.pasidkit.allocator;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.pasidkit.bench.baseline.Baselines;

/**
 * Allocation latency with the range almost full: all of {@code 1 .. 2^20 - 1} is in use except {@code freeIds} ids
 * scattered at random over the bitmap ({@code 105} = 99.99% full; {@code 1} = the last id).
 *
 * <p>One op = free one random id that is in use, then allocate: the free pool keeps its size and stays scattered.
 * The benchmark thread owns no cache stripe (stripes = 1, leased by an idle thread that holds a few cached ids), so
 * every pasidkit allocate is a cache miss: a bitmap search from the thread's hint and, when that finds nothing, the
 * exhaustion scan over the idle thread's ring. This is pasidkit's worst case, not its common one; with a stripe, the
 * freed id would come straight back from the thread's ring.</p>
 *
 * <p>Impls: {@code pasidkit} ({@link PasidAllocator.Builder#immediateReuse()}) and the bitmap baselines that never
 * strand ids ({@code sbitmap}, {@code atomic-bitmap}, {@code locked-bitset}), doing the same ops.</p>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
@State(Scope.Thread)
public class PasidAllocatorFullRangeBenchmark
{
    static final int MAX_ID = PasidAllocator.DEFAULT_MAX_ID;

    @Param({"pasidkit", "sbitmap", "atomic-bitmap", "locked-bitset"})
    public String impl;

    /** Ids left free: 105 of 2^20 - 1 is 99.99% full; 1 is the last id. */
    @Param({"105", "1"})
    public int freeIds;

    private IdAllocator allocator;
    private Thread idleLessee;
    private volatile boolean stop;
    /** Every id in use, once each; an op frees one at a random index and stores the newly allocated id there. */
    private int[] inUse;
    private int inUseCount;
    private long random = 0x9E3779B97F4A7C15L;
    private long failures;

    /** This thread's host probe (HostProbe): after each iteration, outside its measured time. */
    private final org.pasidkit.bench.HostProbe hostProbe = new org.pasidkit.bench.HostProbe();

    @TearDown(Level.Iteration)
    public void probeHost()
    {
        hostProbe.record();
    }

    @Setup(Level.Trial)
    public void fill() throws InterruptedException
    {
        if ("pasidkit".equals(impl))
        {
            final PasidAllocator pasidkit = PasidAllocator.builder().immediateReuse().stripes(1).build();
            // An idle thread leases the only stripe and keeps a few ids cached, so this thread has no stripe.
            final java.util.concurrent.CountDownLatch leased = new java.util.concurrent.CountDownLatch(1);
            idleLessee = new Thread(() ->
            {
                final int id = pasidkit.allocate();
                pasidkit.free(id);
                leased.countDown();
                while (!stop)
                {
                    LockSupport.parkNanos(1_000_000L);
                }
            }, "idle-lessee");
            idleLessee.setDaemon(true);
            idleLessee.start();
            leased.await();
            allocator = pasidkit;
        }
        else
        {
            allocator = Baselines.create(impl, PasidAllocator.DEFAULT_MIN_ID, MAX_ID);
        }
        inUse = new int[MAX_ID];
        int n = 0;
        for (int id = allocator.allocate(); id > 0; id = allocator.allocate())
        {
            inUse[n++] = id;
        }
        // pasidkit: the last ids handed out above were stolen from the idle lessee's ring (no stranding).
        if (n != MAX_ID)
        {
            throw new IllegalStateException(impl + " handed out " + n + " of " + MAX_ID + " ids");
        }
        // Free freeIds random ones: they land scattered in the bitmap (this thread has no pasidkit stripe).
        inUseCount = n;
        for (int i = 0; i < freeIds; i++)
        {
            final int index = nextIndex();
            allocator.free(inUse[index]);
            inUse[index] = inUse[--inUseCount];
        }
    }

    @TearDown(Level.Trial)
    public void stopLessee() throws InterruptedException
    {
        stop = true;
        if (null != idleLessee)
        {
            idleLessee.join();
        }
        if (failures > 0)
        {
            throw new IllegalStateException(impl + ": " + failures + " allocations failed with ids free");
        }
    }

    @Benchmark
    public int freeRandomThenAllocate()
    {
        final int index = nextIndex();
        allocator.free(inUse[index]);
        final int id = allocator.allocate();
        if (id <= 0)
        {
            failures++;
            return id;
        }
        inUse[index] = id;
        return id;
    }

    private int nextIndex()
    {
        long x = random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        random = x;
        return (int)((x >>> 1) % inUseCount);
    }
}
