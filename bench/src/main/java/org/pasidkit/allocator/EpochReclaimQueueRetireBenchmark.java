/*
 * Run (full):
 *   cd /work/wt-reclaimbench && mvn -B -ntp -pl bench -am package -DskipTests
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main EpochReclaimQueueRetireBenchmark \
 *       -prof gc -foe true -rf json -rff bench/results/reclaim-retire.json
 * Smoke (shared 2-core machine): add -f 1 -wi 1 -i 2 -w 1s -r 1s
 *
 * Target (project issue): retire <= 20 ns amortised (including the reclaim work that keeps ids flowing), 0 B/op.
 */
package org.pasidkit.allocator;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.SystemNanoClock;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.pasidkit.allocator.internal.EpochReclaimQueue;
import org.pasidkit.allocator.internal.IdStateTable;

/**
 * Amortised cost of retiring an id into the epoch reclaim queue, with the reclaim work that keeps ids flowing.
 *
 * <h2>Why a paired design and not "retire alone"</h2>
 * A retire is tens of ns. Measured alone, either the queue grows without bound (nothing reclaims: the XADD queue
 * outgrows its pooled chunks and allocates, and the id range runs dry), or each invocation must be reset by a
 * {@code @Setup(Level.Invocation)} that JMH documents as unusable for ops this small (timestamping every call costs
 * more than the op). So:
 * <ul>
 *   <li>{@code allocateFree} (1 and 2 threads) x {@code reuse = grace | immediate}: one op = {@code allocate()} +
 *       {@code free(id)} on the public allocator. With {@code grace}, {@code free} retires (state CAS + XADD offer)
 *       and the allocation slow path reclaims inline (one pass per ring refill: {@code tryAdvance} + up to 32 ids
 *       back into the thread's ring); with {@code immediate}, {@code free} caches the id at once. The difference
 *       of the two scores is the retire + reclaim cost per id, amortised exactly as the allocator amortises it.</li>
 *   <li>{@code retireReclaimBatch}: the queue alone. One invocation retires 64 ids (with 0 holders) and reclaims
 *       them (two reclaim passes: the epoch must advance twice), with a sink doing the state store the allocator's
 *       sink does; {@code @OperationsPerInvocation(64)}, so the score is ns per id for retire + reclaim, without
 *       the allocator's ring or bitmap. The batch is long enough (~1 us) for the timer not to matter.</li>
 *   <li>{@code retireHeldReleaseBatch}: the same with the bond path: {@code retire(id, 1)} then the last
 *       {@code release(id)} queues it; per id.</li>
 *   <li>{@code retireReclaimBatchBagged}: {@code retireReclaimBatch} through a stripe's retire bag (a queue built
 *       with one stripe, {@code retire(id, 0, 0)}), as the allocator's {@code free} retires from a thread that leases
 *       a cache stripe: the 64th id fills the bag, which is sealed and queued with one offer.</li>
 * </ul>
 * Allocation failures ({@link IdAllocator#EXHAUSTED} / {@link IdAllocator#ALL_IN_GRACE}) are counted in
 * {@code allocateFailures}; a non-zero count means the score is not the steady state.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 10, time = 1, timeUnit = TimeUnit.SECONDS)
public class EpochReclaimQueueRetireBenchmark
{
    /** Ids a {@code retireReclaimBatch} invocation retires. */
    static final int BATCH = 64;
    /** Ids the queue-only benchmark cycles through (so tickets and state bytes are not all in L1). */
    static final int QUEUE_IDS = 4096;

    /** The allocator shared by the benchmark's threads: default range {@code [1, 2^20 - 1]}, default stripes. */
    @State(Scope.Benchmark)
    public static class AllocatorState
    {
        @Param({"grace", "immediate"})
        public String reuse;

        PasidAllocator allocator;

        @Setup(Level.Trial)
        public void setup()
        {
            final PasidAllocator.Builder builder = PasidAllocator.builder();
            switch (reuse)
            {
                case "grace":
                    break;
                case "immediate":
                    builder.immediateReuse();
                    break;
                default:
                    throw new IllegalArgumentException("reuse " + reuse + " must be grace or immediate");
            }
            allocator = builder.build();
        }
    }

    /** Per-thread failure count (should stay 0). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Failures
    {
        public long allocateFailures;

        @Setup(Level.Iteration)
        public void reset()
        {
            allocateFailures = 0;
        }
    }

    /** The reclaim queue alone, over {@code [1, QUEUE_IDS]}, all ids {@code IN_USE} between invocations. */
    @State(Scope.Thread)
    public static class QueueState
    {
        EpochDomain domain;
        IdStateTable states;
        EpochReclaimQueue queue;
        EpochReclaimQueue baggedQueue;
        EpochReclaimQueue.ReclaimSink sink;
        int nextId;

        @Setup(Level.Trial)
        public void setup()
        {
            domain = new EpochDomain(16);
            states = new IdStateTable(1, QUEUE_IDS);
            for (int id = 1; id <= QUEUE_IDS; id++)
            {
                states.putRelease(id, IdStateTable.IN_USE);
            }
            queue = new EpochReclaimQueue(1, QUEUE_IDS, domain, states, SystemNanoClock.INSTANCE, 0L);
            baggedQueue = new EpochReclaimQueue(1, QUEUE_IDS, domain, states, SystemNanoClock.INSTANCE, 0L, 1);
            sink = this::reclaimed;
            nextId = 1;
        }

        /**
         * What the allocator's sink does (a release store out of RETIRED: the reclaimer owns RETIRED ids); here back
         * to IN_USE, ready to retire again. The check is a plain load, not part of the allocator's cost.
         */
        private void reclaimed(final int id)
        {
            if (IdStateTable.RETIRED != states.getOpaque(id))
            {
                throw new IllegalStateException("reclaimed id " + id + " was not RETIRED");
            }
            states.putRelease(id, IdStateTable.IN_USE);
        }
    }

    @Benchmark
    @Threads(1)
    public int allocateFree(final AllocatorState state, final Failures failures)
    {
        return allocateFreeOnce(state.allocator, failures);
    }

    @Benchmark
    @Threads(2)
    public int allocateFree2Threads(final AllocatorState state, final Failures failures)
    {
        return allocateFreeOnce(state.allocator, failures);
    }

    private static int allocateFreeOnce(final PasidAllocator allocator, final Failures failures)
    {
        final int id = allocator.allocate();
        if (id > 0)
        {
            allocator.free(id);
        }
        else
        {
            failures.allocateFailures++;
        }
        return id;
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public int retireReclaimBatch(final QueueState state)
    {
        final EpochReclaimQueue queue = state.queue;
        final int first = state.nextId;
        for (int id = first; id < first + BATCH; id++)
        {
            if (!queue.retire(id, 0))
            {
                throw new IllegalStateException("retire of id " + id + " failed: not IN_USE");
            }
        }
        return reclaimBatch(state, state.queue, first);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public int retireReclaimBatchBagged(final QueueState state)
    {
        final EpochReclaimQueue queue = state.baggedQueue;
        final int first = state.nextId;
        for (int id = first; id < first + BATCH; id++)
        {
            if (!queue.retire(id, 0, 0))
            {
                throw new IllegalStateException("retire of id " + id + " failed: not IN_USE");
            }
        }
        return reclaimBatch(state, queue, first);
    }

    /**
     * The bond path: retire with one holder ({@code IN_USE -> HELD}), then the holder's last release queues it
     * ({@code HELD -> RETIRED}), then reclaim; per id.
     */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public int retireHeldReleaseBatch(final QueueState state)
    {
        final EpochReclaimQueue queue = state.queue;
        final int first = state.nextId;
        for (int id = first; id < first + BATCH; id++)
        {
            if (!queue.retire(id, 1) || 0 != queue.release(id))
            {
                throw new IllegalStateException("retire/release of id " + id + " failed");
            }
        }
        return reclaimBatch(state, state.queue, first);
    }

    private static int reclaimBatch(final QueueState state, final EpochReclaimQueue queue, final int first)
    {
        int reclaimed = 0;
        int passes = 0;
        while (reclaimed < BATCH)
        {
            // Two passes: the first advances the epoch to e + 1, the second to e + 2 and drains the batch.
            reclaimed += queue.reclaim(BATCH, state.sink);
            if (++passes > 8)
            {
                throw new IllegalStateException("batch not reclaimed after " + passes + " passes: " + reclaimed +
                    " of " + BATCH + ", epoch " + state.domain.epoch());
            }
        }
        final int next = first + BATCH;
        state.nextId = next > QUEUE_IDS ? 1 : next;
        return reclaimed;
    }
}
