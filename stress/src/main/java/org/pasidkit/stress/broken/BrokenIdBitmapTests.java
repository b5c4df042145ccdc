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

/*
 * A deliberately broken copy of IdBitmap.claimOne (plain read, then plain write of the word: no CAS), run against
 * the outcome table of IdBitmapTests.ClaimOneVsClaimOne. It must reach FORBIDDEN; BrokenVariantsTest checks that it
 * does. Not part of the `verify` run (the regex there only takes org.pasidkit.stress.[A-Z]...).
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenIdBitmapTests -m quick -sc false -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
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
}
