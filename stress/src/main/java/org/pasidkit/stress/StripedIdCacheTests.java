package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.allocator.internal.IdStateTable;
import org.pasidkit.allocator.internal.StripedIdCache;

/*
 * Races on StripedIdCache: the owner pops its ring with plain loads and stores inside enter/exit (an opaque store of
 * busy, AsymmetricFence.light(), a load of stop) while a thief holds the ring (a CAS of stop, AsymmetricFence.heavy(),
 * a wait for busy 0) and takes an id out of it. The pair busy/stop must keep them apart: run it in both fence modes
 * (add -Dpasidkit.fence=fenced to -jvmArgs for the fenced one).
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar -t StripedIdCacheTests \
 *       -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class StripedIdCacheTests
{
    private StripedIdCacheTests()
    {
    }

    /** Stripe 0's ring of a 2-stripe cache holding ids 1, 2 (oldest first), both CACHED. */
    static StripedIdCache ringHoldingOneAndTwo(final IdStateTable states)
    {
        final StripedIdCache cache = new StripedIdCache(2, 4, states);
        cache.enter(0);
        for (int id = 1; id <= 2; id++)
        {
            states.putRelease(id, IdStateTable.CACHED);
            cache.push(0, id);
        }
        cache.exit(0);
        return cache;
    }

    /** Ids 1 and 2 that are IN_USE. */
    static int inUse(final IdStateTable states)
    {
        int inUse = 0;
        for (int id = 1; id <= 2; id++)
        {
            inUse += IdStateTable.IN_USE == states.get(id) ? 1 : 0;
        }
        return inUse;
    }

    @JCStressTest
    @Description("Stripe 0's ring holds ids 1, 2 (oldest first). Its owner pops once inside enter/exit (r1 = -1 if " +
        "enter found a thief holding the ring) while a thief steals once from any ring; both go for id 1 first. " +
        "r1 = popped id, r2 = stolen id, r3 = ids IN_USE afterwards.")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "owner popped id 1 first, the thief then took id 2")
    @Outcome(id = "2, 1, 2", expect = Expect.ACCEPTABLE, desc = "the thief took id 1 first, the owner then popped id 2")
    @Outcome(id = "-1, 1, 1", expect = Expect.ACCEPTABLE_INTERESTING,
        desc = "the owner found the ring held by the thief and went around the cache; the thief took id 1")
    @Outcome(id = {"1, 1, .*", "2, 2, .*"}, expect = Expect.FORBIDDEN, desc = "one id handed out twice")
    @Outcome(id = {"0, .*", ".*, 0, .*"}, expect = Expect.FORBIDDEN,
        desc = "a pop or steal came back empty although a cached id was left: stranded")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected ids or states")
    @State
    public static class PopVsSteal
    {
        final IdStateTable states = new IdStateTable(1, 2);
        final StripedIdCache cache = ringHoldingOneAndTwo(states);

        @Actor
        public void owner(final III_Result r)
        {
            if (cache.enter(0))
            {
                r.r1 = cache.pop(0);
                cache.exit(0);
            }
            else
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void thief(final III_Result r)
        {
            r.r2 = cache.steal(1, 2);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = inUse(states);
        }
    }

    @JCStressTest
    @Description("Stripe 0's ring holds ids 1, 2 (oldest first). Its owner makes one sub-range allocation of [1, 1] " +
        "from its own ring (enterPopIn: the oldest id if it lies in the sub-range; r1 = -1 if enter found a thief " +
        "holding the ring) while a thief steals once from any ring, id 1 first. r1 = popped id (0: the oldest was " +
        "outside [1, 1]), r2 = stolen id, r3 = ids IN_USE afterwards.")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "owner popped id 1 first, the thief then took id 2")
    @Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE,
        desc = "the thief took id 1 first; the owner then found id 2 oldest, outside [1, 1], and took nothing")
    @Outcome(id = "-1, 1, 1", expect = Expect.ACCEPTABLE_INTERESTING,
        desc = "the owner found the ring held by the thief and went around the cache; the thief took id 1")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "id 1 handed out twice")
    @Outcome(id = "2, .*", expect = Expect.FORBIDDEN, desc = "a sub-range allocation of [1, 1] handed out id 2")
    @Outcome(id = "0, 2, .*", expect = Expect.FORBIDDEN,
        desc = "the owner took nothing while id 1, in its sub-range, was the oldest id of its ring")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected ids or states")
    @State
    public static class PopInVsSteal
    {
        final IdStateTable states = new IdStateTable(1, 2);
        final StripedIdCache cache = ringHoldingOneAndTwo(states);

        @Actor
        public void owner(final III_Result r)
        {
            r.r1 = cache.enterPopIn(0, 1, 1);
        }

        @Actor
        public void thief(final III_Result r)
        {
            r.r2 = cache.steal(1, 2);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = inUse(states);
        }
    }

    @JCStressTest
    @Description("Stripe 0's ring holds ids 1..16. Its owner pops until the ring is empty, one enter/exit per pop as " +
        "back-to-back allocations do (a pop that enter refuses is retried), while a thief steals once: the thief's take " +
        "overlaps the owner's run of operations. r1 = ids both handed out, r2 = ids handed out in all minus 16, " +
        "r3 = 1 if enter refused the owner at least once.")
    @Outcome(id = {"0, 0, 0", "0, 0, 1"}, expect = Expect.ACCEPTABLE,
        desc = "every id handed out exactly once (the owner may have found the ring held and retried)")
    @Outcome(id = "1, .*", expect = Expect.FORBIDDEN, desc = "the stolen id was also popped: handed out twice")
    @Outcome(id = "0, -1, .*", expect = Expect.FORBIDDEN, desc = "an id was lost: neither popped nor stolen")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected counts")
    @State
    public static class PopsVsSteal
    {
        static final int IDS = 16;
        final IdStateTable states = new IdStateTable(1, IDS);
        final StripedIdCache cache = new StripedIdCache(2, IDS, states);
        final boolean[] popped = new boolean[IDS + 1];
        int pops;
        int refused;
        int stolen;

        public PopsVsSteal()
        {
            cache.enter(0);
            for (int id = 1; id <= IDS; id++)
            {
                states.putRelease(id, IdStateTable.CACHED);
                cache.push(0, id);
            }
            cache.exit(0);
        }

        @Actor
        public void owner()
        {
            while (true)
            {
                if (cache.enter(0))
                {
                    final int id = cache.pop(0);
                    cache.exit(0);
                    if (0 == id)
                    {
                        return;
                    }
                    popped[id] = true;
                    pops++;
                }
                else
                {
                    refused = 1;
                    Thread.onSpinWait();
                }
            }
        }

        @Actor
        public void thief()
        {
            stolen = cache.steal(1, IDS);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r1 = stolen > 0 && popped[stolen] ? 1 : 0;
            r.r2 = pops + (stolen > 0 ? 1 : 0) - IDS;
            r.r3 = refused;
        }
    }
}
