/*
 * Run (after `mvn -B -ntp -pl bench -am package -DskipTests`; the jar's Main-Class is the pasidkit CLI, so name
 * JMH's main class):
 *
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidAllocatorAllocFreeBenchmark \
 *       -prof gc -foe true -rf json -rff results.json
 *
 * One op = one allocate + one free. Read `gc.alloc.rate.norm` (B/op): pasidkit must show 0. The 4-thread runs
 * oversubscribe a 2-core machine; run on a quiet machine with at least 4 cores for scaling figures.
 * Smoke run (proves each case works, numbers are noise):
 *
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidAllocatorAllocFreeBenchmark \
 *       -f 1 -wi 1 -i 1 -w 1s -r 1s -prof gc -foe true
 */
package org.pasidkit.allocator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;
import org.pasidkit.bench.baseline.Baselines;

/**
 * Allocate + free throughput of pasidkit against the six baselines, over ids {@code 1 .. maxId} (2^20 - 1 unless
 * {@code -p maxId=N}).
 *
 * <ul>
 *   <li>{@code pairT1/T2/T4}: allocate one id, free it at once. A cache-based allocator turns this into a LIFO
 *       round trip through the same slot, the cheapest case it has.</li>
 *   <li>{@code windowT1/T2/T4}: allocate one id, free the one this thread allocated {@value #WINDOW} pairs ago:
 *       each thread holds {@value #WINDOW} ids, so a LIFO cannot hand back the id it just took.</li>
 *   <li>{@code cross} (group of 1 producer + 1 consumer): the producer allocates and passes the id through an
 *       SPSC ring of ints to the consumer, which frees it. Ids are freed on another thread than the one that
 *       allocated them (caches drain one way, the depot or bitmap carries them back). The ring is bounded and
 *       both sides wait on it, so in steady state {@code produce} and {@code consume} each run at the pair rate:
 *       their ns/op is the ns per pair (the group line averages the two).</li>
 * </ul>
 *
 * <p>Impls: {@code pasidkit} (no grace period, {@link PasidAllocator.Builder#immediateReuse()}), {@code
 * pasidkit-grace} (the default: epoch grace, no reader registered, reclaimed inline on the allocation slow path),
 * {@code pasidkit-grace-reader} (the same with one reader registered that never enters a critical section: its epoch
 * advances pay what a registered reader costs them, amortised over a stripe's retires),
 * and the baselines of {@link Baselines}. Default tuning for all: pasidkit's stripes = 4 x CPUs rounded up to a power
 * of two ({@link PasidAllocator#defaultStripes}), so pairT4 on 2 CPUs gives every thread a stripe; a thread beyond the
 * stripes bypasses the caches.</p>
 *
 * <p>Failures ({@code allocate} returning a sentinel) are counted in {@code allocFailures} (an
 * {@link AuxCounters} event count) and should stay 0: the range is far larger than what the threads hold.</p>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class PasidAllocatorAllocFreeBenchmark
{
    /** Ids a thread holds in the window workload (a power of two). */
    static final int WINDOW = 8;
    /** Ints in the cross-thread ring (a power of two). */
    static final int RING_CAPACITY = 1024;
    /** Failed ring attempts a side spins before it starts yielding. */
    static final int SPINS_BEFORE_YIELD = 256;

    @Param({"pasidkit", "pasidkit-grace", "pasidkit-grace-reader", "locked-bitset", "mpmc-queue", "clq",
        "atomic-bitmap", "sbitmap", "tl-magazine"})
    public String impl;

    /**
     * The range's last id ({@code [1, maxId]}): 2^20 - 1 in the quick suite; {@code -p maxId=512} is a narrow device's
     * range, where the default build has no per-CPU caches ({@link PasidAllocator#DIRECT_MAX_IDS},
     * {@link PasidAllocator#DIRECT_GRACE_MAX_IDS}).
     */
    @Param({"" + PasidAllocator.DEFAULT_MAX_ID})
    public int maxId;

    private IdAllocator allocator;
    /** Readers registered by {@code pasidkit-grace-reader} (kept reachable for the fork's life; they never enter). */
    static final java.util.List<EpochDomain.Reader> IDLE_READERS = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Setup(Level.Trial)
    public void createAllocator()
    {
        allocator = create(impl, maxId);
    }

    static IdAllocator create(final String impl)
    {
        return create(impl, PasidAllocator.DEFAULT_MAX_ID);
    }

    /**
     * Allocates {@code count} ids from {@code allocator} (the set-up of the held-set and "no id" benchmarks).
     *
     * @throws IllegalStateException naming the impl and the allocation if one answers a sentinel.
     */
    static int[] allocateAll(final IdAllocator allocator, final String impl, final int count)
    {
        final int[] ids = new int[count];
        for (int i = 0; i < count; i++)
        {
            final int id = allocator.allocate();
            if (id <= 0)
            {
                throw new IllegalStateException(impl + ": allocation " + i + " of " + count + " failed (" + id +
                    ") while filling the range");
            }
            ids[i] = id;
        }
        return ids;
    }

    /**
     * The allocator {@code impl} over {@code [1, maxId]}.
     *
     * @throws IllegalArgumentException if {@code maxId} is outside {@code [1, 2^20 - 1]} (naming the value).
     */
    static IdAllocator create(final String impl, final int maxId)
    {
        if (maxId < PasidAllocator.DEFAULT_MIN_ID || maxId > PasidAllocator.DEFAULT_MAX_ID)
        {
            throw new IllegalArgumentException("maxId " + maxId + " must be in [" + PasidAllocator.DEFAULT_MIN_ID +
                ", " + PasidAllocator.DEFAULT_MAX_ID + "]");
        }
        switch (impl)
        {
            case "pasidkit":
                return PasidAllocator.builder().range(PasidAllocator.DEFAULT_MIN_ID, maxId).immediateReuse().build();
            case "pasidkit-grace":
                return PasidAllocator.builder().range(PasidAllocator.DEFAULT_MIN_ID, maxId).build();
            case "pasidkit-grace-reader":
            {
                // NOTE: one reader registered and never entering: it holds nothing back, but an epoch advance must
                // then order itself against it (the heavy side of the asymmetric fence, where that is in use), so
                // this shows what the amortised advance leaves of that cost per pair.
                final PasidAllocator allocator =
                    PasidAllocator.builder().range(PasidAllocator.DEFAULT_MIN_ID, maxId).build();
                IDLE_READERS.add(allocator.epochDomain().register());
                return allocator;
            }
            default:
                return Baselines.create(impl, PasidAllocator.DEFAULT_MIN_ID, maxId);
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // allocate, free at once

    @Benchmark
    @Threads(1)
    public int pairT1(final Failures failures)
    {
        return pair(failures);
    }

    @Benchmark
    @Threads(2)
    public int pairT2(final Failures failures)
    {
        return pair(failures);
    }

    @Benchmark
    @Threads(4)
    public int pairT4(final Failures failures)
    {
        return pair(failures);
    }

    private int pair(final Failures failures)
    {
        final IdAllocator allocator = this.allocator;
        final int id = allocator.allocate();
        if (id > 0)
        {
            allocator.free(id);
        }
        else
        {
            failures.allocFailures++;
        }
        return id;
    }

    // ----------------------------------------------------------------------------------------------------------
    // allocate, free the one allocated WINDOW pairs ago

    @Benchmark
    @Threads(1)
    public int windowT1(final Window window, final Failures failures)
    {
        return window(window, failures);
    }

    @Benchmark
    @Threads(2)
    public int windowT2(final Window window, final Failures failures)
    {
        return window(window, failures);
    }

    @Benchmark
    @Threads(4)
    public int windowT4(final Window window, final Failures failures)
    {
        return window(window, failures);
    }

    private int window(final Window window, final Failures failures)
    {
        final IdAllocator allocator = this.allocator;
        final int id = allocator.allocate();
        if (id <= 0)
        {
            failures.allocFailures++;
            return id;
        }
        final int[] ids = window.ids;
        final int slot = window.next;
        window.next = (slot + 1) & (WINDOW - 1);
        final int old = ids[slot];
        ids[slot] = id;
        if (old > 0)
        {
            allocator.free(old);
        }
        return id;
    }

    // ----------------------------------------------------------------------------------------------------------
    // cross-thread: allocate on one thread, free on another

    @Benchmark
    @Group("cross")
    @GroupThreads(1)
    public void produce(final CrossRing cross, final Failures failures, final Control control)
    {
        final int id = allocator.allocate();
        if (id <= 0)
        {
            failures.allocFailures++;
            return;
        }
        final IntSpscRing ring = cross.ring;
        int waits = 0;
        while (!ring.offer(id))
        {
            if (control.stopMeasurement)
            {
                // the consumer may have left already: give the id back here
                allocator.free(id);
                return;
            }
            waits = backOff(waits);
        }
    }

    @Benchmark
    @Group("cross")
    @GroupThreads(1)
    public void consume(final CrossRing cross, final Control control)
    {
        final IntSpscRing ring = cross.ring;
        int id;
        int waits = 0;
        while (0 == (id = ring.poll()))
        {
            if (control.stopMeasurement)
            {
                return;
            }
            waits = backOff(waits);
        }
        allocator.free(id);
    }

    /**
     * Spin, then yield: when the other side of the ring is not running (more runnable threads than cores), a pure
     * spin would burn the rest of the time slice and the score would measure the scheduler. On a machine with a
     * core per thread the yield is rarely reached.
     */
    static int backOff(final int waits)
    {
        if (waits < SPINS_BEFORE_YIELD)
        {
            Thread.onSpinWait();
        }
        else
        {
            Thread.yield();
        }
        return waits + 1;
    }

    // ----------------------------------------------------------------------------------------------------------
    // states

    /**
     * Per-thread failure count, reported as the {@code allocFailures} secondary result. Padded before by
     * inheritance; after, by the padding subclass JMH generates ({@code _jmhType_B1}, 256 bytes). The counter must
     * be declared here, not inherited: JMH reports only the public fields the {@link AuxCounters} class declares.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Failures extends FailuresPadding
    {
        public long allocFailures;
        /** This thread's host probe (not a counter: JMH reports only public fields). */
        private final org.pasidkit.bench.HostProbe hostProbe = new org.pasidkit.bench.HostProbe();

        @Setup(Level.Iteration)
        public void reset()
        {
            allocFailures = 0;
        }

        /** After each iteration, outside its measured time: the state of the vCPU this thread ran on (HostProbe). */
        @TearDown(Level.Iteration)
        public void probeHost()
        {
            hostProbe.record();
        }
    }

    /** Per-thread window of held ids. */
    @State(Scope.Thread)
    public static class Window extends WindowPadding2
    {
        @TearDown(Level.Trial)
        public void freeHeld(final PasidAllocatorAllocFreeBenchmark benchmark)
        {
            for (int i = 0; i < WINDOW; i++)
            {
                if (ids[i] > 0)
                {
                    benchmark.allocator.free(ids[i]);
                    ids[i] = 0;
                }
            }
        }
    }

    /** The ring between the producer and the consumer of one group. */
    @State(Scope.Group)
    public static class CrossRing
    {
        IntSpscRing ring;

        @Setup(Level.Trial)
        public void createRing()
        {
            ring = new IntSpscRing(RING_CAPACITY);
        }

        @TearDown(Level.Trial)
        public void drain(final PasidAllocatorAllocFreeBenchmark benchmark)
        {
            int id;
            while (0 != (id = ring.poll()))
            {
                benchmark.allocator.free(id);
            }
        }
    }

    /** 128 bytes before the failure counter. */
    abstract static class FailuresPadding
    {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    /** 128 bytes before the window's fields. */
    abstract static class WindowPadding1
    {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    /** Written on every op by the owning thread. */
    abstract static class WindowFields extends WindowPadding1
    {
        final int[] ids = new int[WINDOW];
        int next;
    }

    /** 128 bytes after the window's fields. */
    abstract static class WindowPadding2 extends WindowFields
    {
        long p16, p17, p18, p19, p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p30, p31;
    }

    // ----------------------------------------------------------------------------------------------------------
    // SPSC ring of ints

    /**
     * A bounded single-producer single-consumer ring of positive ints on an {@code int[]}: no boxing, indices on
     * their own cache lines (Lamport queue with cached indices, as JCTools {@code SpscArrayQueue}).
     *
     * <ul>
     *   <li>Threading: one thread calls {@link #offer}, one other thread calls {@link #poll}.</li>
     *   <li>Progress: both wait-free.</li>
     *   <li>Linearization: offer at its release store of {@code tail}; poll at its release store of
     *       {@code head}.</li>
     * </ul>
     */
    static final class IntSpscRing extends IntSpscRingPadding3
    {
        private static final VarHandle TAIL;
        private static final VarHandle HEAD;

        static
        {
            try
            {
                final MethodHandles.Lookup lookup = MethodHandles.lookup();
                TAIL = lookup.findVarHandle(IntSpscRingProducerFields.class, "tail", long.class);
                HEAD = lookup.findVarHandle(IntSpscRingConsumerFields.class, "head", long.class);
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new ExceptionInInitializerError(ex);
            }
        }

        private final int[] buffer;
        private final int mask;

        IntSpscRing(final int capacity)
        {
            if (capacity < 2 || 0 != (capacity & (capacity - 1)))
            {
                throw new IllegalArgumentException("ring capacity " + capacity + " must be a power of two >= 2");
            }
            this.buffer = new int[capacity];
            this.mask = capacity - 1;
        }

        /** Producer only: appends {@code value} ({@code > 0}); false if the ring is full. */
        boolean offer(final int value)
        {
            final long tail = this.tail;
            if (tail - headCache >= buffer.length)
            {
                headCache = (long)HEAD.getAcquire(this);
                if (tail - headCache >= buffer.length)
                {
                    return false;
                }
            }
            buffer[(int)tail & mask] = value;
            // NOTE: release store, read by poll via TAIL.getAcquire: the slot's plain store happens before.
            TAIL.setRelease(this, tail + 1);
            return true;
        }

        /** Consumer only: takes the oldest value, or 0 if the ring is empty. */
        int poll()
        {
            final long head = this.head;
            if (head >= tailCache)
            {
                tailCache = (long)TAIL.getAcquire(this);
                if (head >= tailCache)
                {
                    return 0;
                }
            }
            final int value = buffer[(int)head & mask];
            // NOTE: release store, read by offer via HEAD.getAcquire: the slot's read happens before its reuse.
            HEAD.setRelease(this, head + 1);
            return value;
        }
    }

    /** 128 bytes before the producer's fields. */
    abstract static class IntSpscRingPadding1
    {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    /** Producer's fields: {@code tail} written by the producer (release), {@code headCache} producer-only. */
    abstract static class IntSpscRingProducerFields extends IntSpscRingPadding1
    {
        long tail;
        long headCache;
    }

    /** 128 bytes between the producer's and the consumer's fields. */
    abstract static class IntSpscRingPadding2 extends IntSpscRingProducerFields
    {
        long p16, p17, p18, p19, p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p30, p31;
    }

    /** Consumer's fields: {@code head} written by the consumer (release), {@code tailCache} consumer-only. */
    abstract static class IntSpscRingConsumerFields extends IntSpscRingPadding2
    {
        long head;
        long tailCache;
    }

    /** 128 bytes after the consumer's fields. */
    abstract static class IntSpscRingPadding3 extends IntSpscRingConsumerFields
    {
        long p32, p33, p34, p35, p36, p37, p38, p39, p40, p41, p42, p43, p44, p45, p46, p47;
    }
}
