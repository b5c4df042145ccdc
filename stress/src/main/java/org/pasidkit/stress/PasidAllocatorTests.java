package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.IdState;
import org.pasidkit.allocator.PasidAllocator;

/*
 * Races through PasidAllocator's caches (no grace period: immediateReuse), on one bitmap word of one or two ids, with
 * two stripes so each actor leases its own. Results use -1 for EXHAUSTED and IdState ordinals for states
 * (0 FREE, 1 CACHED, 2 IN_USE). Setup claims ids with reserve(), which leases no stripe for the constructing thread.
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar -t PasidAllocatorTests \
 *       -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class PasidAllocatorTests
{
    /** Longest bounded wait of an actor for the other actor's step, in onSpinWait calls (tens of microseconds). */
    static final int SPIN_LIMIT = 1 << 12;

    private PasidAllocatorTests()
    {
    }

    /** A tiny allocator without grace period: ids [1, maxId], 2 stripes, rings of 4, refills of 2. */
    static PasidAllocator tinyImmediate(final int maxId)
    {
        return PasidAllocator.builder().range(1, maxId).stripes(2).cacheCapacity(4).refillBatch(2).immediateReuse()
            .build();
    }

    @JCStressTest
    @Description("Range [1, 1]; id 1 is in use by the owner. The owner frees it (into its own ring) and allocates " +
        "again (pop); a thief allocates (its ring and the bitmap are empty, so it steals). r1 = owner's id, " +
        "r2 = thief's id, r3 = final state of id 1.")
    @Outcome(id = "1, -1, 2", expect = Expect.ACCEPTABLE,
        desc = "the owner got its id back; the thief ran before the free or after the pop: EXHAUSTED is right")
    @Outcome(id = "-1, 1, 2", expect = Expect.ACCEPTABLE,
        desc = "the thief stole the id between the owner's free and its pop; the owner saw the range full")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "id 1 handed out twice (pop and steal both won)")
    @Outcome(id = "-1, -1, .*", expect = Expect.FORBIDDEN, desc = "id 1 free but nobody could allocate it: stranded")
    @Outcome(id = {"1, -1, 1", "-1, 1, 1"}, expect = Expect.FORBIDDEN,
        desc = "id 1 handed out but still CACHED: the allocation lost its state transition")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id handed out but not IN_USE otherwise, or a bad result")
    @State
    public static class AllocateVsFree
    {
        final PasidAllocator allocator = tinyImmediate(1);

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
            r.r3 = allocator.stateOf(1).ordinal();
        }
    }

    @JCStressTest
    @Description("Range [1, 1]; id 1 is in use. Both actors free it (a racing double free: one is refused); actor 2 " +
        "then reserves it. Whichever free won, id 1 is freed and nobody allocates it, so the reserve must get it, " +
        "also while the winning free is between its state CAS (IN_USE -> CACHING) and its push into its ring. " +
        "r1, r2 = 1 if that actor's free succeeded, 0 if refused; r3 = 1 if the reserve succeeded.")
    @Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = Expect.ACCEPTABLE,
        desc = "one free won, the other was refused; the reserve took the freed id")
    @Outcome(id = "1, 1, 1", expect = Expect.ACCEPTABLE,
        desc = "actor 2 freed and reserved id 1, then actor 1's free freed it again (it held it by then)")
    @Outcome(id = ".*, .*, 0", expect = Expect.FORBIDDEN,
        desc = "reserve refused a freed id that nobody holds (it read CACHING, a free in flight, as in use)")
    @Outcome(id = "0, 0, .*", expect = Expect.FORBIDDEN, desc = "both frees refused: the id is lost")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected result")
    @State
    public static class RefusedFreeThenReserve
    {
        final PasidAllocator allocator = tinyImmediate(1);

        public RefusedFreeThenReserve()
        {
            allocator.reserve(1);
        }

        @Actor
        public void actor1(final III_Result r)
        {
            r.r1 = tryFree(allocator, 1);
        }

        @Actor
        public void actor2(final III_Result r)
        {
            r.r2 = tryFree(allocator, 1);
            r.r3 = allocator.reserve(1) ? 1 : 0;
        }
    }

    /** 1 if {@code free(id)} succeeded, 0 if it was refused (not in use). */
    static int tryFree(final PasidAllocator allocator, final int id)
    {
        try
        {
            allocator.free(id);
            return 1;
        }
        catch (final IllegalArgumentException refused)
        {
            return 0;
        }
    }

    @JCStressTest
    @Description("Range [1, 2], refill batch 2, all free. Both actors allocate from empty rings: the first refill " +
        "claims both ids with one CAS, hands one out and caches the other; the second thread finds the bitmap full " +
        "and must steal the cached id (the exhaustion scan re-runs while refills move ids). r1, r2 = ids, " +
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
        final PasidAllocator allocator = tinyImmediate(2);

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
            r.r3 = (IdState.IN_USE == allocator.stateOf(1) ? 1 : 0) + (IdState.IN_USE == allocator.stateOf(2) ? 1 : 0);
        }
    }

    @JCStressTest
    @Description("No false EXHAUSTED. Range [1, 1]; id 1 is in use. The holder frees it into its own ring and then " +
        "stays idle; the other thread waits (bounded) until it sees id 1 no longer IN_USE, then allocates. An id " +
        "seen free must be allocatable by every thread (steal), so EXHAUSTED after seeing it CACHED is a stranded " +
        "id (percpu_ida's bug). r1 = state seen before allocating, r2 = allocated id.")
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "saw id 1 CACHED in the idle thread's ring, stole it")
    @Outcome(id = "2, 1", expect = Expect.ACCEPTABLE, desc = "wait expired, but the free landed before the scan")
    @Outcome(id = "2, -1", expect = Expect.ACCEPTABLE, desc = "wait expired before the free: EXHAUSTED is right")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE, desc = "freed to the bitmap (holder had no stripe), then claimed")
    @Outcome(id = {"1, -1", "0, -1"}, expect = Expect.FORBIDDEN,
        desc = "false EXHAUSTED: the id was seen free (cached by an idle thread) but could not be allocated")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected state or id")
    @State
    public static class NoFalseExhausted
    {
        final PasidAllocator allocator = tinyImmediate(1);

        public NoFalseExhausted()
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
            IdState seen = allocator.stateOf(1);
            for (int i = 0; i < SPIN_LIMIT && IdState.IN_USE == seen; i++)
            {
                Thread.onSpinWait();
                seen = allocator.stateOf(1);
            }
            r.r1 = seen.ordinal();
            r.r2 = allocator.allocate();
        }
    }
}
