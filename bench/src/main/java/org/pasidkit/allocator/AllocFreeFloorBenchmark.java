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
