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
 *       loads, the plain {@code IN_USE} store, release store of head), exit (release store of busy); free's enter, CAS
 *       {@code IN_USE -> CACHING}, load of stop, push (tail and head loads, opaque slot store, tail store), release
 *       store of {@code CACHED}, exit. Nothing else: no stripe lookup, no range check, no call. What is left between
 *       this and {@code PasidAllocatorAllocFreeBenchmark.pairT1} is the allocator's bookkeeping; what is between
 *       this and {@code storeCasPairT1} is the protocol's nine stores (each store before the CAS drains with it).</li>
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
     * One thread's stripe (header and ring as {@link org.pasidkit.allocator.internal.StripeDescriptor} lays them out)
     * and the state bytes of its ids, off-heap, 128-byte aligned; the ring starts full of {@link #IDS} CACHED ids.
     */
    @State(Scope.Thread)
    public static class ProtocolStripe
    {
        /** Ids in the ring, its capacity (a power of two): pasidkit's default cache capacity. */
        static final int IDS = 256;
        private static final int BUSY = 0;
        private static final int STOP = 4;
        private static final int HEAD = 64;
        private static final int TAIL = 72;
        private static final int SLOTS = 128;
        private static final int STATES = SLOTS + 4 * IDS;

        java.nio.ByteBuffer block;
        long base;

        @Setup(Level.Trial)
        public void allocate()
        {
            block = BufferUtil.allocateDirectAligned(STATES + IDS + 128, 128);
            base = BufferUtil.address(block);
            for (int id = 0; id < IDS; id++)
            {
                UnsafeApi.putInt(null, base + SLOTS + 4L * id, id);
                UnsafeApi.putByte(null, base + STATES + id, CACHED);
            }
            UnsafeApi.putLongRelease(null, base + TAIL, IDS);
        }

        /** Every pair put back what it took: the ring still holds {@link #IDS} ids, each CACHED. */
        @TearDown(Level.Trial)
        public void check()
        {
            final long size = UnsafeApi.getLongVolatile(null, base + TAIL) - UnsafeApi.getLongVolatile(null, base + HEAD);
            if (IDS != size)
            {
                throw new IllegalStateException("protocol ring holds " + size + " ids, not " + IDS);
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
        final int mask = ProtocolStripe.IDS - 1;
        // allocate: enter, pop, exit
        UnsafeApi.putIntOpaque(null, base + ProtocolStripe.BUSY, 1);
        java.lang.invoke.VarHandle.acquireFence(); // NOTE: AsymmetricFence.light() in the membarrier mode
        if (0 != UnsafeApi.getIntAcquire(null, base + ProtocolStripe.STOP))
        {
            return -1;
        }
        final long head = UnsafeApi.getLong(null, base + ProtocolStripe.HEAD);
        if (head >= UnsafeApi.getLong(null, base + ProtocolStripe.TAIL))
        {
            return -2;
        }
        final int id = UnsafeApi.getInt(null, base + ProtocolStripe.SLOTS + 4L * ((int)head & mask));
        final long state = base + ProtocolStripe.STATES + id;
        UnsafeApi.putByte(null, state, IN_USE);
        UnsafeApi.putLongRelease(null, base + ProtocolStripe.HEAD, head + 1);
        UnsafeApi.putIntRelease(null, base + ProtocolStripe.BUSY, 0);
        // free: enter, CAS, stop, push, CACHED, exit
        UnsafeApi.putIntOpaque(null, base + ProtocolStripe.BUSY, 1);
        if (!UnsafeApi.compareAndSetByte(null, state, IN_USE, CACHING))
        {
            UnsafeApi.putIntRelease(null, base + ProtocolStripe.BUSY, 0);
            return -3;
        }
        java.lang.invoke.VarHandle.acquireFence();
        if (0 != UnsafeApi.getIntAcquire(null, base + ProtocolStripe.STOP))
        {
            return -4;
        }
        final long tail = UnsafeApi.getLong(null, base + ProtocolStripe.TAIL);
        if (tail - UnsafeApi.getLong(null, base + ProtocolStripe.HEAD) >= ProtocolStripe.IDS)
        {
            return -5;
        }
        UnsafeApi.putIntOpaque(null, base + ProtocolStripe.SLOTS + 4L * ((int)tail & mask), id);
        UnsafeApi.putLong(null, base + ProtocolStripe.TAIL, tail + 1);
        UnsafeApi.putByteRelease(null, state, CACHED);
        UnsafeApi.putIntRelease(null, base + ProtocolStripe.BUSY, 0);
        return id;
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
