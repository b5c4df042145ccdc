/*
 * Run (after `./mvnw -B -ntp -pl allocator,tables,bench -am package -DskipTests`):
 *
 *   java -Djmh.ignoreLock=true -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main \
 *       PasidAllocatorHeldSetBenchmark -prof gc -foe true
 */
package org.pasidkit.allocator;

import java.util.concurrent.TimeUnit;

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

/**
 * Allocate + free with a random set of ids held: {@code heldPercent} of {@code 1 .. maxId} (2^20 - 1 unless
 * {@code -p maxId=N}) is in use, chosen at random (every id allocated, then a seeded random subset freed). One op allocates an id, then frees a held id picked
 * at random and holds the new one in its place: the range stays as full as it was and the free ids stay scattered.
 * At {@code 0} nothing is held and an op frees the id it just allocated (the {@code pairT1} workload).
 *
 * <p>Impls: {@code pasidkit} ({@link PasidAllocator.Builder#immediateReuse()}, with its per-thread cache: a freed
 * id goes to the thread's ring and comes back from it), {@code pasidkit-grace} (the default build: a freed id waits out
 * its grace period in the thread's retire ring, then comes back through its cache ring) and the six baselines, one
 * thread. {@code allocFailures}
 * counts allocations that returned a sentinel (a baseline that strands ids may fail near full).</p>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
@State(Scope.Thread)
public class PasidAllocatorHeldSetBenchmark
{
    @Param({"pasidkit", "pasidkit-grace", "locked-bitset", "mpmc-queue", "clq", "atomic-bitmap", "sbitmap",
        "tl-magazine"})
    public String impl;

    /** Percent of the range held: 0, 50, 99, 99.99. */
    @Param({"0", "50", "99", "99.99"})
    public String heldPercent;

    /**
     * The range's last id ({@code [1, maxId]}): 2^20 - 1 in the quick suite. A smaller range shrinks what a random free
     * touches (pasidkit's state bytes: one per id, 1 MiB at 2^20, the size of this machine's L2), which separates
     * the cost of the layout from the cost of the algorithm.
     */
    @Param({"" + PasidAllocator.DEFAULT_MAX_ID})
    public int maxId;

    private IdAllocator allocator;
    private int[] held;
    private int heldCount;
    private long random = 0x9E3779B97F4A7C15L;

    @Setup(Level.Trial)
    public void fill()
    {
        allocator = PasidAllocatorAllocFreeBenchmark.create(impl, maxId);
        final int capacity = maxId - PasidAllocator.DEFAULT_MIN_ID + 1;
        final int[] all = PasidAllocatorAllocFreeBenchmark.allocateAll(allocator, impl, capacity);
        // A seeded Fisher-Yates shuffle: the first heldCount ids stay held, the rest are freed.
        final java.util.SplittableRandom shuffle = new java.util.SplittableRandom(42);
        for (int i = capacity - 1; i > 0; i--)
        {
            final int j = shuffle.nextInt(i + 1);
            final int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        heldCount = (int)Math.round(capacity * Double.parseDouble(heldPercent) / 100.0);
        for (int i = heldCount; i < capacity; i++)
        {
            allocator.free(all[i]);
        }
        held = java.util.Arrays.copyOf(all, Math.max(1, heldCount));
    }

    @TearDown(Level.Trial)
    public void release()
    {
        for (int i = 0; i < heldCount; i++)
        {
            allocator.free(held[i]);
        }
    }

    @Benchmark
    public int allocateFreeRandomHeld(final PasidAllocatorAllocFreeBenchmark.Failures failures)
    {
        final IdAllocator allocator = this.allocator;
        final int id = allocator.allocate();
        if (id <= 0)
        {
            failures.allocFailures++;
            return id;
        }
        if (0 == heldCount)
        {
            allocator.free(id);
            return id;
        }
        long x = random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        random = x;
        final int slot = (int)((x >>> 1) % heldCount);
        final int old = held[slot];
        held[slot] = id;
        allocator.free(old);
        return id;
    }
}
