package org.pasidkit.tables;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * ATC invalidation fan-out: how the cost of one address-space change grows with devices and with PASIDs per address
 * space. One change of one page; every (device, PASID) pair gets one 16-byte CMD_ATC_INV, then one CMD_SYNC.
 * <ul>
 *   <li>{@code emit}: command generation into the ring only: a consumer thread on the other core discards the
 *       records (so the ring never fills and the score is the producer's own cost).</li>
 *   <li>{@code invalidate}: end to end: emit, the simulated IOMMU consumes and checks the ATCs, the producer waits for
 *       its CMD_SYNC (helping to drain while it waits).</li>
 * </ul>
 * The score is commands per second ({@code commands} counter); ops are changes.
 * <pre>
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/pasidkit-bench.jar \
 *     org.openjdk.jmh.Main AtcInvalidatorFanoutBenchmark -prof gc -foe true -rf json -rff fanout.json
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xms2g", "-Xmx2g",
    "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@State(Scope.Thread)
public class AtcInvalidatorFanoutBenchmark
{
    @Param({"1", "2", "4", "8"})
    int devices;

    @Param({"1", "2", "4", "8"})
    int pasids;

    private PasidSpace space;
    private AtcInvalidator invalidator;
    private SimulatedIommu iommu;
    private AtcInvalidator.Producer producer;
    private Thread consumer;
    private final AtomicBoolean stop = new AtomicBoolean();
    private long address = 0x7f0000000000L;

    private boolean discard;

    private static final org.agrona.concurrent.MessageHandler DISCARD = (type, buffer, index, length) -> { };

    /** Commands emitted, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Commands
    {
        public long commands;
    }

    @Setup(Level.Trial)
    public void setUp(final org.openjdk.jmh.infra.BenchmarkParams params)
    {
        discard = params.getBenchmark().endsWith(".emit");
        space = PasidSpace.builder().maxPasid(4095).addressSpaceQuota(16).build();
        final Device[] all = new Device[devices];
        for (int d = 0; d < devices; d++)
        {
            all[d] = space.addDevice(0x100 + d, 20, true, null);
        }
        for (final Device device : all)
        {
            space.bind(1, device, "d", 0);
        }
        for (int k = 1; k < pasids; k++)
        {
            final long handle = space.bind(1, all[0], "p", PasidSpace.PRIVATE);
            for (int d = 1; d < devices; d++)
            {
                space.bindTo(handle, all[d], "p");
            }
        }
        invalidator = new AtcInvalidator(space, 1 << 22, 64, 2L << 20, TimeUnit.SECONDS.toNanos(10), 2);
        iommu = new SimulatedIommu(invalidator);
        invalidator.assist(() -> iommu.poll(64));
        producer = invalidator.newProducer();
        consumer = new Thread(() ->
        {
            while (!stop.get())
            {
                final int n = discard ? invalidator.ring().read(DISCARD, 256) : iommu.poll(256);
                if (0 == n)
                {
                    Thread.onSpinWait();
                }
            }
        }, "simulated-iommu");
        consumer.setDaemon(true);
        consumer.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException
    {
        stop.set(true);
        consumer.join();
        if (0 != iommu.staleTranslations())
        {
            throw new IllegalStateException(iommu.staleTranslations() + " stale translations");
        }
    }

    @Benchmark
    public int emit(final Commands counters)
    {
        address += 4096;
        final int n = producer.emit(1, address, 4096);
        counters.commands += n;
        return n;
    }

    @Benchmark
    public int invalidate(final Commands counters)
    {
        address += 4096;
        final int n = producer.invalidate(1, address, 4096);
        counters.commands += n;
        return n;
    }
}
