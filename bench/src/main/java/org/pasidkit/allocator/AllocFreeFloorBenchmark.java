/*
 * Run (after `./mvnw -B -ntp -pl allocator,tables,bench -am package -DskipTests`):
 *
 *   java -Djmh.ignoreLock=true -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main AllocFreeFloorBenchmark \
 *       -prof gc -foe true
 *
 * Compare with PasidAllocatorAllocFreeBenchmark in the same run (./pasidkit bench runs both).
 */
package org.pasidkit.allocator;

import java.util.concurrent.TimeUnit;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

/**
 * Floors of the allocate+free figures of {@link PasidAllocatorAllocFreeBenchmark}, measured in the same run: what
 * no allocator that keeps the issues' rules can beat on this machine. They are not allocators and hand nothing out.
 *
 * <ul>
 *   <li>{@code casPairT1}, {@code casPairT2}: two compare-and-sets of one off-heap byte per pair, each thread on its
 *       own cache line (uncontended), and nothing else. An allocate that must not hand an id to two threads and a
 *       free that must reject a racing double free are both strongly non-commutative operations; a linearizable
 *       implementation needs an atomic read-modify-write or a store-load fence in each (Attiya et al., "Laws of
 *       Order", POPL 2011), and both cost about one CAS here. So this is the floor of any allocator that never
 *       strands ids and catches every double free with symmetric fences: pasidkit's fenced mode does these two
 *       atomics per pair (a cache hit's store-load fence, the free's CAS), plus its cache bookkeeping.</li>
 *   <li>{@code storeCasPairT1}, {@code storeCasPairT2}: the asymmetric path's floor (issue 13): allocate's plain
 *       store of {@code IN_USE} (an owner's pop from its own stripe, no atomic: a thief pays the heavy barrier
 *       instead) and free's CAS {@code IN_USE -> CACHED}, which issue 13 keeps (a racing double free is between two
 *       light sides: no asymmetric fence arbitrates it). One atomic per pair and nothing else: pasidkit's cache hit
 *       in the membarrier mode does exactly these, plus its ring and stripe bookkeeping, with or without a grace
 *       period (with one the free's CAS goes to {@code RETIRED}).</li>
 *   <li>{@code protocolPairT1}, {@code protocolPairT2}: every memory access of pasidkit's cache-hit pair in the
 *       membarrier mode, in its order and with its access modes, on a stripe laid out as {@link
 *       org.pasidkit.allocator.internal.StripeDescriptor} (one per thread) and a state byte per id: allocate's enter
 *       (opaque store of busy, the light side's compiler barrier, acquire load of stop), pop (head, tail and slot
 *       loads, the plain {@code IN_USE} store, release store of head), exit (release store of busy); free's enter
 *       (busy, the compiler barrier, stop), tail and head loads, CAS {@code IN_USE -> CACHING}, push (opaque slot
 *       store, tail store), release store of {@code CACHED}, exit. Nothing else: no stripe lookup, no range check,
 *       no call. What is left between
 *       this and {@code PasidAllocatorAllocFreeBenchmark.pairT1} is the allocator's bookkeeping; what is between
 *       this and {@code storeCasPairT1} is the protocol's nine stores (each store before the CAS drains with it).</li>
 *   <li>{@code graceProtocolPairT1}, {@code graceProtocolPairT2}: the same for the grace build's cache-hit pair: the
 *       pop as above; free's CAS {@code IN_USE -> RETIRED}, an acquire load of the epoch, the append to the stripe's
 *       retire ring (plain stores of the id and its segment's epoch stamp, release store of its count); and, when the
 *       cache ring runs dry, the owner's move of the retire ring's aged prefix into it (a CAS of the retire ring's
 *       {@code taken}, plain slot stores, the tail, a release fence, plain {@code CACHED} stores). The limbo is
 *       {@value GraceProtocolStripe#LIMBO} ids, each past its grace once that many were retired after it: no epoch
 *       advance, no reader, no call. What is left between this and {@code pairT1} of {@code pasidkit-grace} is the
 *       grace build's bookkeeping (the stripe lookup, the amortised advance's checks, the reclaim's calls).</li>
 *   <li>{@code crossRingOnly} (group: 1 producer + 1 consumer): the {@code cross} workload with the allocator taken
 *       out: the producer offers a counter through the same SPSC ring of ints, the consumer polls it. What is left
 *       is the cost of moving one int and the ring's cache lines between the two cores: every cross-thread figure
 *       includes it.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
public class AllocFreeFloorBenchmark
{
    private static final byte CACHED = 1;
    private static final byte IN_USE = 2;
    private static final byte CACHING = 5;
    private static final byte RETIRED = 3;
    private static final long INT_ARRAY_BASE = UnsafeApi.arrayBaseOffset(int[].class);

    /** One thread's state byte, alone in a 128-byte aligned block of its own (no false sharing). */
    @State(Scope.Thread)
    public static class StateByte
    {
        java.nio.ByteBuffer block;
        long address;

        /** This thread's host probe: the floor's figure is read beside the pairs', so it says its vCPU's state too. */
        final org.pasidkit.bench.HostProbe hostProbe = new org.pasidkit.bench.HostProbe();

        @Setup(Level.Trial)
        public void allocate()
        {
            block = BufferUtil.allocateDirectAligned(128, 128);
            address = BufferUtil.address(block) + 64;
            UnsafeApi.putByteRelease(null, address, CACHED);
        }

        /** After each iteration, outside its measured time (HostProbe). */
        @TearDown(Level.Iteration)
        public void probeHost()
        {
            hostProbe.record();
        }
    }

    @Benchmark
    @Threads(1)
    public boolean casPairT1(final StateByte state)
    {
        return casPair(state.address);
    }

    @Benchmark
    @Threads(2)
    public boolean casPairT2(final StateByte state)
    {
        return casPair(state.address);
    }

    /**
     * The protocol floors' stripe: header and ring at {@link org.pasidkit.allocator.internal.StripeDescriptor}'s
     * offsets, a ring of {@link #RING} slots, then the state bytes of the ids; the steps both floors' allocations make.
     */
    static final class FloorStripe
    {
        /** Cache ring slots (a power of two): pasidkit's default cache capacity. */
        static final int RING = 256;
        static final int BUSY = 0;
        static final int STOP = 4;
        static final int HEAD = 64;
        static final int TAIL = 72;
        static final int SLOTS = 128;
        /** Offset of id 0's state byte. */
        static final int STATES = SLOTS + 4 * RING;

        private FloorStripe()
        {
        }

        /** A block for the stripe and {@code ids} state bytes, its ring full of ids [0, RING), each CACHED. */
        static java.nio.ByteBuffer allocate(final int ids)
        {
            final java.nio.ByteBuffer block = BufferUtil.allocateDirectAligned(STATES + ids + 128, 128);
            final long base = BufferUtil.address(block);
            for (int id = 0; id < RING; id++)
            {
                UnsafeApi.putInt(null, base + SLOTS + 4L * id, id);
                UnsafeApi.putByte(null, base + STATES + id, CACHED);
            }
            UnsafeApi.putLongRelease(null, base + TAIL, RING);
            return block;
        }

        /** Ids in the ring (tail - head), read after the trial. */
        static long size(final long base)
        {
            return UnsafeApi.getLongVolatile(null, base + TAIL) - UnsafeApi.getLongVolatile(null, base + HEAD);
        }

        /** StripedIdCache.enterAt's accesses: opaque store of busy, light(), acquire load of stop. */
        static boolean enter(final long base)
        {
            UnsafeApi.putIntOpaque(null, base + BUSY, 1);
            java.lang.invoke.VarHandle.acquireFence(); // NOTE: AsymmetricFence.light() in the membarrier mode
            return 0 == UnsafeApi.getIntAcquire(null, base + STOP);
        }

        /** StripedIdCache.popAt then exitAt: the slot at {@code head}, the plain IN_USE store, head, busy. */
        static int popExit(final long base, final long head)
        {
            final int id = UnsafeApi.getInt(null, base + SLOTS + 4L * ((int)head & (RING - 1)));
            UnsafeApi.putByte(null, base + STATES + id, IN_USE);
            UnsafeApi.putLongRelease(null, base + HEAD, head + 1);
            UnsafeApi.putIntRelease(null, base + BUSY, 0);
            return id;
        }
    }

    /** One thread's {@link FloorStripe} with the state bytes of its {@link FloorStripe#RING} ids. */
    @State(Scope.Thread)
    public static class ProtocolStripe
    {
        java.nio.ByteBuffer block;
        long base;

        @Setup(Level.Trial)
        public void allocate()
        {
            block = FloorStripe.allocate(FloorStripe.RING);
            base = BufferUtil.address(block);
        }

        /** Every pair put back what it took: the ring still holds all its ids. */
        @TearDown(Level.Trial)
        public void check()
        {
            final long size = FloorStripe.size(base);
            if (FloorStripe.RING != size)
            {
                throw new IllegalStateException("protocol ring holds " + size + " ids, not " + FloorStripe.RING);
            }
        }
    }

    @Benchmark
    @Threads(1)
    public int protocolPairT1(final ProtocolStripe stripe)
    {
        return protocolPair(stripe.base);
    }

    @Benchmark
    @Threads(2)
    public int protocolPairT2(final ProtocolStripe stripe)
    {
        return protocolPair(stripe.base);
    }

    /** StripedIdCache.enterPop then enterPush's accesses, as pasidkit's cache hit makes them (class comment). */
    private static int protocolPair(final long base)
    {
        // allocate: enter, pop, exit
        if (!FloorStripe.enter(base))
        {
            return -1;
        }
        final long head = UnsafeApi.getLong(null, base + FloorStripe.HEAD);
        if (head >= UnsafeApi.getLong(null, base + FloorStripe.TAIL))
        {
            return -2;
        }
        final int id = FloorStripe.popExit(base, head);
        final long state = base + FloorStripe.STATES + id;
        // free (membarrier mode): enter (busy, stop), the ring's tail and head, CAS, push, CACHED, exit
        UnsafeApi.putIntOpaque(null, base + FloorStripe.BUSY, 1);
        java.lang.invoke.VarHandle.acquireFence();
        if (0 != UnsafeApi.getIntAcquire(null, base + FloorStripe.STOP))
        {
            return -4;
        }
        final long tail = UnsafeApi.getLong(null, base + FloorStripe.TAIL);
        if (tail - UnsafeApi.getLong(null, base + FloorStripe.HEAD) >= FloorStripe.RING)
        {
            return -5;
        }
        if (!UnsafeApi.compareAndSetByte(null, state, IN_USE, CACHING))
        {
            UnsafeApi.putIntRelease(null, base + FloorStripe.BUSY, 0);
            return -3;
        }
        UnsafeApi.putIntOpaque(null, base + FloorStripe.SLOTS + 4L * ((int)tail & (FloorStripe.RING - 1)), id);
        UnsafeApi.putLong(null, base + FloorStripe.TAIL, tail + 1);
        UnsafeApi.putByteRelease(null, state, CACHED);
        UnsafeApi.putIntRelease(null, base + FloorStripe.BUSY, 0);
        return id;
    }

    /**
     * One thread's grace build in miniature: a cache ring (a {@link FloorStripe}), a retire ring with
     * its epoch stamps and cursors, and the state bytes of {@link #IDS} ids; the cache ring starts full (CACHED), the
     * retire ring with the rest (RETIRED), its oldest {@code IDS - RING - LIMBO} past their grace.
     */
    @State(Scope.Thread)
    public static class GraceProtocolStripe
    {
        /**
         * Ids retired after an id before it counts as past its grace (pasidkit's light limbo is 2-3 advances of 2048).
         */
        static final int LIMBO = 4096;
        /** Ids in all: the ring, the limbo and one ring's worth aged. */
        static final int IDS = FloorStripe.RING + LIMBO + FloorStripe.RING;
        /** Retire ring slots (a power of two above IDS). */
        static final int BAG = 8192;
        static final int SEGMENT_SHIFT = 6;
        /** Indices of the retire ring's count and taken in {@link #cursors} (128 bytes apart). */
        static final int COUNT = 8;
        static final int TAKEN = 24;

        java.nio.ByteBuffer block;
        long base;
        final int[] bagIds = new int[BAG];
        final long[] bagEpochs = new long[BAG >>> SEGMENT_SHIFT];
        /**
         * The retire ring's count (owner's release store) and taken (CAS), on lines of their own, as pasidkit's are.
         */
        final java.util.concurrent.atomic.AtomicLongArray cursors = new java.util.concurrent.atomic.AtomicLongArray(32);
        /** The global epoch (never advanced here: the limbo alone ages ids). */
        final java.util.concurrent.atomic.AtomicLong epoch = new java.util.concurrent.atomic.AtomicLong();

        @Setup(Level.Trial)
        public void allocate()
        {
            block = FloorStripe.allocate(IDS);
            base = BufferUtil.address(block);
            for (int id = FloorStripe.RING; id < IDS; id++)
            {
                bagIds[id - FloorStripe.RING] = id;
                UnsafeApi.putByte(null, base + FloorStripe.STATES + id, RETIRED);
            }
            cursors.setRelease(COUNT, IDS - FloorStripe.RING);
        }

        /** Every pair put back what it took: the cache ring and the retire ring hold all {@link #IDS} ids between them. */
        @TearDown(Level.Trial)
        public void check()
        {
            final long inRing = FloorStripe.size(base);
            final long inBag = cursors.get(COUNT) - cursors.get(TAKEN);
            if (IDS != inRing + inBag)
            {
                throw new IllegalStateException("grace protocol holds " + inRing + " + " + inBag + " ids, not " + IDS);
            }
        }
    }

    @Benchmark
    @Threads(1)
    public int graceProtocolPairT1(final GraceProtocolStripe stripe)
    {
        return graceProtocolPair(stripe);
    }

    @Benchmark
    @Threads(2)
    public int graceProtocolPairT2(final GraceProtocolStripe stripe)
    {
        return graceProtocolPair(stripe);
    }

    /** The grace build's cache-hit pair, its accesses only (class comment). */
    private static int graceProtocolPair(final GraceProtocolStripe stripe)
    {
        final long base = stripe.base;
        // allocate: enter, pop (after the owner's move when the ring is dry), exit
        if (!FloorStripe.enter(base))
        {
            return -1;
        }
        final long head = UnsafeApi.getLong(null, base + FloorStripe.HEAD);
        if (head >= UnsafeApi.getLong(null, base + FloorStripe.TAIL) && !graceMove(stripe, base, head))
        {
            return -2;
        }
        final int id = FloorStripe.popExit(base, head);
        // free: CAS, epoch, append to the retire ring
        if (!UnsafeApi.compareAndSetByte(null, base + FloorStripe.STATES + id, IN_USE, RETIRED))
        {
            return -3;
        }
        final long epoch = stripe.epoch.getAcquire();
        final java.util.concurrent.atomic.AtomicLongArray cursors = stripe.cursors;
        final long count = cursors.getPlain(GraceProtocolStripe.COUNT);
        stripe.bagIds[(int)count & (GraceProtocolStripe.BAG - 1)] = id;
        stripe.bagEpochs[(int)(count >>> GraceProtocolStripe.SEGMENT_SHIFT) & (stripe.bagEpochs.length - 1)] = epoch;
        cursors.setRelease(GraceProtocolStripe.COUNT, count + 1);
        return id;
    }

    /** The owner's move of the retire ring's aged prefix (up to a ring's worth) into its empty cache ring. */
    private static boolean graceMove(final GraceProtocolStripe stripe, final long base, final long head)
    {
        final java.util.concurrent.atomic.AtomicLongArray cursors = stripe.cursors;
        final long count = cursors.getPlain(GraceProtocolStripe.COUNT);
        final long taken = cursors.getAcquire(GraceProtocolStripe.TAKEN);
        final long end = Math.min(count - GraceProtocolStripe.LIMBO, taken + FloorStripe.RING);
        if (end <= taken || !cursors.compareAndSet(GraceProtocolStripe.TAKEN, taken, end))
        {
            return false;
        }
        final int[] ids = stripe.bagIds;
        final int n = (int)(end - taken);
        final long slots = base + FloorStripe.SLOTS;
        // NOTE: as production's move (StripedIdCache.pushAll, IdStateTable.putReleaseAllHeld): the ids copied in runs
        // that wrap neither ring, then the CACHED stores in runs of a counted loop.
        int src = (int)taken & (GraceProtocolStripe.BAG - 1);
        int dst = (int)head & (FloorStripe.RING - 1);
        for (int left = n; left > 0; )
        {
            final int run = Math.min(left, Math.min(GraceProtocolStripe.BAG - src, FloorStripe.RING - dst));
            UnsafeApi.copyMemory(ids, INT_ARRAY_BASE + ((long)src << 2), null, slots + 4L * dst, (long)run << 2);
            left -= run;
            src = (src + run) & (GraceProtocolStripe.BAG - 1);
            dst = (dst + run) & (FloorStripe.RING - 1);
        }
        UnsafeApi.putLong(null, base + FloorStripe.TAIL, head + n);
        java.lang.invoke.VarHandle.releaseFence();
        final long states = base + FloorStripe.STATES;
        int i = (int)taken & (GraceProtocolStripe.BAG - 1);
        for (int left = n; left > 0; )
        {
            final int run = Math.min(left, GraceProtocolStripe.BAG - i);
            for (final int last = i + run; i < last; i++)
            {
                UnsafeApi.putByte(null, states + ids[i], CACHED);
            }
            left -= run;
            i &= GraceProtocolStripe.BAG - 1;
        }
        return true;
    }

    @Benchmark
    @Threads(1)
    public boolean storeCasPairT1(final StateByte state)
    {
        return storeCasPair(state.address);
    }

    @Benchmark
    @Threads(2)
    public boolean storeCasPairT2(final StateByte state)
    {
        return storeCasPair(state.address);
    }

    private static boolean storeCasPair(final long address)
    {
        // NOTE: allocate's plain store of IN_USE (StripedIdCache.popAt: putPlainHeld), then free's CAS IN_USE -> CACHED,
        // as PasidAllocator does on a cache hit in the membarrier mode. The CAS reads the stored byte, so the store
        // cannot be dropped.
        UnsafeApi.putByte(null, address, IN_USE);
        return UnsafeApi.compareAndSetByte(null, address, IN_USE, CACHED);
    }

    private static boolean casPair(final long address)
    {
        // NOTE: allocate's CACHED -> IN_USE, then free's IN_USE -> CACHED, as PasidAllocator does on a cache hit.
        return UnsafeApi.compareAndSetByte(null, address, CACHED, IN_USE) &&
            UnsafeApi.compareAndSetByte(null, address, IN_USE, CACHED);
    }

    /** The ring between the producer and the consumer of one group, and the producer's counter. */
    @State(Scope.Group)
    public static class CrossRing
    {
        PasidAllocatorAllocFreeBenchmark.IntSpscRing ring;
        int next;

        @Setup(Level.Trial)
        public void createRing()
        {
            ring = new PasidAllocatorAllocFreeBenchmark.IntSpscRing(PasidAllocatorAllocFreeBenchmark.RING_CAPACITY);
        }

        @TearDown(Level.Trial)
        public void drain()
        {
            while (0 != ring.poll())
            {
                Thread.onSpinWait();
            }
        }
    }

    @Benchmark
    @Group("crossRingOnly")
    @GroupThreads(1)
    public void produce(final CrossRing cross, final Control control)
    {
        final int id = (cross.next + 1) & 0xFFFFF | 1; // positive, never 0: the ring's "empty"
        cross.next = id;
        int waits = 0;
        while (!cross.ring.offer(id))
        {
            if (control.stopMeasurement)
            {
                return;
            }
            waits = PasidAllocatorAllocFreeBenchmark.backOff(waits);
        }
    }

    @Benchmark
    @Group("crossRingOnly")
    @GroupThreads(1)
    public int consume(final CrossRing cross, final Control control)
    {
        int id;
        int waits = 0;
        while (0 == (id = cross.ring.poll()))
        {
            if (control.stopMeasurement)
            {
                return 0;
            }
            waits = PasidAllocatorAllocFreeBenchmark.backOff(waits);
        }
        return id;
    }
}
