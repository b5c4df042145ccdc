package org.pasidkit.stress;

import org.agrona.concurrent.SystemNanoClock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.ZZJ_Result;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.internal.GraceIdBitmap;

/*
 * Races on GraceIdBitmap, the state bitmap of the allocator without caches that has a grace period: every transition is
 * one CAS of a versioned word; only a sweep frees a RETIRED id, once the epoch is two past the stamp it gave the id; a
 * search that finds no free id answers from one pass if no sweep freed an id meanwhile (the sweep generation), else
 * from a second pass over the versions.
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t GraceIdBitmapTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class GraceIdBitmapTests
{
    private GraceIdBitmapTests()
    {
    }

    /** Ids of the search race: 8 words of 16, so the search reads eight words one after the other. */
    static final int IDS = 128;

    /** A bitmap with ids 1..IDS-1 in use and id 1 retired and past its grace (stamped, then two advances). */
    static GraceIdBitmap oneEligible(final EpochDomain domain)
    {
        final GraceIdBitmap bitmap = new GraceIdBitmap(1, IDS);
        for (int id = 1; id < IDS; id++)
        {
            bitmap.tryClaim(id);
        }
        bitmap.retire(1);
        bitmap.sweep(domain, SystemNanoClock.INSTANCE, false); // stamps id 1
        domain.tryAdvance();
        domain.tryAdvance();
        return bitmap;
    }

    @JCStressTest
    @Description("A search of the whole range vs a sweep behind it and a claim ahead of it: ids 1..127 are in use, " +
        "1 retired and past its grace, 128 (the last word) free. The searcher starts at word 0; the other actor sweeps " +
        "(freeing 1, in word 0) and then claims in [113, 128] (the last word). At every instant some id is free, so " +
        "the search must find one: a single pass that read word 0 before the sweep and word 7 after the claim saw " +
        "none free, and only the sweep generation tells it that its pass was no snapshot.")
    @Outcome(id = "128, 1, 0", expect = Expect.ACCEPTABLE,
        desc = "the search took 128 first; the sweep freed 1; the claim found its sub-range all in use")
    @Outcome(id = "1, 1, 128", expect = Expect.ACCEPTABLE,
        desc = "the sweep freed 1 and the other actor took 128; the search found 1")
    @Outcome(id = "-2, 1, 128", expect = Expect.FORBIDDEN,
        desc = "the search said 'none free, one retired' while an id was free at every instant")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id handed out twice, lost, or a claim outside its range")
    @State
    public static class SearchVsSweepBehindAndClaimAhead
    {
        final EpochDomain domain = new EpochDomain(2);
        final GraceIdBitmap bitmap = oneEligible(domain);

        @Actor
        public void search(final III_Result r)
        {
            r.r1 = bitmap.claim(0);
        }

        @Actor
        public void sweepBehindClaimAhead(final III_Result r)
        {
            r.r2 = bitmap.sweep(domain, SystemNanoClock.INSTANCE, false);
            r.r3 = bitmap.claim(113, IDS, 7);
        }
    }

    @JCStressTest
    @Description("A sweep vs a retire in the same word: id 1 is retired and past its grace, id 2 in use. One actor " +
        "retires 2, the other sweeps without advancing the epoch. The sweep frees 1; it must not free 2, whose grace " +
        "has not begun to count (no sweep has stamped it).")
    @Outcome(id = "true, true, 1", expect = Expect.ACCEPTABLE,
        desc = "2 retired and still RETIRED afterwards; 1 freed by the sweep")
    @Outcome(id = "true, true, 2", expect = Expect.FORBIDDEN,
        desc = "the sweep freed 2, retired after the epoch it was swept in: reused before its grace")
    @Outcome(expect = Expect.FORBIDDEN, desc = "the retire was refused, or the ids ended in other states")
    @State
    public static class SweepVsRetireInTheSameWord
    {
        final EpochDomain domain = new EpochDomain(2);
        final GraceIdBitmap bitmap = oneEligible(domain);
        boolean retired;

        @Actor
        public void retire()
        {
            retired = bitmap.retire(2);
        }

        @Actor
        public void sweep()
        {
            bitmap.sweep(domain, SystemNanoClock.INSTANCE, false);
        }

        @Arbiter
        public void arbiter(final ZZJ_Result r)
        {
            r.r1 = retired;
            r.r2 = bitmap.state(1) == 0;
            r.r3 = bitmap.state(2) == 3 ? 1 : 2;
        }
    }

    @JCStressTest
    @Description("claim vs claim on a word with two free ids (1 and 2): each claimer gets its own id.")
    @Outcome(id = {"1, 2", "2, 1"}, expect = Expect.ACCEPTABLE, desc = "each claimer got one of the two ids")
    @Outcome(id = {"1, 1", "2, 2"}, expect = Expect.FORBIDDEN, desc = "one id handed to both claimers")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a claim failed or returned an id that was not free")
    @State
    public static class ClaimVsClaim
    {
        final GraceIdBitmap bitmap = new GraceIdBitmap(1, 2);

        @Actor
        public void actor1(final II_Result r)
        {
            r.r1 = bitmap.claim(0);
        }

        @Actor
        public void actor2(final II_Result r)
        {
            r.r2 = bitmap.claim(0);
        }
    }

    @JCStressTest
    @Description("A racing double free: two threads retire the same id (5, in use); exactly one succeeds, the other " +
        "is refused, and the id is RETIRED once.")
    @Outcome(id = {"true, false, 3", "false, true, 3"}, expect = Expect.ACCEPTABLE,
        desc = "one retire took it, the other was refused; the id is RETIRED")
    @Outcome(id = "true, true, 3", expect = Expect.FORBIDDEN, desc = "both retires succeeded: a double free accepted")
    @Outcome(expect = Expect.FORBIDDEN, desc = "both refused, or the id is not RETIRED afterwards")
    @State
    public static class RetireVsRetire
    {
        final GraceIdBitmap bitmap = new GraceIdBitmap(1, 64);

        public RetireVsRetire()
        {
            bitmap.tryClaim(5);
        }

        @Actor
        public void actor1(final ZZJ_Result r)
        {
            r.r1 = bitmap.retire(5);
        }

        @Actor
        public void actor2(final ZZJ_Result r)
        {
            r.r2 = bitmap.retire(5);
        }

        @Arbiter
        public void arbiter(final ZZJ_Result r)
        {
            r.r3 = bitmap.state(5);
        }
    }

    @JCStressTest
    @Description("Two holders of a held id (9, retired with 2 holders) release it at once: one sees 1 left, the other " +
        "0, and the last moves it to RETIRED; a lost decrement would leave it HELD for ever.")
    @Outcome(id = {"1, 0, 3", "0, 1, 3"}, expect = Expect.ACCEPTABLE, desc = "both releases counted; the id is RETIRED")
    @Outcome(id = {"1, 1, 2", "0, 0, 3"}, expect = Expect.FORBIDDEN,
        desc = "a release lost (HELD for ever) or counted twice")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a release refused, or the id in another state")
    @State
    public static class ReleaseVsRelease
    {
        final GraceIdBitmap bitmap = new GraceIdBitmap(1, 64);

        public ReleaseVsRelease()
        {
            bitmap.tryClaim(9);
            bitmap.retireHeld(9, 2);
        }

        @Actor
        public void actor1(final III_Result r)
        {
            r.r1 = bitmap.release(9);
        }

        @Actor
        public void actor2(final III_Result r)
        {
            r.r2 = bitmap.release(9);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)bitmap.state(9);
        }
    }
}
