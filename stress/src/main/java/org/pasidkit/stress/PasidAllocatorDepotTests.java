package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.allocator.PasidAllocator;

/*
 * Races through PasidAllocator's free path and its magazine depot (StripedIdCache.flushToDepot / takeFromDepot / drainDepot): a ring
 * that overflows hands its oldest half to the depot while another thread allocates through the depot, the bitmap
 * and the exhaustion scan. No grace period, ids [1, 5], 2 stripes, rings of 4 (magazines of 2), refills of 2.
 *
 * Run (after `./mvnw -B -ntp -pl stress -am package -DskipTests`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t PasidAllocatorDepotTests -m quick -sc false -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class PasidAllocatorDepotTests
{
    static final int IDS = 5;

    private PasidAllocatorDepotTests()
    {
    }

    @JCStressTest
    @Description("All 5 ids are in use (reserved by the constructing thread, which leases no stripe). The freer frees " +
        "1..5: the first 4 fill its ring, the 5th flushes ids 1 and 2 into a depot magazine. The taker allocates " +
        "until it gets a sentinel (its own ring is empty: depot, bitmap, then the exhaustion scan that drains the " +
        "depot and steals from the freer's ring). The arbiter then allocates everything left. r1 = ids the taker " +
        "got, r2 = distinct ids handed out by taker and arbiter together, r3 = ids handed out twice.")
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
        final PasidAllocator allocator = PasidAllocator.builder().range(1, IDS).stripes(2).cacheCapacity(4)
            .refillBatch(2).immediateReuse().build();
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

    @JCStressTest
    @Description("Id 1 of [1, 2] is in use. Two threads free it at once (a caller bug): each free either returns " +
        "(1) or is refused with IllegalArgumentException (0). The arbiter then allocates until a sentinel. r1, r2 = " +
        "the frees, r3 = ids the arbiter got. The free path's state CAS must let exactly one free through; a " +
        "check-then-store free (tried, and refused by Lincheck) would let both through and could cache id 1 twice.")
    @Outcome(id = {"1, 0, 2", "0, 1, 2"}, expect = Expect.ACCEPTABLE,
        desc = "one free won, the other was refused; ids 1 and 2 both allocatable once")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "both frees of one id went through")
    @Outcome(id = "0, 0, .*", expect = Expect.FORBIDDEN, desc = "both frees refused: id 1 stays in use forever")
    @Outcome(expect = Expect.FORBIDDEN, desc = "an id lost or handed out twice, or anything else")
    @State
    public static class RacingDoubleFree
    {
        final PasidAllocator allocator = PasidAllocator.builder().range(1, 2).stripes(2).cacheCapacity(4)
            .refillBatch(2).immediateReuse().build();

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
            return PasidAllocatorTests.tryFree(allocator, 1);
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
}
