/*
 * Run (full):
 *   ./mvnw -B -ntp -q -pl bench -am package -DskipTests -Djcstress.skip=true
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main EpochDomainEnterExitBenchmark \
 *       -prof gc -prof org.pasidkit.bench.HeavyBarrierProfiler -foe true -rf json -rff bench/results/epoch-enter-exit.json
 * The fenced path (AsymmetricFence forced to full fences) in the same session: add
 *   -jvmArgsPrepend -Dpasidkit.fence=fenced
 * Smoke (shared 2-core machine): add -f 1 -wi 1 -i 2 -w 1s -r 1s
 *
 * Targets: enter + exit of a critical section <= 2 ns/op on the membarrier path (issue 13; <= 10 ns with a full fence,
 * the earlier issue) and 0 B/op (gc.alloc.rate.norm), with 1 and 2 reader threads. advanceWithIdleReader is the
 * latency of one epoch advance that must pay the heavy barrier (a registered reader, not inside), the other vCPU idle;
 * advanceNoReader the same advance with no reader registered (a full fence, no heavy barrier).
 */
package org.pasidkit.allocator;

import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one critical section of an {@link EpochDomain} reader: one op = {@code reader.enter(); reader.exit();}.
 *
 * <ul>
 *   <li>{@code enterExit}, {@code enterExit2Threads}: 1 and 2 threads, each with its own {@link EpochDomain.Reader}
 *       registered from that thread (so each {@code Reader} object, whose {@code depth} field is written on every
 *       op, sits in that thread's TLAB), held in a padded {@code @State(Scope.Thread)}. Nobody advances the epoch:
 *       the readers' only shared line is the global epoch word, which they only read.</li>
 *   <li>{@code pinStoreFloor}: the same two stores on a private padded slot, without the domain (a volatile store
 *       of the pin word and a release store of 0): the floor any design with a StoreLoad fence on entry pays.</li>
 *   <li>{@code pinStoreLightFloor}: the same with the asymmetric light side (an opaque store, a compiler barrier, a
 *       release store of 0): the floor of the membarrier path.</li>
 *   <li>{@code advanceWithIdleReader}: one {@link EpochDomain#tryAdvance} on a domain with one registered reader that
 *       is never inside: every call advances and pays one {@link AsymmetricFence#heavy()}. {@code advanceNoReader}:
 *       the same on a domain with no registered reader (a full fence instead). Each is the latency of one epoch
 *       advance; the heavy barriers per op show in {@code fence.heavy.per.Mop} with
 *       {@code -prof org.pasidkit.bench.HeavyBarrierProfiler}.</li>
 *   <li>group {@code underReclaimScan}: one reader while another thread calls {@link EpochDomain#tryAdvance} in a
 *       loop (a spinning reclaimer): the reader's pin line moves to the scanner and back, and the global epoch line
 *       changes under the reader; on the membarrier path every advance interrupts the reader's CPU (an IPI), so this
 *       is also the heavy barrier's cost with the other vCPU busy. Informative, not the target's case.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 10, time = 1, timeUnit = TimeUnit.SECONDS)
public class EpochDomainEnterExitBenchmark
{
    /** The domain every thread of a benchmark registers with. */
    @State(Scope.Benchmark)
    public static class DomainState
    {
        EpochDomain domain;

        @Setup(Level.Trial)
        public void setup()
        {
            domain = new EpochDomain(16);
        }
    }

    /** A domain of its own with one registered reader that never enters: every tryAdvance advances. */
    @State(Scope.Thread)
    public static class AdvanceState
    {
        EpochDomain withReader;
        EpochDomain.Reader idle;
        EpochDomain noReader;

        @Setup(Level.Trial)
        public void setup()
        {
            withReader = new EpochDomain(4);
            idle = withReader.register();
            noReader = new EpochDomain(4);
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            idle.close();
        }

        /** This thread's host probe (HostProbe). */
        private final org.pasidkit.bench.HostProbe hostProbe = new org.pasidkit.bench.HostProbe();

        /** After each iteration, outside its measured time. */
        @TearDown(Level.Iteration)
        public void probeHost()
        {
            hostProbe.record();
        }
    }

    /** Keeps a thread's hot fields off the lines of whatever JMH or the heap put before them. */
    abstract static class ReaderStatePadding1
    {
        long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;
    }

    /** The thread's hot fields. */
    abstract static class ReaderStateFields extends ReaderStatePadding1
    {
        EpochDomain.Reader reader;
        UnsafeBuffer privateSlot;
    }

    /** Keeps the hot fields off the lines of whatever follows them. */
    abstract static class ReaderStatePadding2 extends ReaderStateFields
    {
        long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;
    }

    /** One reader per benchmark thread, registered by that thread. */
    @State(Scope.Thread)
    public static class ReaderState extends ReaderStatePadding2
    {
        @Setup(Level.Trial)
        public void setup(final DomainState domainState)
        {
            // NOTE: register() runs on the benchmark thread (JMH runs Scope.Thread setup on the owning thread), so the
            // Reader object is allocated in this thread's TLAB, far from the other thread's Reader.
            reader = domainState.domain.register();
            privateSlot = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 128));
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            reader.close();
        }

        /** This thread's host probe (HostProbe; not a hot field: after the padding). */
        private final org.pasidkit.bench.HostProbe hostProbe = new org.pasidkit.bench.HostProbe();

        /** After each iteration, outside its measured time. */
        @TearDown(Level.Iteration)
        public void probeHost()
        {
            hostProbe.record();
        }
    }

    /** The reclaimer side of {@code underReclaimScan}: epoch advances and refusals, reported as rates. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class ScannerState
    {
        public long advanced;
        public long refused;

        @Setup(Level.Iteration)
        public void reset()
        {
            advanced = 0;
            refused = 0;
        }
    }

    @Benchmark
    @Threads(1)
    public void enterExit(final ReaderState state)
    {
        final EpochDomain.Reader reader = state.reader;
        reader.enter();
        reader.exit();
    }

    @Benchmark
    @Threads(2)
    public void enterExit2Threads(final ReaderState state)
    {
        final EpochDomain.Reader reader = state.reader;
        reader.enter();
        reader.exit();
    }

    /** Floor: the pin protocol's two stores on a private padded slot (volatile store, then release store). */
    @Benchmark
    @Threads(1)
    public void pinStoreFloor(final ReaderState state)
    {
        final UnsafeBuffer slot = state.privateSlot;
        slot.putLongVolatile(128, 3L);
        slot.putLongRelease(128, 0L);
    }

    /** Floor of the membarrier path: opaque store, compiler barrier, release store of 0. */
    @Benchmark
    @Threads(1)
    public void pinStoreLightFloor(final ReaderState state)
    {
        final UnsafeBuffer slot = state.privateSlot;
        slot.putLongOpaque(128, 3L);
        VarHandle.acquireFence();
        slot.putLongRelease(128, 0L);
    }

    /** One epoch advance that pays the heavy barrier (a reader is registered); the other vCPU idle. */
    @Benchmark
    @Threads(1)
    public boolean advanceWithIdleReader(final AdvanceState state)
    {
        return state.withReader.tryAdvance();
    }

    /** One epoch advance with no reader registered: a full fence, no heavy barrier. */
    @Benchmark
    @Threads(1)
    public boolean advanceNoReader(final AdvanceState state)
    {
        return state.noReader.tryAdvance();
    }

    @Benchmark
    @Group("underReclaimScan")
    @GroupThreads(1)
    public void reader(final ReaderState state)
    {
        final EpochDomain.Reader reader = state.reader;
        reader.enter();
        reader.exit();
    }

    @Benchmark
    @Group("underReclaimScan")
    @GroupThreads(1)
    public boolean scanner(final DomainState domainState, final ScannerState scanner)
    {
        final boolean advanced = domainState.domain.tryAdvance();
        if (advanced)
        {
            scanner.advanced++;
        }
        else
        {
            scanner.refused++;
        }
        return advanced;
    }
}
