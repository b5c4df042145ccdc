package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.agrona.concurrent.SystemNanoClock;
import org.pasidkit.allocator.AllocatorCounts;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdState;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.allocator.internal.EpochReclaimQueue;
import org.pasidkit.allocator.internal.IdStateTable;

/*
 * Races on EpochReclaimQueue, driven through PasidAllocator with a grace period (the default): a retired id must not
 * come back while a reader that could have seen it is inside its critical section, and concurrent reclaimers move
 * each id exactly once. Results use -1 for EXHAUSTED, -2 for ALL_IN_GRACE.
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t EpochReclaimQueueTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class EpochReclaimQueueTests
{
    private EpochReclaimQueueTests()
    {
    }

    /** A tiny allocator with a grace period: ids [1, maxId], 2 stripes, rings of 4, refills of 2, 2 reader slots. */
    static PasidAllocator tinyWithGrace(final int maxId)
    {
        return PasidAllocator.builder().range(1, maxId).stripes(2).cacheCapacity(4).refillBatch(2).maxReaders(2)
            .build();
    }

    @JCStressTest
    @Description("Range [1, 1]; id 1 is in use. Reader: enter(), then publish 'inside' (volatile) and stay inside. " +
        "Retirer: r1 = 'inside' seen (volatile read), then free(1) (retire) and allocate(), which reclaims inline " +
        "(each reclaim tries one epoch advance; 2 are needed). EBR protects readers that entered before the retire: " +
        "if the retirer saw the flag, the reader was pinned before the retire, so the id must stay in grace.")
    @Outcome(id = "1, -2", expect = Expect.ACCEPTABLE, desc = "reader inside before the retire: reuse held back")
    @Outcome(id = "0, -2", expect = Expect.ACCEPTABLE,
        desc = "reader pinned before the second advance (flag not yet seen): reuse held back")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE,
        desc = "reader entered after the retire and the advances: it cannot have seen the id, reuse is safe")
    @Outcome(id = "1, 1", expect = Expect.FORBIDDEN,
        desc = "id reused while a reader that entered before its retirement is still inside")
    @Outcome(id = ".*, -1", expect = Expect.FORBIDDEN, desc = "EXHAUSTED while the only id was in its grace period")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected result")
    @State
    public static class ReaderVsRetireAndReclaim
    {
        final PasidAllocator allocator = tinyWithGrace(1);
        final EpochDomain.Reader reader;
        volatile int inside;

        public ReaderVsRetireAndReclaim()
        {
            allocator.reserve(1);
            reader = allocator.epochDomain().register();
        }

        @Actor
        public void reader()
        {
            reader.enter();
            inside = 1;
        }

        @Actor
        public void retirer(final II_Result r)
        {
            r.r1 = inside;
            allocator.free(1);
            r.r2 = allocator.allocate();
        }
    }

    @JCStressTest
    @Description("Range [1, 4]; ids 1, 2 retired in epoch 0, ids 3, 4 in epoch 1 (global epoch 1), all in the retire " +
        "ring of the stripe the state's builder leases (it may be an actor). Two threads call reclaim(): the stripe's " +
        "owner first reclaims its own aged ids (one advance attempt), then a shared pass (the try-lock; one advance " +
        "attempt, from every ring) moves eligible ids (epoch >= retired + 2) to the caller's ring or the bitmap. One " +
        "call may advance twice and take all four. The ring stamps epochs per 64 slots (the latest epoch of the segment), " +
        "so ids 1, 2 are judged as epoch 1 there. r1, r2 = ids each reclaimed; r3 = FREE + CACHED ids; r4 = RETIRED " +
        "ids, or -100 if the queue's backlog disagrees with them, or -200 if an id left RETIRED before the epoch was " +
        "two past its retirement.")
    @Outcome(id = "2, 2, 4, 0", expect = Expect.ACCEPTABLE, desc = "actor 1 reclaimed first (1, 2), actor 2 then (3, 4)")
    @Outcome(id = "2, 0, 2, 2", expect = Expect.ACCEPTABLE,
        desc = "actor 2 found nothing eligible, or lost the try-lock and returned at once")
    @Outcome(id = "0, 2, 2, 2", expect = Expect.ACCEPTABLE,
        desc = "actor 1 found nothing eligible, or lost the try-lock and returned at once")
    @Outcome(id = "0, 0, 0, 4", expect = Expect.ACCEPTABLE,
        desc = "neither reclaimed: the four ids share one 64-slot epoch stamp of the ring (epoch 1, the latest), so " +
            "ids 1, 2 wait for epoch 3 too (one advance late, never early), and each call advanced once")
    @Outcome(id = "4, 0, 4, 0", expect = Expect.ACCEPTABLE,
        desc = "actor 1 advanced twice (its own ring's reclaim, then the shared pass) and reclaimed all four")
    @Outcome(id = "0, 4, 4, 0", expect = Expect.ACCEPTABLE,
        desc = "actor 2 advanced twice (its own ring's reclaim, then the shared pass) and reclaimed all four")
    @Outcome(id = {"2, 2, 2, .*", "4, [1-9].*", "[1-9], 4, .*", ".*, -200"}, expect = Expect.FORBIDDEN,
        desc = "an id reclaimed twice, or ids reclaimed before their grace period")
    @Outcome(id = {"-1, .*", ".*, -1, .*"}, expect = Expect.FORBIDDEN, desc = "reclaim threw: an id was not RETIRED")
    @Outcome(expect = Expect.FORBIDDEN, desc = "counts do not add up: an id lost or counted twice")
    @State
    public static class TwoReclaimers
    {
        final PasidAllocator allocator = tinyWithGrace(4);

        public TwoReclaimers()
        {
            final EpochDomain domain = allocator.epochDomain();
            for (int id = 1; id <= 4; id++)
            {
                allocator.reserve(id);
            }
            allocator.free(1);
            allocator.free(2);
            if (!domain.tryAdvance() || 1 != domain.epoch())
            {
                throw new IllegalStateException("setup: epoch did not reach 1");
            }
            allocator.free(3);
            allocator.free(4);
        }

        @Actor
        public void actor1(final IIII_Result r)
        {
            r.r1 = reclaim();
        }

        @Actor
        public void actor2(final IIII_Result r)
        {
            r.r2 = reclaim();
        }

        private int reclaim()
        {
            try
            {
                return allocator.reclaim();
            }
            catch (final IllegalStateException ex)
            {
                return -1;
            }
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            final AllocatorCounts counts = allocator.counts(new AllocatorCounts());
            r.r3 = (int)(counts.free() + counts.cached());
            r.r4 = counts.reclaimBacklog() == counts.retired() && counts.inUse() == 0 ? (int)counts.retired() : -100;
            final long epoch = allocator.epochDomain().epoch();
            for (int id = 1; id <= 4; id++)
            {
                // ids 1, 2 were retired in epoch 0, ids 3, 4 in epoch 1
                if (IdState.RETIRED != allocator.stateOf(id) && epoch < (id <= 2 ? 2 : 3))
                {
                    r.r4 = -200;
                }
            }
        }
    }

    @JCStressTest
    @Description("Range [1, 2]; ids 1, 2 retired in epoch 0 and the epoch advanced to 2, so both are past their grace " +
        "period. Both threads allocate from empty rings: the slow path reclaims inline into the caller's ring (one " +
        "thread wins the reclaim try-lock and moves both ids); the other finds the bitmap full and must steal. " +
        "r1, r2 = ids (-1 EXHAUSTED, -2 ALL_IN_GRACE).")
    @Outcome(id = {"1, 2", "2, 1"}, expect = Expect.ACCEPTABLE,
        desc = "one thread reclaimed both ids into its ring and popped one; the other stole the second")
    @Outcome(id = {"-2, [12]", "[12], -2"}, expect = Expect.ACCEPTABLE_INTERESTING,
        desc = "ALL_IN_GRACE: the loser saw the queue non-empty while the winner held the try-lock (retry later)")
    @Outcome(id = {"1, 1", "2, 2"}, expect = Expect.FORBIDDEN, desc = "one id handed out twice")
    @Outcome(id = {"-1, .*", ".*, -1"}, expect = Expect.FORBIDDEN,
        desc = "false EXHAUSTED: an id past its grace period was in transit from the queue into the other ring")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected result")
    @State
    public static class ReclaimIntoRingVsSteal
    {
        final PasidAllocator allocator = tinyWithGrace(2);

        public ReclaimIntoRingVsSteal()
        {
            final EpochDomain domain = allocator.epochDomain();
            allocator.reserve(1);
            allocator.reserve(2);
            allocator.free(1);
            allocator.free(2);
            if (!domain.tryAdvance() || !domain.tryAdvance() || 2 != domain.epoch())
            {
                throw new IllegalStateException("setup: epoch did not reach 2");
            }
        }

        @Actor
        public void actor1(final II_Result r)
        {
            r.r1 = allocator.allocate();
        }

        @Actor
        public void actor2(final II_Result r)
        {
            r.r2 = allocator.allocate();
        }
    }
    @JCStressTest
    @Description("EpochReclaimQueue alone, ids [1, 193], one stripe ring (its owner seals the oldest 64 into the " +
        "shared queue once the ring holds SEAL_AT = 192). Setup: ids 1..191 retired into the ring at epoch 0 (owned by " +
        "the owner actor from here on). Owner: retire(192), which seals [0, 64) with a CAS, then retire(193), noting " +
        "the epoch before each. Reclaimer: reclaim() twice: " +
        "the epoch goes to 1 and 2, and at 2 it takes the aged prefix (ids of epoch 0) with a CAS of the same cursor. " +
        "Arbiter: more passes until everything is reclaimed. r1 = ids reclaimed exactly once, r2 = ids reclaimed more " +
        "than once, r3 = ids never reclaimed; r4 = 1 if an id was reclaimed before the epoch noted before its retire " +
        "+ 2, + 2 if the backlog is not 0 at the end.")
    @Outcome(id = "193, 0, 0, 0", expect = Expect.ACCEPTABLE,
        desc = "each id reclaimed once, after its grace, whichever take won the cursor")
    @Outcome(id = ".*, [1-9][0-9]*, .*, .*", expect = Expect.FORBIDDEN,
        desc = "an id reclaimed twice: two takers claimed the same range")
    @Outcome(id = ".*, 0, [1-9][0-9]*, .*", expect = Expect.FORBIDDEN,
        desc = "an id never reclaimed: stranded in the ring or lost between a take and the queue")
    @Outcome(id = "193, 0, 0, [13]", expect = Expect.FORBIDDEN,
        desc = "an id reclaimed before two epoch advances past its retirement")
    @Outcome(expect = Expect.FORBIDDEN, desc = "backlog not 0 after every id was reclaimed, or another result")
    @State
    public static class RingTakeVsAgedTake
    {
        static final int IDS = 193;
        final EpochDomain domain = new EpochDomain(2);
        final IdStateTable states = new IdStateTable(1, IDS);
        final EpochReclaimQueue queue =
            new EpochReclaimQueue(1, IDS, domain, states, SystemNanoClock.INSTANCE, 0L, 1);
        final int[] reclaimedTimes = new int[IDS + 1];
        final long[] reclaimedEpoch = new long[IDS + 1];
        final long[] epochBeforeRetire = new long[IDS + 1];
        final EpochReclaimQueue.ReclaimSink sink = this::reclaimed;

        public RingTakeVsAgedTake()
        {
            if (IDS != EpochReclaimQueue.SEAL_AT + 1)
            {
                throw new IllegalStateException("IDS " + IDS + " must be SEAL_AT + 1 = " + (EpochReclaimQueue.SEAL_AT + 1));
            }
            for (int id = 1; id <= IDS; id++)
            {
                states.putRelease(id, IdStateTable.IN_USE);
            }
            for (int id = 1; id < IDS - 1; id++)
            {
                if (!queue.retire(id, 0, 0))
                {
                    throw new IllegalStateException("setup: retire of id " + id + " failed");
                }
            }
            if (0 != domain.epoch() || IDS - 2 != queue.backlog())
            {
                throw new IllegalStateException("setup: not " + (IDS - 2) + " ids in the ring at epoch 0");
            }
        }

        private void reclaimed(final int id)
        {
            reclaimedTimes[id]++;
            reclaimedEpoch[id] = domain.epoch();
            states.putRelease(id, IdStateTable.FREE);
        }

        @Actor
        public void owner()
        {
            epochBeforeRetire[IDS - 1] = domain.epoch();
            queue.retire(IDS - 1, 0, 0);
            epochBeforeRetire[IDS] = domain.epoch();
            queue.retire(IDS, 0, 0);
        }

        @Actor
        public void reclaimer()
        {
            queue.reclaim(256, sink);
            queue.reclaim(256, sink);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            for (int pass = 0; pass < 8; pass++)
            {
                queue.reclaim(256, sink);
            }
            int once = 0;
            int more = 0;
            int never = 0;
            int bad = 0;
            for (int id = 1; id <= IDS; id++)
            {
                final int times = reclaimedTimes[id];
                once += 1 == times ? 1 : 0;
                more += times > 1 ? 1 : 0;
                never += 0 == times ? 1 : 0;
                if (times > 0 && reclaimedEpoch[id] < epochBeforeRetire[id] + 2)
                {
                    bad |= 1;
                }
            }
            if (0 != queue.backlog())
            {
                bad |= 2;
            }
            r.r1 = once;
            r.r2 = more;
            r.r3 = never;
            r.r4 = bad;
        }
    }

    @JCStressTest
    @Description("EpochReclaimQueue alone, ids [1, 8], one stripe ring. Setup: ids 1..8 retired into the ring at " +
        "epoch 0, then the epoch advanced to 2 (all past their grace). Owner: reclaimOwn(stripe 0), the owner's " +
        "reclaim of its own aged ids (a CAS of the ring's taken cursor). Reclaimer: reclaim() (a shared pass, whose " +
        "aged take CASes the same cursor). Arbiter: more passes. r1 = ids reclaimed exactly once, r2 = ids reclaimed " +
        "more than once, r3 = ids never reclaimed, r4 = ids the owner's reclaim returned (it takes all 8 or none).")
    @Outcome(id = "8, 0, 0, 8", expect = Expect.ACCEPTABLE, desc = "the owner's CAS won: it reclaimed all 8")
    @Outcome(id = "8, 0, 0, 0", expect = Expect.ACCEPTABLE, desc = "the shared pass's aged take won: it reclaimed all 8")
    @Outcome(id = ".*, [1-9][0-9]*, .*, .*", expect = Expect.FORBIDDEN,
        desc = "an id reclaimed twice: the owner and the pass both took it")
    @Outcome(id = ".*, 0, [1-9][0-9]*, .*", expect = Expect.FORBIDDEN, desc = "an id never reclaimed: lost")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a partial take, or another result")
    @State
    public static class OwnReclaimVsAgedTake
    {
        static final int IDS = 8;
        final EpochDomain domain = new EpochDomain(2);
        final IdStateTable states = new IdStateTable(1, IDS);
        final EpochReclaimQueue queue =
            new EpochReclaimQueue(1, IDS, domain, states, SystemNanoClock.INSTANCE, 0L, 1);
        final java.util.concurrent.atomic.AtomicIntegerArray reclaimedTimes =
            new java.util.concurrent.atomic.AtomicIntegerArray(IDS + 1);
        final EpochReclaimQueue.ReclaimSink sink = this::reclaimed;
        int ownReclaimed;

        public OwnReclaimVsAgedTake()
        {
            for (int id = 1; id <= IDS; id++)
            {
                states.putRelease(id, IdStateTable.IN_USE);
                if (!queue.retire(id, 0, 0))
                {
                    throw new IllegalStateException("setup: retire of id " + id + " failed");
                }
            }
            domain.tryAdvance();
            domain.tryAdvance();
            if (2 != domain.epoch() || IDS != queue.backlog())
            {
                throw new IllegalStateException("setup: not " + IDS + " ids in the ring at epoch 2");
            }
        }

        private void reclaimed(final int id)
        {
            reclaimedTimes.incrementAndGet(id);
            if (!states.compareAndSet(id, IdStateTable.RETIRED, IdStateTable.FREE))
            {
                reclaimedTimes.addAndGet(id, 100); // reclaimed while not RETIRED: counts as more than once
            }
        }

        @Actor
        public void owner()
        {
            ownReclaimed = queue.reclaimOwn(0, 256, sink);
        }

        @Actor
        public void reclaimer()
        {
            queue.reclaim(256, sink);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            for (int pass = 0; pass < 4; pass++)
            {
                queue.reclaim(256, sink);
            }
            int once = 0;
            int more = 0;
            int never = 0;
            for (int id = 1; id <= IDS; id++)
            {
                final int times = reclaimedTimes.get(id);
                once += 1 == times ? 1 : 0;
                more += times > 1 ? 1 : 0;
                never += 0 == times ? 1 : 0;
            }
            r.r1 = once;
            r.r2 = more;
            r.r3 = never;
            r.r4 = 0 == queue.backlog() ? ownReclaimed : -1;
        }
    }
}
