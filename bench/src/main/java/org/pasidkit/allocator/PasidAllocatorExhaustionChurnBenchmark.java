/*
 * Run (after `./mvnw -B -ntp -pl allocator,tables,bench -am package -DskipTests -Djcstress.skip=true`):
 *
 *   java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidAllocatorExhaustionChurnBenchmark \
 *       -prof gc -prof 'org.pasidkit.allocator.PasidAllocatorExhaustionChurnBenchmark$Percentiles' \
 *       -foe true -rf json -rff churn.json
 *
 * Read ops/us (higher is better), exhausted.p99.9 (ns, lower is better) and gc.alloc.rate.norm (0 B/op).
 */
package org.pasidkit.allocator;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * Exhaustion churn: two threads allocate and free at random on a range of {@code range} ids ({@value #RANGE} by
 * default, a 9-bit PASID space; {@code -p range=N} runs another width), each holding up to three quarters of it, so
 * together they want more than there is: a large share of the allocations answer "no id"
 * ({@link IdAllocator#EXHAUSTED} or {@link IdAllocator#ALL_IN_GRACE}), the rest contend for the same few bitmap
 * words. A narrow device (9-bit PASIDs), a per-owner quota or a full VM host is in this state.
 *
 * <p>One op: with a thread holding nothing, an allocation; holding three quarters of the range, a free of a held id
 * picked at random; otherwise a free with probability 1/4, else an allocation, so each thread pushes towards its
 * limit and the range stays exhausted most of the time. Every allocation is timed ({@code nanoTime} before and after, the same cost
 * for every impl); the time of each one that answered "no id" goes into the thread's HdrHistogram. Results: the
 * primary score in ops/us (both threads together); {@code allocFailures} (answers "no id", an event count); with
 * {@code -prof 'org.pasidkit.allocator.PasidAllocatorExhaustionChurnBenchmark$Percentiles'}: {@code exhausted.p50},
 * {@code exhausted.p99}, {@code exhausted.p99.9} (ns, per iteration over both threads, averaged over iterations) and
 * {@code exhausted.max}.</p>
 *
 * <p>Impls: {@code pasidkit} (no grace period: for a range of up to {@link PasidAllocator#DIRECT_MAX_IDS} ids the
 * default build has no per-CPU caches, a versioned bitmap alone), {@code pasidkit-grace} (the default build: freed
 * ids wait out their grace period, no reader registered; up to {@link PasidAllocator#DIRECT_GRACE_MAX_IDS} ids
 * without caches) and the six baselines, each over {@code [1, range]}.</p>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 3, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(2)
@State(Scope.Benchmark)
public class PasidAllocatorExhaustionChurnBenchmark
{
    /** Ids in the default range: a 9-bit PASID space. */
    static final int RANGE = 512;
    /** Largest latency the histograms track (longer answers are recorded as this). */
    static final long HIGHEST_TRACKABLE_NS = TimeUnit.SECONDS.toNanos(1);

    @Param({"pasidkit", "pasidkit-grace", "locked-bitset", "mpmc-queue", "clq", "atomic-bitmap", "sbitmap",
        "tl-magazine"})
    public String impl;

    /** Ids in the range {@code [1, range]}: {@value #RANGE} in the quick suite. */
    @Param({"" + RANGE})
    public int range;

    IdAllocator allocator;
    /** Most ids one thread holds: three quarters of the range. */
    int maxHeld;

    @Setup(Level.Trial)
    public void createAllocator()
    {
        maxHeld = maxHeld(range);
        allocator = PasidAllocatorAllocFreeBenchmark.create(impl, range);
        synchronized (MERGED)
        {
            MERGED.reset();
        }
    }

    /**
     * Most ids one thread holds on a range of {@code range} ids: three quarters of it.
     *
     * @throws IllegalArgumentException unless {@code 4 <= range <= 2^20 - 1}.
     */
    static int maxHeld(final int range)
    {
        if (range < 4 || range > PasidAllocator.DEFAULT_MAX_ID)
        {
            throw new IllegalArgumentException("range " + range + " must be in [4, " + PasidAllocator.DEFAULT_MAX_ID +
                "]");
        }
        return range * 3 / 4;
    }

    @Benchmark
    public int churn(final Holder holder, final PasidAllocatorAllocFreeBenchmark.Failures failures)
    {
        long x = holder.random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        holder.random = x;
        final int count = holder.count;
        final int[] held = holder.held;
        if (maxHeld == count || (count > 0 && 0 == (x & 3)))
        {
            final int slot = (int)((x >>> 1) % count);
            final int id = held[slot];
            held[slot] = held[count - 1];
            holder.count = count - 1;
            allocator.free(id);
            return id;
        }
        final long startNs = System.nanoTime();
        final int id = allocator.allocate();
        if (id > 0)
        {
            held[count] = id;
            holder.count = count + 1;
            return id;
        }
        final long ns = System.nanoTime() - startNs;
        holder.exhausted.recordValue(Math.min(ns, HIGHEST_TRACKABLE_NS));
        failures.allocFailures++;
        return id;
    }

    /** 128 bytes before a holder's fields. */
    abstract static class HolderPadding1
    {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    /** A thread's held ids, its random state and its histogram of "no id" answers. */
    abstract static class HolderFields extends HolderPadding1
    {
        int[] held;
        final Histogram exhausted = new Histogram(HIGHEST_TRACKABLE_NS, 3);
        int count;
        long random;
    }

    /** 128 bytes after a holder's fields. */
    abstract static class HolderPadding2 extends HolderFields
    {
        long p16, p17, p18, p19, p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p30, p31;
    }

    /** Per-thread state: held ids, seeded differently for each thread. */
    @State(Scope.Thread)
    public static class Holder extends HolderPadding2
    {
        private static final java.util.concurrent.atomic.AtomicLong SEEDS = new java.util.concurrent.atomic.AtomicLong();

        @Setup(Level.Trial)
        public void seed(final PasidAllocatorExhaustionChurnBenchmark benchmark)
        {
            held = new int[maxHeld(benchmark.range)];
            random = 0x9E3779B97F4A7C15L * (1 + SEEDS.incrementAndGet());
        }

        @Setup(Level.Iteration)
        public void startIteration()
        {
            exhausted.reset();
        }

        /** Merges this thread's histogram into the iteration's (read by {@link Percentiles}). */
        @TearDown(Level.Iteration)
        public void endIteration()
        {
            synchronized (MERGED)
            {
                MERGED.add(exhausted);
                merges++;
            }
        }

        @TearDown(Level.Trial)
        public void freeHeld(final PasidAllocatorExhaustionChurnBenchmark benchmark)
        {
            for (int i = 0; i < count; i++)
            {
                benchmark.allocator.free(held[i]);
            }
            count = 0;
        }
    }

    /** Both threads' "no id" latencies of the iteration just ended: guarded by its own monitor. */
    static final Histogram MERGED = new Histogram(HIGHEST_TRACKABLE_NS, 3);
    /** Thread histograms merged into {@link #MERGED} since the last report; guarded by MERGED. */
    static int merges;

    /**
     * Reports each iteration's "no id" latency percentiles as JMH secondary results ({@code exhausted.p50},
     * {@code exhausted.p99}, {@code exhausted.p99.9}: averaged over iterations; {@code exhausted.max}: max).
     */
    public static final class Percentiles implements InternalProfiler
    {
        @Override
        public String getDescription()
        {
            return "latency percentiles (HdrHistogram) of the allocations that answered 'no id' in " +
                "PasidAllocatorExhaustionChurnBenchmark";
        }

        @Override
        public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
        {
        }

        @Override
        @SuppressWarnings("rawtypes") // the InternalProfiler signature uses the raw Result type
        public Collection<? extends Result> afterIteration(
            final BenchmarkParams benchmarkParams, final IterationParams iterationParams, final IterationResult result)
        {
            final double p50;
            final double p99;
            final double p999;
            final double max;
            synchronized (MERGED)
            {
                if (0 == merges || 0 == MERGED.getTotalCount())
                {
                    merges = 0;
                    MERGED.reset();
                    return List.of();
                }
                p50 = MERGED.getValueAtPercentile(50.0);
                p99 = MERGED.getValueAtPercentile(99.0);
                p999 = MERGED.getValueAtPercentile(99.9);
                max = MERGED.getMaxValue();
                merges = 0;
                MERGED.reset();
            }
            return List.of(
                new ScalarResult("exhausted.p50", p50, "ns", AggregationPolicy.AVG),
                new ScalarResult("exhausted.p99", p99, "ns", AggregationPolicy.AVG),
                new ScalarResult("exhausted.p99.9", p999, "ns", AggregationPolicy.AVG),
                new ScalarResult("exhausted.max", max, "ns", AggregationPolicy.MAX));
        }
    }
}
