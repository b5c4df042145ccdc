package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.internal.IdStateTable;

/*
 * The EpochReclaimQueueTests races against BrokenPasidAllocator over a BrokenReclaimQueue, each with one step of the
 * reclaim queue removed (see AllocatorBug). Each must reach FORBIDDEN; BrokenVariantsTest checks that it does.
 * Results use -1 for EXHAUSTED, -2 for ALL_IN_GRACE.
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenEpochReclaimQueueTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenEpochReclaimQueueTests
{
    private BrokenEpochReclaimQueueTests()
    {
    }

    @JCStressTest
    @Description("BROKEN grace of one epoch (ONE_EPOCH_GRACE) against EpochReclaimQueueTests." +
        "ReaderVsRetireAndReclaim's table: r1 = 'inside' seen by the retirer, r2 = its allocate after free(1).")
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
        final BrokenPasidAllocator allocator = BrokenPasidAllocator.tinyWithGrace(1, AllocatorBug.ONE_EPOCH_GRACE);
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
    @Description("BROKEN reclaim try-lock (check, then set: RECLAIM_LOCK_NOT_ATOMIC) against EpochReclaimQueueTests." +
        "TwoReclaimers' table: r1, r2 = ids each reclaimed; r3 = FREE ids; r4 = RETIRED ids, or -100 if the " +
        "queue's backlog disagrees with them.")
    @Outcome(id = "2, 2, 4, 0", expect = Expect.ACCEPTABLE,
        desc = "actor 1 reclaimed first (1, 2), actor 2 then (3, 4)")
    @Outcome(id = "2, 0, 2, 2", expect = Expect.ACCEPTABLE, desc = "actor 2 lost the try-lock and returned at once")
    @Outcome(id = "0, 2, 2, 2", expect = Expect.ACCEPTABLE, desc = "actor 1 lost the try-lock and returned at once")
    @Outcome(id = {"2, 2, 2, .*", "4, .*", ".*, 4, .*"}, expect = Expect.FORBIDDEN,
        desc = "an id reclaimed twice, or ids reclaimed before their grace period")
    @Outcome(id = {"-1, .*", ".*, -1, .*"}, expect = Expect.FORBIDDEN, desc = "reclaim threw: an id was not RETIRED")
    @Outcome(expect = Expect.FORBIDDEN, desc = "counts do not add up: an id lost or counted twice")
    @State
    public static class TwoReclaimers
    {
        final BrokenPasidAllocator allocator =
            BrokenPasidAllocator.tinyWithGrace(4, AllocatorBug.RECLAIM_LOCK_NOT_ATOMIC);

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
            final int retired = allocator.count(IdStateTable.RETIRED);
            r.r3 = allocator.count(IdStateTable.FREE);
            r.r4 = allocator.backlog() == retired && 0 == allocator.count(IdStateTable.IN_USE) &&
                0 == allocator.count(IdStateTable.CACHED) ? retired : -100;
        }
    }

    @JCStressTest
    @Description("BROKEN reclaim pass that is not a move (RECLAIM_PASS_NOT_A_MOVE) against EpochReclaimQueueTests." +
        "ReclaimIntoRingVsSteal's table: r1, r2 = ids (-1 EXHAUSTED, -2 ALL_IN_GRACE).")
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
        final BrokenPasidAllocator allocator =
            BrokenPasidAllocator.tinyWithGrace(2, AllocatorBug.RECLAIM_PASS_NOT_A_MOVE);

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
    @Description("BROKEN stripe bag (the owner publishes its append with a release store, no CAS: BAG_APPEND_WITHOUT_CAS) against EpochReclaimQueueTests.BagAppendVsAgedSeal's table: r1, r2, " +
        "r3 = times ids 1, 2, 3 were reclaimed; r4 = 1 if an id was reclaimed before the epoch noted before its " +
        "retire + 2, + 2 if the backlog is not 0 at the end.")
    @Outcome(id = "1, 1, 1, 0", expect = Expect.ACCEPTABLE,
        desc = "each id reclaimed once, after its grace, whichever sealer won and whether the owner's append landed " +
            "in the stolen bag, a new bag or a ticket")
    @Outcome(id = {"0, .*", "[0-9], 0, .*", "[0-9], [0-9], 0, .*"}, expect = Expect.FORBIDDEN,
        desc = "an id never reclaimed: stranded (lost between the owner's append and the seal)")
    @Outcome(id = {"[2-9], .*", "[0-9], [2-9], .*", "[0-9], [0-9], [2-9], .*"}, expect = Expect.FORBIDDEN,
        desc = "an id reclaimed twice: copied by a seal and left in the reopened bag")
    @Outcome(id = "1, 1, 1, [13]", expect = Expect.FORBIDDEN,
        desc = "an id reclaimed before two epoch advances past its retirement")
    @Outcome(expect = Expect.FORBIDDEN, desc = "backlog not 0 after every id was reclaimed, or another result")
    @State
    public static class BagAppendWithoutCasVsAgedSeal
    {
        final EpochDomain domain = new EpochDomain(2);
        final IdStateTable states = new IdStateTable(1, 3);
        final BrokenBagReclaimQueue queue = new BrokenBagReclaimQueue(domain, states, AllocatorBug.BAG_APPEND_WITHOUT_CAS);
        final int[] reclaimedTimes = new int[4];
        final long[] reclaimedEpoch = new long[4];
        final long[] epochBeforeRetire = new long[4];
        final java.util.function.IntConsumer sink = this::reclaimed;

        public BagAppendWithoutCasVsAgedSeal()
        {
            for (int id = 1; id <= 3; id++)
            {
                states.putRelease(id, IdStateTable.IN_USE);
            }
            epochBeforeRetire[1] = domain.epoch();
            if (!queue.retire(1) || 0 != domain.epoch())
            {
                throw new IllegalStateException("setup: retire of id 1 at epoch 0 failed");
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
            epochBeforeRetire[2] = domain.epoch();
            queue.retire(2);
            epochBeforeRetire[3] = domain.epoch();
            queue.retire(3);
        }

        @Actor
        public void reclaimer()
        {
            queue.reclaim(8, sink);
            queue.reclaim(8, sink);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            for (int pass = 0; pass < 8; pass++)
            {
                queue.reclaim(8, sink);
            }
            r.r1 = reclaimedTimes[1];
            r.r2 = reclaimedTimes[2];
            r.r3 = reclaimedTimes[3];
            int bad = 0;
            for (int id = 1; id <= 3; id++)
            {
                if (reclaimedTimes[id] > 0 && reclaimedEpoch[id] < epochBeforeRetire[id] + 2)
                {
                    bad |= 1;
                }
            }
            if (0 != queue.backlog())
            {
                bad |= 2;
            }
            r.r4 = bad;
        }
    }

    @JCStressTest
    @Description("BROKEN stripe bag (the owner appends to a bag of an older epoch: BAG_NO_EPOCH_SEAL) against EpochReclaimQueueTests.BagAppendVsAgedSeal's table: r1, r2, " +
        "r3 = times ids 1, 2, 3 were reclaimed; r4 = 1 if an id was reclaimed before the epoch noted before its " +
        "retire + 2, + 2 if the backlog is not 0 at the end.")
    @Outcome(id = "1, 1, 1, 0", expect = Expect.ACCEPTABLE,
        desc = "each id reclaimed once, after its grace, whichever sealer won and whether the owner's append landed " +
            "in the stolen bag, a new bag or a ticket")
    @Outcome(id = {"0, .*", "[0-9], 0, .*", "[0-9], [0-9], 0, .*"}, expect = Expect.FORBIDDEN,
        desc = "an id never reclaimed: stranded (lost between the owner's append and the seal)")
    @Outcome(id = {"[2-9], .*", "[0-9], [2-9], .*", "[0-9], [0-9], [2-9], .*"}, expect = Expect.FORBIDDEN,
        desc = "an id reclaimed twice: copied by a seal and left in the reopened bag")
    @Outcome(id = "1, 1, 1, [13]", expect = Expect.FORBIDDEN,
        desc = "an id reclaimed before two epoch advances past its retirement")
    @Outcome(expect = Expect.FORBIDDEN, desc = "backlog not 0 after every id was reclaimed, or another result")
    @State
    public static class BagNoEpochSealVsAgedSeal
    {
        final EpochDomain domain = new EpochDomain(2);
        final IdStateTable states = new IdStateTable(1, 3);
        final BrokenBagReclaimQueue queue = new BrokenBagReclaimQueue(domain, states, AllocatorBug.BAG_NO_EPOCH_SEAL);
        final int[] reclaimedTimes = new int[4];
        final long[] reclaimedEpoch = new long[4];
        final long[] epochBeforeRetire = new long[4];
        final java.util.function.IntConsumer sink = this::reclaimed;

        public BagNoEpochSealVsAgedSeal()
        {
            for (int id = 1; id <= 3; id++)
            {
                states.putRelease(id, IdStateTable.IN_USE);
            }
            epochBeforeRetire[1] = domain.epoch();
            if (!queue.retire(1) || 0 != domain.epoch())
            {
                throw new IllegalStateException("setup: retire of id 1 at epoch 0 failed");
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
            epochBeforeRetire[2] = domain.epoch();
            queue.retire(2);
            epochBeforeRetire[3] = domain.epoch();
            queue.retire(3);
        }

        @Actor
        public void reclaimer()
        {
            queue.reclaim(8, sink);
            queue.reclaim(8, sink);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            for (int pass = 0; pass < 8; pass++)
            {
                queue.reclaim(8, sink);
            }
            r.r1 = reclaimedTimes[1];
            r.r2 = reclaimedTimes[2];
            r.r3 = reclaimedTimes[3];
            int bad = 0;
            for (int id = 1; id <= 3; id++)
            {
                if (reclaimedTimes[id] > 0 && reclaimedEpoch[id] < epochBeforeRetire[id] + 2)
                {
                    bad |= 1;
                }
            }
            if (0 != queue.backlog())
            {
                bad |= 2;
            }
            r.r4 = bad;
        }
    }
}
