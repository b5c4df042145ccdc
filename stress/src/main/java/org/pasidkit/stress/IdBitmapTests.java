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
import org.pasidkit.allocator.internal.IdBitmap;

/*
 * Races on one word of IdBitmap: every claim and clear is one compareAndSetLong on that word, so two claimers never
 * get the same bit and a clear never loses (or is lost to) a concurrent claim.
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar -t IdBitmapTests \
 *       -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class IdBitmapTests
{
    private IdBitmapTests()
    {
    }

    /** Mask of the bits for ids 1 and 2 (bit i = id 1 + i); the other bits of the word are padding, always set. */
    static final long IDS_1_2 = 0b11L;

    @JCStressTest
    @Description("claimOne vs claimOne on a word with two clear bits: each claimer gets its own id.")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "actor 1 claimed first: it got id 1, actor 2 id 2")
    @Outcome(id = "2, 1, 2", expect = Expect.ACCEPTABLE, desc = "actor 2 claimed first: it got id 1, actor 1 id 2")
    @Outcome(id = {"1, 1, .*", "2, 2, .*"}, expect = Expect.FORBIDDEN, desc = "one id handed to both claimers")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a claim was lost or returned a bad id")
    @State
    public static class ClaimOneVsClaimOne
    {
        final IdBitmap bitmap = new IdBitmap(1, 2);

        @Actor
        public void actor1(final III_Result r)
        {
            r.r1 = bitmap.claimOne(0, -1L);
        }

        @Actor
        public void actor2(final III_Result r)
        {
            r.r2 = bitmap.claimOne(0, -1L);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = Long.bitCount(bitmap.word(0) & IDS_1_2);
        }
    }

    @JCStressTest
    @Description("claimBatch(max 2) vs claimOne on a word with three clear bits: the id sets are disjoint, and the " +
        "batch is the lowest clear bits at its CAS. Results are masks of the claimed ids (bit i = id 1 + i).")
    @Outcome(id = "6, 1", expect = Expect.ACCEPTABLE, desc = "claimOne first (id 1), then the batch got ids 2, 3")
    @Outcome(id = "3, 4", expect = Expect.ACCEPTABLE, desc = "batch first (ids 1, 2), then claimOne got id 3")
    @Outcome(id = {"3, 1", "3, 2", "6, 2", "6, 4", "5, 1", "5, 4"}, expect = Expect.FORBIDDEN,
        desc = "one id handed out twice (batch and single claim overlap)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a claim was lost, short, or not the lowest clear bits")
    @State
    public static class ClaimBatchVsClaimOne
    {
        final IdBitmap bitmap = new IdBitmap(1, 3);
        final int[] out = new int[64];

        @Actor
        public void batch(final II_Result r)
        {
            final int n = bitmap.claimBatch(0, -1L, 2, out);
            int mask = 0;
            for (int i = 0; i < n; i++)
            {
                mask |= 1 << (out[i] - 1);
            }
            r.r1 = mask;
        }

        @Actor
        public void one(final II_Result r)
        {
            final int id = bitmap.claimOne(0, -1L);
            r.r2 = id > 0 ? 1 << (id - 1) : 0;
        }
    }

    @JCStressTest
    @Description("claimOne vs clear of another id in the same word: both CASes on one word; neither update is lost. " +
        "Id 1 is claimed at setup and cleared by its owner (r1 = 0 ok, 1 threw); r2 = id claimed; r3 = final mask " +
        "of ids 1, 2 (bit i = id 1 + i).")
    @Outcome(id = "0, 2, 2", expect = Expect.ACCEPTABLE, desc = "claim first: got id 2; then id 1 cleared")
    @Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE, desc = "clear first: claim got the lower id 1 just freed")
    @Outcome(id = {"0, 2, 3", "0, 1, 3"}, expect = Expect.FORBIDDEN, desc = "the clear was lost (a stale CAS wrote id 1's bit back)")
    @Outcome(id = {"0, 2, 0", "0, 1, 0"}, expect = Expect.FORBIDDEN, desc = "the claim was lost (a stale clear dropped it)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "clear threw, or a bad id or mask")
    @State
    public static class ClaimVsClear
    {
        final IdBitmap bitmap = new IdBitmap(1, 2);

        public ClaimVsClear()
        {
            if (1 != bitmap.claimOne(0, -1L))
            {
                throw new IllegalStateException("setup: id 1 not claimed");
            }
        }

        @Actor
        public void clear(final III_Result r)
        {
            try
            {
                bitmap.clear(1);
                r.r1 = 0;
            }
            catch (final IllegalStateException ex)
            {
                r.r1 = 1;
            }
        }

        @Actor
        public void claim(final III_Result r)
        {
            r.r2 = bitmap.claimOne(0, -1L);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)(bitmap.word(0) & IDS_1_2);
        }
    }
}
