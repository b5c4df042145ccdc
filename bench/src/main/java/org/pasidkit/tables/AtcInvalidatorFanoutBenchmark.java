package org.pasidkit.tables;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * ATC invalidation fan-out: how the cost of one address-space change grows with devices and with private PASIDs per
 * address space. One change of one page of one address space bound to {@code devices} devices (all with ATS) through
 * 1 + {@code privatePasids} PASIDs: every (device, PASID) gets one 16-byte CMD_ATC_INV, then one CMD_SYNC.
 * <ul>
 *   <li>{@code emit} (one thread): command generation into the ring: the walk of the address space's PASIDs and
 *       bonds, the ring claims, the 16-byte stores, the commits. Nobody else runs: whenever a quarter of the ring is
 *       used, the same thread drains it with a no-op handler (Agrona's read zeroes the bytes it frees), so the score
 *       includes freeing the ring — an upper bound of the producer's own cost, never blocked by a descheduled
 *       consumer.</li>
 *   <li>{@code endToEnd} ({@code @Group}: one producer thread, one consumer thread): the producer touches one page in
 *       the range for one (device, PASID) (rotating), emits the change and waits for its CMD_SYNC; the consumer is
 *       the {@link SimulatedIommu}: it applies every command to the simulated ATCs and, at each sync, walks every
 *       (device, PASID) of the address space to check that nothing of the range is still cached. The trial fails if
 *       a stale translation remains or if any touched page was not invalidated.</li>
 *   <li>{@code pipelined} ({@code @Group}: one producer thread, one consumer thread): as {@code endToEnd}, but the
 *       producer round-robins over 8 address spaces and waits, before each change, only for the previous sync of
 *       that same address space (each munmap still returns only after its own sync; the others overlap it).</li>
 * </ul>
 * The score that matters is the {@code commands} counter: ATC invalidation commands per second (syncs not counted);
 * ops are changes. Baseline in the same run: {@code batch=1}, one ring record (one claim CAS, one commit) per
 * command, against {@code batch=64}, one record per up to 64 commands.
 * <pre>
 *   java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main AtcInvalidatorFanoutBenchmark -foe true -prof gc \
 *     -rf json -rff fanout.json
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xms512m", "-Xmx512m",
    "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@State(Scope.Group)
public class AtcInvalidatorFanoutBenchmark
{
    private static final long MM = 1;
    /** Address spaces of the pipelined group: each waits for its own previous sync, the others overlap it. */
    private static final int IN_FLIGHT = 8;
    private static final int RING_BYTES = 1 << 22;
    private static final MessageHandler DISCARD = (type, buffer, index, length) -> { };

    @Param({"1", "4", "16"})
    int devices;

    @Param({"0", "1", "3"})
    int privatePasids;

    /** Commands a ring record: 64 (DESIGN.md) against the baseline of 1 (one record, one claim, per command). */
    @Param({"64", "1"})
    int batch;

    PasidSpace space;
    AtcInvalidator invalidator;
    SimulatedIommu iommu;
    Device[] all;
    int[][] pasids;
    int pasidCount;

    /** Commands emitted, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Commands
    {
        public long commands;
    }

    /** One producer thread's handle and position. */
    @State(Scope.Thread)
    public static class ProducerSide
    {
        AtcInvalidator.Producer producer;
        RingBuffer ring;
        long address = 0x7f0000000000L;
        int drainAtBytes;
        int turn;
        final long[] tokens = new long[IN_FLIGHT];
        AtcInvalidatorFanoutBenchmark fanout;

        @Setup(Level.Trial)
        public void setUp(final AtcInvalidatorFanoutBenchmark fanout)
        {
            producer = fanout.invalidator.newProducer();
            ring = fanout.invalidator.ring();
            drainAtBytes = ring.capacity() / 4;
            this.fanout = fanout;
        }

        /** Waits for the pipelined changes still in flight, then runs the trial's checks. */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            for (final long token : tokens)
            {
                if (!producer.awaitSync(token))
                {
                    throw new IllegalStateException("CMD_SYNC " + token + " timed out at the end of the trial");
                }
            }
            fanout.check();
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        space = PasidSpace.builder().maxPasid(4095).addressSpaceQuota(1 + privatePasids).build();
        all = new Device[devices];
        for (int d = 0; d < devices; d++)
        {
            all[d] = space.addDevice(0x100 + d, 20, true, null);
        }
        pasids = new int[IN_FLIGHT][];
        for (int m = 0; m < IN_FLIGHT; m++)
        {
            final long mm = MM + m;
            final AddressSpace as = space.openAddressSpace(mm);
            for (final Device device : all)
            {
                space.bind(as, device, "d", 0);
            }
            for (int k = 0; k < privatePasids; k++)
            {
                final long handle = space.bind(as, all[0], "p", PasidSpace.PRIVATE).handle();
                for (int d = 1; d < devices; d++)
                {
                    space.bindTo(as, handle, all[d], "p");
                }
            }
            pasids[m] = new int[64];
            final int n = space.pasidsOf(mm, pasids[m]);
            if (n != 1 + privatePasids)
            {
                throw new IllegalStateException("mm " + mm + ": " + n + " PASIDs bound, expected " + (1 + privatePasids));
            }
        }
        pasidCount = 1 + privatePasids;
        invalidator = new AtcInvalidator(space, RING_BYTES, batch, 2L << 20, TimeUnit.SECONDS.toNanos(10), 2);
        iommu = new SimulatedIommu(invalidator);
        // NOTE: a producer waiting for its sync drains the ring itself when the consumer thread is descheduled.
        invalidator.assist(() -> iommu.poll(64));
    }

    /**
     * The trial's checks (from the producer thread, after its last change is synced): no stale translation after any
     * sync, and every touched page invalidated by its change (one per synced change).
     */
    void check()
    {
        if (0 != iommu.staleTranslations())
        {
            throw new IllegalStateException(iommu.staleTranslations() + " stale translations after sync");
        }
        if (0 != iommu.hiddenTranslations())
        {
            throw new IllegalStateException(iommu.hiddenTranslations() + " cached translations with their ATC valid " +
                "bit clear (invisible to invalidation and to the stale check)");
        }
        if (iommu.syncsCompleted() > 0 && iommu.translationsInvalidated() != iommu.syncsCompleted())
        {
            throw new IllegalStateException(iommu.translationsInvalidated() + " translations invalidated by " +
                iommu.syncsCompleted() + " synced changes: each change must remove the one page touched in its range");
        }
    }

    @Benchmark
    @Group("emit")
    @GroupThreads(1)
    public int emitOnly(final ProducerSide side, final Commands counters)
    {
        side.address += 4096;
        final int n = side.producer.emit(MM, side.address, 4096);
        counters.commands += n;
        if (side.ring.size() > side.drainAtBytes)
        {
            side.ring.read(DISCARD, Integer.MAX_VALUE);
        }
        return n;
    }

    @Benchmark
    @Group("endToEnd")
    @GroupThreads(1)
    public int produce(final ProducerSide side, final Commands counters)
    {
        side.address += 4096;
        final int turn = side.turn++;
        iommu.touch(all[turn % devices], pasids[0][(turn / devices) % pasidCount], side.address + 2048);
        final int n = side.producer.invalidate(MM, side.address, 4096);
        counters.commands += n;
        return n;
    }

    @Benchmark
    @Group("pipelined")
    @GroupThreads(1)
    public int producePipelined(final ProducerSide side, final Commands counters)
    {
        side.address += 4096;
        final int turn = side.turn++;
        final int m = turn & (IN_FLIGHT - 1);
        // The previous change of this address space must be synced before its pages are touched again (the munmap
        // of each address space returns only after its sync); the other address spaces' changes stay in flight.
        if (!side.producer.awaitSync(side.tokens[m]))
        {
            throw new IllegalStateException("CMD_SYNC " + side.tokens[m] + " timed out");
        }
        final int pair = turn / IN_FLIGHT;
        iommu.touch(all[pair % devices], pasids[m][(pair / devices) % pasidCount], side.address + 2048);
        final int n = side.producer.emit(MM + m, side.address, 4096);
        side.tokens[m] = side.producer.lastToken();
        counters.commands += n;
        return n;
    }

    @Benchmark
    @Group("pipelined")
    @GroupThreads(1)
    public int consumePipelined()
    {
        return iommu.poll(256);
    }

    @Benchmark
    @Group("endToEnd")
    @GroupThreads(1)
    public int consume()
    {
        return iommu.poll(256);
    }
}
