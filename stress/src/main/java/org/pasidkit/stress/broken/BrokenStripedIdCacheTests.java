package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.allocator.internal.IdStateTable;

/*
 * StripedIdCacheTests.PopVsSteal against BrokenStripedIdCache with AllocatorBug.STEAL_WITHOUT_CAS: the thief checks
 * that the id is CACHED, then stores IN_USE, so it and the owner's pop (a CAS) can both take id 1. It must reach
 * FORBIDDEN; BrokenVariantsTest checks that it does.
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenStripedIdCacheTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenStripedIdCacheTests
{
    private BrokenStripedIdCacheTests()
    {
    }

    @JCStressTest
    @Description("BROKEN steal (check CACHED, then store IN_USE) against StripedIdCacheTests.PopVsSteal's table: " +
        "r1 = popped id, r2 = stolen id, r3 = ids IN_USE afterwards.")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "owner won id 1, the thief moved on to id 2")
    @Outcome(id = "2, 1, 2", expect = Expect.ACCEPTABLE, desc = "thief won id 1, the owner's pop skipped to id 2")
    @Outcome(id = {"1, 1, .*", "2, 2, .*"}, expect = Expect.FORBIDDEN, desc = "one id handed out twice")
    @Outcome(id = {"0, .*", ".*, 0, .*"}, expect = Expect.FORBIDDEN,
        desc = "a pop or steal came back empty although a cached id was left: stranded")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected ids or states")
    @State
    public static class PopVsSteal
    {
        final IdStateTable states = new IdStateTable(1, 2);
        final BrokenStripedIdCache cache = new BrokenStripedIdCache(2, 4, states, AllocatorBug.STEAL_WITHOUT_CAS);

        public PopVsSteal()
        {
            for (int id = 1; id <= 2; id++)
            {
                states.putRelease(id, IdStateTable.CACHED);
                cache.push(0, id);
            }
        }

        @Actor
        public void owner(final III_Result r)
        {
            r.r1 = cache.pop(0);
        }

        @Actor
        public void thief(final III_Result r)
        {
            r.r2 = cache.steal(1, 2);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            int inUse = 0;
            for (int id = 1; id <= 2; id++)
            {
                inUse += IdStateTable.IN_USE == states.get(id) ? 1 : 0;
            }
            r.r3 = inUse;
        }
    }
}
