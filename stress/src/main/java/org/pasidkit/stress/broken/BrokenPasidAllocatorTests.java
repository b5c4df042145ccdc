package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.internal.IdBitmap;
import org.pasidkit.allocator.internal.IdStateTable;
import org.pasidkit.allocator.internal.StripedIdCache;

/*
 * The PasidAllocatorTests races against broken allocators, each with one step removed:
 * - NoFalseExhaustedWithoutSteal: an allocator built from the real internals (IdBitmap, IdStateTable,
 *   StripedIdCache) whose slow path never steals from other threads' rings (Linux percpu_ida's flaw: ids strand in
 *   idle CPUs' caches);
 * - AllocateVsFree: BrokenPasidAllocator with AllocatorBug.POP_WITHOUT_CAS (the owner's pop stores IN_USE after
 *   checking CACHED, instead of a CAS);
 * - RefillVsSteal: BrokenPasidAllocator with AllocatorBug.REFILL_NOT_A_MOVE (a refill is not counted as a move, so
 *   the other thread's exhaustion scan can run while the refilled ids are in transit);
 * - RacingDoubleFree (PasidAllocatorDepotTests' table): BrokenPasidAllocator with AllocatorBug.FREE_WITHOUT_CAS
 *   (a free into the ring checks IN_USE, then stores CACHED, instead of a CAS);
 * - FlushToDepotVsAllocate (PasidAllocatorDepotTests' table): BrokenPasidAllocator with
 *   AllocatorBug.DEPOT_TAKE_WITHOUT_CAS (the first id of a magazine taken from the depot is handed out with a store of
 *   IN_USE instead of pop's CAS, so a dud, stolen from the ring's stale slot before the flush, goes out twice).
 * Each must reach FORBIDDEN; BrokenVariantsTest checks that it does. Not part of the build's jcstress run.
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenPasidAllocatorTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenPasidAllocatorTests
{
    static final int SPIN_LIMIT = 1 << 12;

    private BrokenPasidAllocatorTests()
    {
    }

    /** PasidAllocator's immediate-reuse paths minus the steal: ring pop, refill, direct bitmap claim, EXHAUSTED. */
    static final class NoStealAllocator
    {
        final IdBitmap bitmap;
        final IdStateTable states;
        final StripedIdCache cache;
        final int maxId;

        NoStealAllocator(final int maxId)
        {
            this.maxId = maxId;
            this.bitmap = new IdBitmap(1, maxId);
            this.states = new IdStateTable(1, maxId);
            this.cache = new StripedIdCache(2, 4, states);
        }

        void reserve(final int id)
        {
            if (!bitmap.tryClaim(id))
            {
                throw new IllegalStateException("setup: id " + id + " not free");
            }
            states.putRelease(id, IdStateTable.IN_USE);
        }

        int allocate()
        {
            final int stripe = cache.stripeOf(Thread.currentThread());
            if (stripe >= 0)
            {
                int id = cache.pop(stripe);
                if (0 != id)
                {
                    return id;
                }
                id = cache.refill(stripe, 2, bitmap);
                if (0 != id)
                {
                    return id;
                }
            }
            final int id = bitmap.claimInRange(1, maxId, 0);
            if (id > 0)
            {
                states.putRelease(id, IdStateTable.IN_USE);
                return id;
            }
            // BROKEN: no cache.steal(...): ids cached by other (idle) threads are invisible here.
            return IdAllocator.EXHAUSTED;
        }

        void free(final int id)
        {
            final int stripe = cache.stripeOf(Thread.currentThread());
            if (stripe >= 0 && states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.CACHED))
            {
                cache.push(stripe, id);
            }
            else if (states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.FREE))
            {
                bitmap.clear(id);
            }
        }
    }

    @JCStressTest
    @Description("BROKEN allocator without steal, against PasidAllocatorTests.NoFalseExhausted's table: r1 = state " +
        "of id 1 seen before allocating (0 FREE, 1 CACHED, 2 IN_USE), r2 = allocated id (-1 EXHAUSTED).")
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "saw id 1 CACHED in the idle thread's ring, stole it")
    @Outcome(id = "2, 1", expect = Expect.ACCEPTABLE, desc = "wait expired, but the free landed before the scan")
    @Outcome(id = "2, -1", expect = Expect.ACCEPTABLE, desc = "wait expired before the free: EXHAUSTED is right")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE, desc = "freed to the bitmap (holder had no stripe), then claimed")
    @Outcome(id = {"1, -1", "0, -1"}, expect = Expect.FORBIDDEN,
        desc = "false EXHAUSTED: the id was seen free (cached by an idle thread) but could not be allocated")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected state or id")
    @State
    public static class NoFalseExhaustedWithoutSteal
    {
        final NoStealAllocator allocator = new NoStealAllocator(1);

        public NoFalseExhaustedWithoutSteal()
        {
            allocator.reserve(1);
        }

        @Actor
        public void holder()
        {
            allocator.free(1);
        }

        @Actor
        public void taker(final II_Result r)
        {
            byte seen = allocator.states.get(1);
            for (int i = 0; i < SPIN_LIMIT && IdStateTable.IN_USE == seen; i++)
            {
                Thread.onSpinWait();
                seen = allocator.states.get(1);
            }
            r.r1 = seen;
            r.r2 = allocator.allocate();
        }
    }

    @JCStressTest
    @Description("BROKEN pop (POP_WITHOUT_CAS) against PasidAllocatorTests.AllocateVsFree's table: r1 = owner's id, " +
        "r2 = thief's id, r3 = final state of id 1.")
    @Outcome(id = "1, -1, 2", expect = Expect.ACCEPTABLE,
        desc = "the owner got its id back; the thief ran before the free or after the pop: EXHAUSTED is right")
    @Outcome(id = "-1, 1, 2", expect = Expect.ACCEPTABLE,
        desc = "the thief stole the id between the owner's free and its pop; the owner saw the range full")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "id 1 handed out twice (pop and steal both won)")
    @Outcome(id = "-1, -1, .*", expect = Expect.FORBIDDEN, desc = "id 1 free but nobody could allocate it: stranded")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id handed out but not IN_USE, or a bad result")
    @State
    public static class AllocateVsFree
    {
        final BrokenPasidAllocator allocator = BrokenPasidAllocator.tinyImmediate(1, AllocatorBug.POP_WITHOUT_CAS);

        public AllocateVsFree()
        {
            allocator.reserve(1);
        }

        @Actor
        public void owner(final III_Result r)
        {
            allocator.free(1);
            r.r1 = allocator.allocate();
        }

        @Actor
        public void thief(final III_Result r)
        {
            r.r2 = allocator.allocate();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = allocator.stateOf(1);
        }
    }

    @JCStressTest
    @Description("BROKEN refill (REFILL_NOT_A_MOVE) against PasidAllocatorTests.RefillVsSteal's table: r1, r2 = ids, " +
        "r3 = ids IN_USE afterwards.")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "actor 1 refilled (1 out, 2 cached); actor 2 stole 2")
    @Outcome(id = "2, 1, 2", expect = Expect.ACCEPTABLE, desc = "actor 2 refilled (1 out, 2 cached); actor 1 stole 2")
    @Outcome(id = {"1, 1, .*", "2, 2, .*"}, expect = Expect.FORBIDDEN, desc = "one id handed out twice")
    @Outcome(id = {"-1, .*", ".*, -1, .*"}, expect = Expect.FORBIDDEN,
        desc = "false EXHAUSTED: one id was free (in transit from the bitmap into the other thread's ring)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected ids or states")
    @State
    public static class RefillVsSteal
    {
        final BrokenPasidAllocator allocator = BrokenPasidAllocator.tinyImmediate(2, AllocatorBug.REFILL_NOT_A_MOVE);

        @Actor
        public void actor1(final III_Result r)
        {
            r.r1 = allocator.allocate();
        }

        @Actor
        public void actor2(final III_Result r)
        {
            r.r2 = allocator.allocate();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (IdStateTable.IN_USE == allocator.stateOf(1) ? 1 : 0) +
                (IdStateTable.IN_USE == allocator.stateOf(2) ? 1 : 0);
        }
    }

    @JCStressTest
    @Description("BROKEN free (FREE_WITHOUT_CAS) against PasidAllocatorDepotTests.RacingDoubleFree's table: id 1 of " +
        "[1, 2] is in use, two threads free it at once, each free returns (1) or is refused (0); the arbiter then " +
        "allocates until a sentinel. r1, r2 = the frees, r3 = ids the arbiter got (99: one handed out twice).")
    @Outcome(id = {"1, 0, 2", "0, 1, 2"}, expect = Expect.ACCEPTABLE,
        desc = "one free won, the other was refused; ids 1 and 2 both allocatable once")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "both frees of one id went through")
    @Outcome(id = "0, 0, .*", expect = Expect.FORBIDDEN, desc = "both frees refused: id 1 stays in use forever")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id lost or handed out twice, or anything else")
    @State
    public static class RacingDoubleFree
    {
        final BrokenPasidAllocator allocator = BrokenPasidAllocator.tinyImmediate(2, AllocatorBug.FREE_WITHOUT_CAS);

        public RacingDoubleFree()
        {
            allocator.reserve(1);
        }

        @Actor
        public void first(final III_Result r)
        {
            r.r1 = tryFree();
        }

        @Actor
        public void second(final III_Result r)
        {
            r.r2 = tryFree();
        }

        private int tryFree()
        {
            try
            {
                allocator.free(1);
                return 1;
            }
            catch (final IllegalArgumentException refused)
            {
                return 0;
            }
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            int mask = 0;
            int got = 0;
            for (int i = 0; i < 4; i++)
            {
                final int id = allocator.allocate();
                if (id <= 0)
                {
                    break;
                }
                got = 0 != (mask & (1 << id)) ? 99 : got + 1; // 99: an id handed out twice
                mask |= 1 << id;
                if (99 == got)
                {
                    break;
                }
            }
            r.r3 = got;
        }
    }

    @JCStressTest
    @Description("BROKEN depot take (DEPOT_TAKE_WITHOUT_CAS) against " +
        "PasidAllocatorDepotTests.FlushToDepotVsAllocate's table: ids [1, 5] all in use; the freer frees 1..5 (the " +
        "5th flushes ids 1 and 2 into a depot magazine), the taker allocates until a sentinel, the arbiter allocates " +
        "everything left. r1 = ids the taker got, r2 = distinct ids handed out by taker and arbiter, r3 = ids " +
        "handed out twice.")
    @Outcome(id = "[0-5], 5, 0", expect = Expect.ACCEPTABLE,
        desc = "every id handed out exactly once between the taker and the arbiter, however the frees interleaved")
    @Outcome(id = ".*, [0-4], 0", expect = Expect.FORBIDDEN,
        desc = "an id was lost: freed, but neither the taker nor the arbiter could allocate it (stranded in the " +
            "depot or in flight)")
    @Outcome(id = ".*, .*, [1-9]", expect = Expect.FORBIDDEN,
        desc = "an id handed out twice (depot, ring and bitmap disagree)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else")
    @State
    public static class FlushToDepotVsAllocate
    {
        static final int IDS = 5;
        final BrokenPasidAllocator allocator =
            BrokenPasidAllocator.tinyImmediate(IDS, AllocatorBug.DEPOT_TAKE_WITHOUT_CAS);
        int takerMask;

        public FlushToDepotVsAllocate()
        {
            for (int id = 1; id <= IDS; id++)
            {
                allocator.reserve(id);
            }
        }

        @Actor
        public void freer()
        {
            for (int id = 1; id <= IDS; id++)
            {
                allocator.free(id);
            }
        }

        @Actor
        public void taker(final III_Result r)
        {
            int got = 0;
            int mask = 0;
            int twice = 0;
            for (int i = 0; i < IDS; i++)
            {
                final int id = allocator.allocate();
                if (id <= 0)
                {
                    break;
                }
                got++;
                twice += (mask >>> id) & 1;
                mask |= 1 << id;
            }
            takerMask = mask;
            r.r1 = got;
            r.r3 = twice;
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            int mask = takerMask;
            int twice = r.r3;
            for (int i = 0; i <= IDS; i++)
            {
                final int id = allocator.allocate();
                if (id <= 0)
                {
                    break;
                }
                twice += (mask >>> id) & 1;
                mask |= 1 << id;
            }
            r.r2 = Integer.bitCount(mask);
            r.r3 = twice;
        }
    }
}
