package org.pasidkit.stress.broken;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Deliberately broken copies of IdBitmap's mutations (a plain read, then a plain write of the word: no CAS), each
 * run against the outcome table of the IdBitmapTests race of the same name. Each must reach FORBIDDEN;
 * BrokenVariantsTest checks that it does. Not part of the build's jcstress run (its regex only takes
 * org.pasidkit.stress.[A-Z]...).
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenIdBitmapTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenIdBitmapTests
{
    private BrokenIdBitmapTests()
    {
    }

    /** IdBitmap's word layout (ids 1 and 2 in bits 0 and 1, padding bits set) with a racy claimOne. */
    static final class PlainClaimBitmap
    {
        final UnsafeBuffer words = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));

        PlainClaimBitmap()
        {
            words.putLongRelease(0, -1L << 2);
        }

        /** BROKEN: read-modify-write with plain accesses; two claimers can both take the lowest clear bit. */
        int claimOne()
        {
            final long word = words.getLong(0);
            final long clear = ~word;
            if (0 == clear)
            {
                return -1;
            }
            final long lowest = clear & -clear;
            words.putLong(0, word | lowest);
            return 1 + Long.numberOfTrailingZeros(lowest);
        }

        long word()
        {
            return words.getLongVolatile(0);
        }
    }

    @JCStressTest
    @Description("BROKEN claimOne (plain read + plain write) vs itself: the same table as " +
        "IdBitmapTests.ClaimOneVsClaimOne, whose FORBIDDEN outcomes this variant reaches.")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "actor 1 claimed first: it got id 1, actor 2 id 2")
    @Outcome(id = "2, 1, 2", expect = Expect.ACCEPTABLE, desc = "actor 2 claimed first: it got id 1, actor 1 id 2")
    @Outcome(id = {"1, 1, .*", "2, 2, .*"}, expect = Expect.FORBIDDEN, desc = "one id handed to both claimers")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a claim was lost or returned a bad id")
    @State
    public static class ClaimOneVsClaimOne
    {
        final PlainClaimBitmap bitmap = new PlainClaimBitmap();

        @Actor
        public void actor1(final III_Result r)
        {
            r.r1 = bitmap.claimOne();
        }

        @Actor
        public void actor2(final III_Result r)
        {
            r.r2 = bitmap.claimOne();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = Long.bitCount(bitmap.word() & 0b11L);
        }
    }

    @JCStressTest
    @Description("BROKEN claimBatch (plain read + plain write of the word) vs the production claimOne: the same " +
        "table as IdBitmapTests.ClaimBatchVsClaimOne. Results are masks of the claimed ids (bit i = id 1 + i).")
    @Outcome(id = "6, 1", expect = Expect.ACCEPTABLE, desc = "claimOne first (id 1), then the batch got ids 2, 3")
    @Outcome(id = "3, 4", expect = Expect.ACCEPTABLE, desc = "batch first (ids 1, 2), then claimOne got id 3")
    @Outcome(id = {"3, 1", "3, 2", "6, 2", "6, 4", "5, 1", "5, 4"}, expect = Expect.FORBIDDEN,
        desc = "one id handed out twice (batch and single claim overlap)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a claim was lost, short, or not the lowest clear bits")
    @State
    public static class ClaimBatchVsClaimOne
    {
        final BrokenIdBitmap bitmap = new BrokenIdBitmap(1, 3, BrokenIdBitmap.Bug.PLAIN_CLAIM_BATCH);
        final int[] out = new int[64];

        @Actor
        public void batch(final II_Result r)
        {
            final int n = bitmap.claimBatch(-1L, 2, out);
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
            final int id = bitmap.claimOne(-1L);
            r.r2 = id > 0 ? 1 << (id - 1) : 0;
        }
    }

    @JCStressTest
    @Description("BROKEN clear (plain read + plain write of the word) vs the production claimOne: the same table as " +
        "IdBitmapTests.ClaimVsClear. r1 = 0 clear ok, 1 threw; r2 = id claimed; r3 = final mask of ids 1, 2.")
    @Outcome(id = "0, 2, 2", expect = Expect.ACCEPTABLE, desc = "claim first: got id 2; then id 1 cleared")
    @Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE, desc = "clear first: claim got the lower id 1 just freed")
    @Outcome(id = {"0, 2, 3", "0, 1, 3"}, expect = Expect.FORBIDDEN,
        desc = "the clear was lost (a stale CAS wrote id 1's bit back)")
    @Outcome(id = {"0, 2, 0", "0, 1, 0"}, expect = Expect.FORBIDDEN,
        desc = "the claim was lost (a stale clear dropped it)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "clear threw, or a bad id or mask")
    @State
    public static class ClaimVsClear
    {
        final BrokenIdBitmap bitmap = new BrokenIdBitmap(1, 2, BrokenIdBitmap.Bug.PLAIN_CLEAR);

        public ClaimVsClear()
        {
            if (1 != bitmap.claimOne(-1L))
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
            r.r2 = bitmap.claimOne(-1L);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)(bitmap.word() & 0b11L);
        }
    }
}
