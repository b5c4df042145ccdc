package org.pasidkit.stress.broken;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.pasidkit.allocator.internal.IdStateTable;

/*
 * A deliberately broken copy of IdStateTable whose compareAndSet is a read-modify-write of the 8-byte word holding the
 * state byte, with a plain load and a plain store (no compareAndSetByte): two CASes of the same byte can both win,
 * and a CAS of a neighbouring byte can be undone. Run against the outcome table of
 * IdStateTableTests.CasSameAndAdjacentByte; it must reach FORBIDDEN (BrokenVariantsTest checks that it does).
 * And a copy whose lazy page creation publishes the new page with a plain store instead of a CAS on the page's slot:
 * two first writers each create a page and the later one replaces the other with its write in it
 * (IdStateTableTests.FirstWritesCreatePage's table).
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenIdStateTableTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenIdStateTableTests
{
    private BrokenIdStateTableTests()
    {
    }

    /** IdStateTable's layout (one state byte per id from minId = 1, 64-byte aligned, little-endian words). */
    static final class WordRmwStateTable
    {
        @SuppressWarnings("unused") // keeps the native memory reachable
        private final ByteBuffer memory = BufferUtil.allocateDirectAligned(64, 64);
        private final long address = BufferUtil.address(memory);

        byte get(final int id)
        {
            return UnsafeApi.getByteAcquire(null, address + (id - 1));
        }

        void putRelease(final int id, final byte state)
        {
            UnsafeApi.putByteRelease(null, address + (id - 1), state);
        }

        /** BROKEN: production is UnsafeApi.compareAndSetByte on the id's byte. */
        boolean compareAndSet(final int id, final byte expected, final byte update)
        {
            final long wordAddress = address + ((id - 1) & ~7);
            final int shift = ((id - 1) & 7) * 8;
            final long word = UnsafeApi.getLong(wordAddress);
            if ((byte)(word >>> shift) != expected)
            {
                return false;
            }
            UnsafeApi.putLong(wordAddress, (word & ~(0xFFL << shift)) | ((update & 0xFFL) << shift));
            return true;
        }
    }

    @JCStressTest
    @Description("BROKEN byte CAS (plain read-modify-write of the word) against IdStateTableTests." +
        "CasSameAndAdjacentByte's table. r1, r2: CAS won (1) or lost (0); r3, r4: final states of ids 1 and 2.")
    @Outcome(id = "1, 0, 2, 0", expect = Expect.ACCEPTABLE, desc = "owner won id 1; id 2 flushed")
    @Outcome(id = "0, 1, 2, 0", expect = Expect.ACCEPTABLE, desc = "thief won id 1; id 2 flushed")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "both won id 1: handed out twice")
    @Outcome(id = "0, 0, .*", expect = Expect.FORBIDDEN, desc = "nobody won id 1: a spurious CAS failure")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a neighbouring byte's CAS was lost or overwrote the other")
    @State
    public static class CasSameAndAdjacentByte
    {
        final WordRmwStateTable states = new WordRmwStateTable();

        public CasSameAndAdjacentByte()
        {
            states.putRelease(1, IdStateTable.CACHED);
            states.putRelease(2, IdStateTable.CACHED);
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            r.r1 = states.compareAndSet(1, IdStateTable.CACHED, IdStateTable.IN_USE) ? 1 : 0;
        }

        @Actor
        public void thief(final IIII_Result r)
        {
            r.r2 = states.compareAndSet(1, IdStateTable.CACHED, IdStateTable.IN_USE) ? 1 : 0;
            states.compareAndSet(2, IdStateTable.CACHED, IdStateTable.FREE);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = states.get(1);
            r.r4 = states.get(2);
        }
    }

    /** IdStateTable's lazy pages (one 64-byte page here, ids from 1). */
    static final class RacyPageStateTable
    {
        private ByteBuffer page;
        private long address;

        byte get(final int id)
        {
            final long a = address;
            return 0 == a ? IdStateTable.FREE : UnsafeApi.getByteAcquire(null, a + (id - 1));
        }

        void putRelease(final int id, final byte state)
        {
            UnsafeApi.putByteRelease(null, pageForWrite() + (id - 1), state);
        }

        boolean compareAndSet(final int id, final byte expected, final byte update)
        {
            return UnsafeApi.compareAndSetByte(null, pageForWrite() + (id - 1), expected, update);
        }

        /** BROKEN: production CASes the page's slot from null and uses the winner's page. */
        private long pageForWrite()
        {
            if (0 == address)
            {
                final ByteBuffer fresh = BufferUtil.allocateDirectAligned(64, 64);
                page = fresh;
                address = BufferUtil.address(fresh);
            }
            return address;
        }
    }

    @JCStressTest
    @Description("BROKEN lazy page creation (plain publish, no CAS) against IdStateTableTests.FirstWritesCreatePage's " +
        "table. r1: the CAS won (1); r2, r3: final states of ids 1 and 2.")
    @Outcome(id = "1, 2, 1", expect = Expect.ACCEPTABLE, desc = "both writes landed in the one page")
    @Outcome(id = "1, 0, 1", expect = Expect.FORBIDDEN, desc = "the putRelease went into a page that was replaced")
    @Outcome(id = "1, 2, 0", expect = Expect.FORBIDDEN, desc = "the CAS won in a page that was replaced")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a CAS from FREE failed on a fresh page, or another state appeared")
    @State
    public static class FirstWritesCreatePage
    {
        final RacyPageStateTable states = new RacyPageStateTable();

        @Actor
        public void claimer(final III_Result r)
        {
            states.putRelease(1, IdStateTable.IN_USE);
        }

        @Actor
        public void refill(final III_Result r)
        {
            r.r1 = states.compareAndSet(2, IdStateTable.FREE, IdStateTable.CACHED) ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r2 = states.get(1);
            r.r3 = states.get(2);
        }
    }
}
