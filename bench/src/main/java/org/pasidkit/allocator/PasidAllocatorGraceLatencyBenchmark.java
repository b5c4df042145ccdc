/*
 * Run (full):
 *   cd /work/wt-reclaimbench && mvn -B -ntp -pl bench -am package -DskipTests
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidAllocatorGraceLatencyBenchmark \
 *       -prof gc -prof 'org.pasidkit.allocator.PasidAllocatorGraceLatencyBenchmark$Percentiles' \
 *       -foe true -rf json -rff bench/results/grace-latency.json
 * Smoke (shared 2-core machine): add -f 1 -wi 1 -i 2 -w 1s -r 1s
 *
 * Target (project issue): grace latency (last free of an id -> the id reusable), median <= 10 us with 2 active
 * reader threads; median and p99 recorded with HdrHistogram for 0, 1 and 2 reader threads.
 * Needs readers + 1 free cores to mean anything: with 2 readers on a 2-core machine one of the three busy threads is
 * always descheduled, and a reader descheduled while pinned stops the epoch until the scheduler runs it again
 * (milliseconds): that shows in the tail and in the time-weighted figures of the report.
 */
package org.pasidkit.allocator;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
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
import org.openjdk.jmh.runner.IterationType;

/**
 * Grace latency: how long an id stays unusable after its last {@link PasidAllocator#free}, with 0, 1 or 2 reader
 * threads looping {@code enter(); exit();} on the allocator's {@link EpochDomain} meanwhile.
 *
 * <h2>What is measured, exactly</h2>
 * One op, on one measuring thread that is also the only reclaimer:
 * <ol>
 *   <li>{@code t0 = nanoTime()}; {@code free(id)} (the id, in use, is retired: {@code IN_USE -> RETIRED}, queued
 *       stamped with the current epoch {@code e}).</li>
 *   <li>Loop {@code reclaim()} until {@code stateOf(id)} is no longer {@link IdState#RETIRED}; {@code t1 = nanoTime()}.
 *       Leaving RETIRED is the moment the id is back in the measuring thread's cache ring ({@code CACHED}) or the
 *       bitmap ({@code FREE}): any {@code allocate} may hand it out from then on. That needs two epoch advances
 *       ({@code e -> e + 1 -> e + 2}), and each advance needs every pinned reader to have pinned the current epoch.
 *       {@code t1 - t0} goes into an HdrHistogram (3 significant digits).</li>
 *   <li>{@code reserve(id)} takes the same id back ({@code CACHED -> IN_USE}) for the next op (not timed).</li>
 * </ol>
 * The queue holds only this id, so nothing ahead of it in FIFO order adds to its wait: this is the grace alone, not
 * a queue position (waiting for {@code allocate()} to return the same id again would measure the queue, and in a
 * small range the ids retired before it). The reclaimer spins, so the figure is the epoch protocol's latency plus
 * reclaim passes: a reclaimer that idles between passes (a {@link ReclaimAgent} with a back-off idle strategy, or
 * reclaim only on the allocation slow path) adds its idle time on top.
 *
 * <h2>Outputs</h2>
 * <ul>
 *   <li>The JMH score: the mean time of one whole op (free + wait + reserve).</li>
 *   <li>With {@code -prof 'org.pasidkit.allocator.PasidAllocatorGraceLatencyBenchmark$Percentiles'}: secondary
 *       results {@code grace.p50}, {@code grace.p99}, {@code grace.p99.9} (ns, each iteration's HdrHistogram
 *       percentile, averaged over iterations) and {@code grace.max}.</li>
 *   <li>Printed at the end of each trial ({@code [grace]} lines): the percentiles of every measurement iteration
 *       pooled, the mean reclaim passes per op, the readers' critical sections per second (proof that they ran),
 *       and a time-weighted view (below).</li>
 * </ul>
 * Ops are issued back to back, so during a long stall (a reader descheduled while pinned) only one sample is
 * taken, and in fast periods many: the percentiles are per free as issued here. A free issued at a random instant
 * meets a stall with the stall's share of the time, so the report also gives the time-weighted median and the share
 * of the wait time spent in waits over 10 us; when they disagree with the per-op median, the per-op figure flatters.
 *
 * <h2>Allocation</h2>
 * The op allocates nothing. The trial's set-up and report (histograms, the printed summary) run inside the first
 * and last iterations' windows of {@code -prof gc}, so with few ops per iteration {@code gc.alloc.rate.norm} shows
 * their fixed bytes spread over the ops; compare {@code gc.alloc.rate} (MB/s) with the other benchmarks' floor.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 10, time = 2, timeUnit = TimeUnit.SECONDS)
@Threads(1)
public class PasidAllocatorGraceLatencyBenchmark
{
    /** Largest latency the histograms track; longer waits are recorded as this (and the op fails past it). */
    static final long HIGHEST_TRACKABLE_NS = TimeUnit.SECONDS.toNanos(10);
    /** A wait longer than this is a stuck epoch, not a latency: the op throws. */
    static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    /** The target's bound on the median, for the time-weighted share in the trial report. */
    static final long TEN_US_NS = TimeUnit.MICROSECONDS.toNanos(10);

    /** Keeps a reader's hot fields off the lines of whatever the heap put before them. */
    abstract static class ReaderLoopPadding1
    {
        long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;
    }

    /** A reader's fields: the stop flag is written once (by the trial teardown), the count once (by the reader). */
    abstract static class ReaderLoopFields extends ReaderLoopPadding1
    {
        EpochDomain domain;
        CountDownLatch registered;
        volatile boolean stop;
        long sections;
        long elapsedNs;
    }

    /** Keeps a reader's hot fields off the lines of whatever follows them. */
    abstract static class ReaderLoopPadding2 extends ReaderLoopFields
    {
        long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;
    }

    /**
     * A reader thread's loop: registers its own {@link EpochDomain.Reader} (in its own TLAB), then enters and exits
     * critical sections until told to stop. {@code sections} and {@code elapsedNs} are plain fields written once at
     * the end and read after {@link Thread#join} (which orders them).
     */
    static final class ReaderLoop extends ReaderLoopPadding2 implements Runnable
    {
        ReaderLoop(final EpochDomain domain, final CountDownLatch registered)
        {
            this.domain = domain;
            this.registered = registered;
        }

        @Override
        public void run()
        {
            final EpochDomain.Reader reader = domain.register();
            registered.countDown();
            final long startNs = System.nanoTime();
            long n = 0;
            try
            {
                while (!stop)
                {
                    reader.enter();
                    reader.exit();
                    n++;
                }
            }
            finally
            {
                elapsedNs = System.nanoTime() - startNs;
                sections = n;
                reader.close();
            }
        }
    }

    /** The allocator, the id cycled through free -> reusable -> reserve, and the reader threads. */
    @State(Scope.Thread)
    public static class Rig
    {
        @Param({"0", "1", "2"})
        public int readers;

        PasidAllocator allocator;
        int id;
        ReaderLoop[] loops;
        Thread[] threads;
        long reclaimPasses;
        long ops;

        @Setup(Level.Trial)
        public void setup() throws InterruptedException
        {
            allocator = PasidAllocator.builder().build();
            // NOTE: allocated on the measuring thread (Scope.Thread setup runs there), so this thread leases a cache
            // stripe and reclaim() moves the id into its ring, as inline reclaim on the allocation slow path does.
            id = allocator.allocate();
            if (id <= 0)
            {
                throw new IllegalStateException("allocate() returned " + id + " on a fresh allocator");
            }
            loops = new ReaderLoop[readers];
            threads = new Thread[readers];
            final CountDownLatch registered = new CountDownLatch(readers);
            for (int i = 0; i < readers; i++)
            {
                loops[i] = new ReaderLoop(allocator.epochDomain(), registered);
                threads[i] = new Thread(loops[i], "grace-reader-" + i);
                threads[i].setDaemon(true);
                threads[i].start();
            }
            if (!registered.await(10, TimeUnit.SECONDS))
            {
                throw new IllegalStateException("reader threads did not register within 10 s");
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException
        {
            double sectionsPerSecond = 0;
            for (int i = 0; i < readers; i++)
            {
                loops[i].stop = true;
                threads[i].join(TimeUnit.SECONDS.toMillis(10));
                if (threads[i].isAlive())
                {
                    throw new IllegalStateException("reader thread " + i + " did not stop within 10 s");
                }
                sectionsPerSecond += loops[i].sections * 1e9 / Math.max(1, loops[i].elapsedNs);
            }
            System.out.print(String.format("%n[grace] readers=%d: %.3f reclaim passes per op over %d ops; readers' " +
                "critical sections: %.1f M/s in total%n", readers, (double)reclaimPasses / Math.max(1, ops), ops,
                sectionsPerSecond / 1e6));
        }
    }

    /**
     * The grace-latency histograms: one per iteration (its percentiles go to {@link Percentiles}), and one of every
     * measurement iteration together (printed at the end of the trial).
     */
    @State(Scope.Thread)
    public static class Latency
    {
        final Histogram iteration = new Histogram(HIGHEST_TRACKABLE_NS, 3);
        final Histogram measured = new Histogram(HIGHEST_TRACKABLE_NS, 3);
        boolean measuring;

        @Setup(Level.Trial)
        public void setup()
        {
            // NOTE: formats the trial report once with dummy values, so the one-off class loading and set-up of
            // java.util.Formatter happen here (in the first warmup iteration) and not in the last measurement
            // iteration, whose gc.alloc.rate.norm would otherwise carry a few hundred KB of it.
            final String warm = formatReport("0", measured) + String.format("%n%d %.3f %d %.1f%n", 1, 1.0, 1L, 1.0);
            if (warm.isEmpty())
            {
                throw new AssertionError();
            }
            publishedIteration = false;
        }

        @Setup(Level.Iteration)
        public void startIteration(final IterationParams params)
        {
            iteration.reset();
            measuring = IterationType.MEASUREMENT == params.getType();
        }

        @TearDown(Level.Iteration)
        public void endIteration()
        {
            ITERATION_PERCENTILES_NS[0] = iteration.getValueAtPercentile(50.0);
            ITERATION_PERCENTILES_NS[1] = iteration.getValueAtPercentile(99.0);
            ITERATION_PERCENTILES_NS[2] = iteration.getValueAtPercentile(99.9);
            ITERATION_PERCENTILES_NS[3] = iteration.getMaxValue();
            // NOTE: volatile store, read by Percentiles.afterIteration (same JVM, later, on JMH's runner thread).
            publishedIteration = true;
            if (measuring)
            {
                measured.add(iteration);
            }
        }

        @TearDown(Level.Trial)
        public void report(final BenchmarkParams params)
        {
            System.out.print(formatReport(params.getParam("readers"), measured));
        }
    }

    static String formatReport(final String readers, final Histogram h)
    {
        // Time-weighted view: a free issued at a random instant (not right after the previous op ended, as here)
        // lands in a long wait with the probability of that wait's share of the time, not of the op count.
        final double totalNs = Math.max(1.0, h.getMean() * h.getTotalCount());
        double over10UsNs = 0;
        double cumulativeNs = 0;
        long timeWeightedP50Ns = 0;
        for (final HistogramIterationValue v : h.recordedValues())
        {
            final double ns = (double)v.getValueIteratedTo() * v.getCountAtValueIteratedTo();
            if (v.getValueIteratedTo() > TEN_US_NS)
            {
                over10UsNs += ns;
            }
            if (cumulativeNs < totalNs / 2 && cumulativeNs + ns >= totalNs / 2)
            {
                timeWeightedP50Ns = v.getValueIteratedTo();
            }
            cumulativeNs += ns;
        }
        return String.format("%n[grace] readers=%s, all measurement iterations: n=%d p50=%d ns p90=%d ns p99=%d ns " +
            "p99.9=%d ns p99.99=%d ns max=%d ns mean=%.0f ns; time-weighted p50=%d ns, share of wait time in waits " +
            "> 10 us: %.1f%%%n",
            readers, h.getTotalCount(), h.getValueAtPercentile(50.0), h.getValueAtPercentile(90.0),
            h.getValueAtPercentile(99.0), h.getValueAtPercentile(99.9), h.getValueAtPercentile(99.99),
            h.getMaxValue(), h.getMean(), timeWeightedP50Ns, 100.0 * over10UsNs / totalNs);
    }

    /** p50, p99, p99.9, max of the iteration just ended, in ns: written by Latency, read by Percentiles. */
    static final long[] ITERATION_PERCENTILES_NS = new long[4];
    static volatile boolean publishedIteration;

    /**
     * Reports each iteration's grace-latency percentiles as JMH secondary results averaged over iterations
     * ({@code grace.p50}, {@code grace.p99}, {@code grace.p99.9}; {@code grace.max} is the max over iterations).
     * {@code @AuxCounters} cannot do this: JMH sums their values over iterations. Enable with
     * {@code -prof 'org.pasidkit.allocator.PasidAllocatorGraceLatencyBenchmark$Percentiles'}.
     */
    public static final class Percentiles implements InternalProfiler
    {
        @Override
        public String getDescription()
        {
            return "grace latency percentiles (HdrHistogram) of each iteration of PasidAllocatorGraceLatencyBenchmark";
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
            if (!publishedIteration)
            {
                return List.of();
            }
            publishedIteration = false;
            final long[] p = ITERATION_PERCENTILES_NS;
            return List.of(
                new ScalarResult("grace.p50", p[0], "ns", AggregationPolicy.AVG),
                new ScalarResult("grace.p99", p[1], "ns", AggregationPolicy.AVG),
                new ScalarResult("grace.p99.9", p[2], "ns", AggregationPolicy.AVG),
                new ScalarResult("grace.max", p[3], "ns", AggregationPolicy.MAX));
        }
    }

    @Benchmark
    public long freeToReusable(final Rig rig, final Latency latency)
    {
        final PasidAllocator allocator = rig.allocator;
        final int id = rig.id;
        final long startNs = System.nanoTime();
        allocator.free(id);
        long passes = 0;
        while (IdState.RETIRED == allocator.stateOf(id))
        {
            allocator.reclaim();
            if ((++passes & 0x3FF) == 0 && System.nanoTime() - startNs > TIMEOUT_NS)
            {
                throw new IllegalStateException("id " + id + " still RETIRED after " + passes + " reclaim passes (" +
                    TIMEOUT_NS + " ns): epoch " + allocator.epochDomain().epoch() + ", readers holding it back " +
                    allocator.epochDomain().readersHoldingBack());
            }
        }
        final long graceNs = System.nanoTime() - startNs;
        latency.iteration.recordValue(Math.min(graceNs, HIGHEST_TRACKABLE_NS));
        rig.reclaimPasses += passes;
        rig.ops++;
        if (!allocator.reserve(id))
        {
            throw new IllegalStateException("id " + id + " left RETIRED but could not be reserved: state " +
                allocator.stateOf(id));
        }
        return graceNs;
    }
}
