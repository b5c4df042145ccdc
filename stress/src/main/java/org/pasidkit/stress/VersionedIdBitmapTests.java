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
import org.openjdk.jcstress.infra.results.ZZI_Result;
import org.pasidkit.allocator.internal.VersionedIdBitmap;

/*
 * Races on VersionedIdBitmap, the bitmap of the allocator without caches: claims and releases are one CAS of a word
 * (a release also steps the word's version), and a search answers "no id" only when a second pass finds every version
 * as the first pass left it (or its one pass finds them as an earlier search that answered "no id" left them).
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t VersionedIdBitmapTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class VersionedIdBitmapTests
{
    private VersionedIdBitmapTests()
    {
    }

    /** Ids of the search race: 8 words of 32, so the search reads eight words one after the other. */
    static final int IDS = 256;

    /** The search races' start: every id claimed but {@link #IDS} (the last word's last). */
    static VersionedIdBitmap allClaimedButTheLast()
    {
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(1, IDS);
        for (int id = 1; id < IDS; id++)
        {
            bitmap.tryClaim(id);
        }
        return bitmap;
    }

    /** The search races' other actor: releases id 1 (word 0, behind the search), then claims in the last word. */
    static int freeBehindThenClaimAhead(final VersionedIdBitmap bitmap)
    {
        bitmap.release(1);
        return bitmap.claim(225, IDS, 7);
    }

    @JCStressTest
    @Description("A search of the whole range vs a free behind it and a claim ahead of it: ids 1..255 are claimed, " +
        "256 (the last word) is free. The searcher starts at word 0; the other actor releases id 1 (word 0) and then " +
        "claims in [225, 256] (the last word). At every instant some id is free, so the search must find one: a " +
        "single pass that read word 0 before the release and word 7 after the claim saw all full.")
    @Outcome(id = "256, 0, 255", expect = Expect.ACCEPTABLE,
        desc = "the search took 256 first; the other actor's claim found its sub-range full")
    @Outcome(id = "1, 256, 256", expect = Expect.ACCEPTABLE,
        desc = "the other actor released 1 and took 256; the search found 1")
    @Outcome(id = "0, 256, 255", expect = Expect.FORBIDDEN,
        desc = "the search said 'no id' while an id was free at every instant (its pass was no snapshot)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id handed out twice, lost, or a claim outside its range")
    @State
    public static class SearchVsFreeBehindAndClaimAhead
    {
        final VersionedIdBitmap bitmap = allClaimedButTheLast();

        @Actor
        public void search(final III_Result r)
        {
            r.r1 = bitmap.claim(1, IDS, 0);
        }

        @Actor
        public void freeBehindClaimAhead(final III_Result r)
        {
            r.r2 = freeBehindThenClaimAhead(bitmap);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)bitmap.claimedCount();
        }
    }

    @JCStressTest
    @Description("SearchVsFreeBehindAndClaimAhead, the search given the versions sum of an earlier search that found " +
        "every id claimed (the allocator passes its last 'no id' sum so that a repeated 'no id' costs one pass): " +
        "256 was released since, so the range is no longer full. A pass that finds every word full but with " +
        "another sum must not answer 'no id' on the strength of the old sum.")
    @Outcome(id = "256, 0, 255", expect = Expect.ACCEPTABLE,
        desc = "the search took 256 first; the other actor's claim found its sub-range full")
    @Outcome(id = "1, 256, 256", expect = Expect.ACCEPTABLE,
        desc = "the other actor released 1 and took 256; the search found 1")
    @Outcome(id = "0, 256, 255", expect = Expect.FORBIDDEN,
        desc = "the search said 'no id' on the old sum while an id was free at every instant of the call")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id handed out twice, lost, or a claim outside its range")
    @State
    public static class SearchWithOldFullSumVsFreeBehindAndClaimAhead
    {
        final VersionedIdBitmap bitmap = allClaimedButTheLast();
        final long fullSum;

        public SearchWithOldFullSumVsFreeBehindAndClaimAhead()
        {
            bitmap.tryClaim(IDS);
            fullSum = -1 - bitmap.claim(1, IDS, 0, VersionedIdBitmap.NO_SUM);
            bitmap.release(IDS);
        }

        @Actor
        public void search(final III_Result r)
        {
            final long answer = bitmap.claim(1, IDS, 0, fullSum);
            r.r1 = answer > 0 ? (int)answer : 0;
        }

        @Actor
        public void freeBehindClaimAhead(final III_Result r)
        {
            r.r2 = freeBehindThenClaimAhead(bitmap);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)bitmap.claimedCount();
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
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(1, 2);

        @Actor
        public void actor1(final II_Result r)
        {
            r.r1 = bitmap.claim(1, 2, 0);
        }

        @Actor
        public void actor2(final II_Result r)
        {
            r.r2 = bitmap.claim(1, 2, 0);
        }
    }

    @JCStressTest
    @Description("claim vs claim past a full start word: ids 1..32 (word 0, both claimers' start word) are claimed, " +
        "33 and 34 (word 1) are free, so both claims go on to the search: each claimer gets its own id.")
    @Outcome(id = {"33, 34", "34, 33"}, expect = Expect.ACCEPTABLE, desc = "each claimer got one of the two ids")
    @Outcome(id = {"33, 33", "34, 34"}, expect = Expect.FORBIDDEN, desc = "one id handed to both claimers")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a claim failed or returned an id that was not free")
    @State
    public static class SearchClaimVsSearchClaim
    {
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(1, 34);

        public SearchClaimVsSearchClaim()
        {
            for (int id = 1; id <= 32; id++)
            {
                bitmap.tryClaim(id);
            }
        }

        @Actor
        public void actor1(final II_Result r)
        {
            r.r1 = bitmap.claim(1, 34, 0);
        }

        @Actor
        public void actor2(final II_Result r)
        {
            r.r2 = bitmap.claim(1, 34, 0);
        }
    }

    @JCStressTest
    @Description("A racing double free: two threads release the same claimed id (5); exactly one succeeds, the " +
        "other is refused, and the id is free once.")
    @Outcome(id = {"true, false, 0", "false, true, 0"}, expect = Expect.ACCEPTABLE,
        desc = "one release freed it, the other was refused")
    @Outcome(id = "true, true, 0", expect = Expect.FORBIDDEN, desc = "both releases succeeded: a double free accepted")
    @Outcome(expect = Expect.FORBIDDEN, desc = "both refused, or the id is not free afterwards")
    @State
    public static class ReleaseVsRelease
    {
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(1, 64);

        public ReleaseVsRelease()
        {
            bitmap.tryClaim(5);
        }

        @Actor
        public void actor1(final ZZI_Result r)
        {
            r.r1 = bitmap.release(5);
        }

        @Actor
        public void actor2(final ZZI_Result r)
        {
            r.r2 = bitmap.release(5);
        }

        @Arbiter
        public void arbiter(final ZZI_Result r)
        {
            r.r3 = (int)bitmap.claimedCount();
        }
    }
}
