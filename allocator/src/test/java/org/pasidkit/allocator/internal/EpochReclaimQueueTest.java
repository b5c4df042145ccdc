package org.pasidkit.allocator.internal;

import java.util.SplittableRandom;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pasidkit.allocator.AsymmetricFence;
import org.pasidkit.allocator.EpochDomain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reclaim queue's stripe rings on one thread: the per-segment epoch stamps never let an id out early and strand
 * none (against the epoch each id was retired in), and the amortised advance is paced by what an advance costs.
 */
class EpochReclaimQueueTest
{
    /** Records each reclaimed id once, with the epoch at its reclaim, and makes it FREE (as a bitmap sink does). */
    private static final class RecordingSink implements EpochReclaimQueue.ReclaimSink
    {
        final EpochDomain domain;
        final IdStateTable states;
        final int[] times;
        final long[] reclaimEpoch;
        int reclaimed;

        RecordingSink(final EpochDomain domain, final IdStateTable states, final int maxId)
        {
            this.domain = domain;
            this.states = states;
            this.times = new int[maxId + 1];
            this.reclaimEpoch = new long[maxId + 1];
        }

        @Override
        public void reclaimed(final int id)
        {
            times[id]++;
            reclaimEpoch[id] = domain.epoch();
            reclaimed++;
            states.putRelease(id, IdStateTable.FREE);
        }
    }

    /**
     * Random retires, advances, owner reclaims (urgent or not, any limit) and shared passes on one stripe: every id is
     * reclaimed exactly once, never before the global epoch is two past the epoch it was retired in, and the backlog
     * ends at 0. Ranges small enough that retires cross 64-slot segments while the epoch moves inside them.
     */
    @ParameterizedTest(name = "range {0}, seed {1}")
    @CsvSource({"300, 1", "300, 2", "2000, 3", "20000, 4", "20000, 5", "1048575, 6"})
    void segmentStampsNeverReleaseAnIdEarlyAndStrandNone(final int maxId, final long seed)
    {
        final EpochDomain domain = new EpochDomain(2);
        final IdStateTable states = new IdStateTable(1, maxId);
        final EpochReclaimQueue queue =
            new EpochReclaimQueue(1, maxId, domain, states, SystemNanoClock.INSTANCE, 0L, 1);
        final RecordingSink sink = new RecordingSink(domain, states, maxId);
        final long[] retireEpoch = new long[maxId + 1];
        final SplittableRandom random = new SplittableRandom(seed);
        final int retires = Math.min(maxId, 6000);
        int next = 1;
        while (next <= retires)
        {
            final int op = random.nextInt(100);
            if (op < 70)
            {
                final int id = next++;
                states.putRelease(id, IdStateTable.IN_USE);
                retireEpoch[id] = domain.epoch(); // one thread: the epoch the retire reads after its CAS
                assertTrue(queue.retireOwn(id, 0) > 0, "seed " + seed + ": retire of " + id);
            }
            else if (op < 82)
            {
                domain.tryAdvance();
            }
            else if (op < 95)
            {
                queue.reclaimOwn(0, 1 + random.nextInt(300), sink, random.nextBoolean());
            }
            else
            {
                queue.reclaim(1 + random.nextInt(300), sink);
            }
        }
        for (int round = 0; round < 100 && sink.reclaimed < retires; round++)
        {
            queue.reclaimOwn(0, 1 << 16, sink, true);
            queue.reclaim(1 << 16, sink);
        }
        for (int id = 1; id <= retires; id++)
        {
            assertEquals(1, sink.times[id], "seed " + seed + ": id " + id + " reclaimed once");
            assertTrue(sink.reclaimEpoch[id] >= retireEpoch[id] + 2, "seed " + seed + ": id " + id + " retired in epoch " +
                retireEpoch[id] + " reclaimed at epoch " + sink.reclaimEpoch[id]);
        }
        assertEquals(0, queue.backlog(), "seed " + seed + ": backlog after everything was reclaimed");
    }

    /**
     * The cadence of the amortised advance: light without a registered reader; while one is registered and advances
     * pay a membarrier, the heavy cadence (a quarter of the ring), chosen at the stripe's next due advance; light again
     * once the reader left.
     */
    @Test
    void theAmortisedAdvanceIsPacedByWhetherItPaysAHeavyBarrier()
    {
        final int maxId = (1 << 20) - 1;
        final EpochDomain domain = new EpochDomain(2);
        final IdStateTable states = new IdStateTable(1, maxId);
        final EpochReclaimQueue queue =
            new EpochReclaimQueue(1, maxId, domain, states, SystemNanoClock.INSTANCE, 0L, 2);
        assertEquals(65536, queue.ringCapacity(), "2^20 ids over 2 stripes: share / 8");
        assertEquals(2048, queue.advanceEvery(), "light cadence: a quarter of the light limbo (8192)");
        assertEquals(16384, queue.heavyAdvanceEvery(), "heavy cadence: a quarter of the ring");
        final RecordingSink sink = new RecordingSink(domain, states, maxId);
        final int[] next = {1};

        final long before = domain.epoch();
        churn(queue, states, sink, next, 3 * queue.advanceEvery());
        assertEquals(queue.advanceEvery(), queue.advanceEvery(0), "no reader: light");
        assertTrue(domain.epoch() - before >= 2, "light: the epoch moved about every 2048 retires");

        final EpochDomain.Reader reader = domain.register();
        try
        {
            churn(queue, states, sink, next, 2 * queue.advanceEvery());
            final int expected = AsymmetricFence.isAsymmetric() ? queue.heavyAdvanceEvery() : queue.advanceEvery();
            assertEquals(expected, queue.advanceEvery(0), "a registered reader, fence mode " + AsymmetricFence.mode());
            if (AsymmetricFence.isAsymmetric())
            {
                assertEquals(queue.ringCapacity() - 2 * EpochReclaimQueue.BAG_CAPACITY, queue.ownReclaimAt(0));
                final long heavyStart = domain.epoch();
                churn(queue, states, sink, next, queue.heavyAdvanceEvery() - 2 * queue.advanceEvery());
                assertTrue(domain.epoch() - heavyStart <= 1, "heavy: no advance before 16384 retires, epoch went from " +
                    heavyStart + " to " + domain.epoch());
                assertTrue(queue.ringSize(0) > queue.advanceEvery() * 4, "heavy: the limbo outgrew the light one");
            }
        }
        finally
        {
            reader.close();
        }
        churn(queue, states, sink, next, queue.heavyAdvanceEvery() + queue.advanceEvery());
        assertEquals(queue.advanceEvery(), queue.advanceEvery(0), "the reader left: light again");
        assertEquals(8192 - 2 * EpochReclaimQueue.BAG_CAPACITY, queue.ownReclaimAt(0));
        for (int round = 0; round < 8; round++)
        {
            queue.reclaimOwn(0, 1 << 17, sink, true);
            queue.reclaim(1 << 17, sink);
        }
        assertEquals(next[0] - 1, sink.reclaimed, "every retired id reclaimed");
        assertEquals(0, queue.backlog());
    }

    /** An allocating owner on stripe 0: retire one id, then the refill's look at its own ring (not urgent). */
    private static void churn(
        final EpochReclaimQueue queue,
        final IdStateTable states,
        final RecordingSink sink,
        final int[] next,
        final int retires)
    {
        for (int i = 0; i < retires; i++)
        {
            final int id = next[0]++;
            states.putRelease(id, IdStateTable.IN_USE);
            assertTrue(queue.retireOwn(id, 0) > 0, "retire of " + id);
            if (0 == (i & 31))
            {
                queue.reclaimOwn(0, 32, sink);
            }
        }
    }

    /**
     * The sizing rule every constructor checks, at each power of two from 1 to 2^31 ids and its two neighbours (where
     * the power-of-two sizing steps; widths up to 2^31 - 1) and every power-of-two stripe count from 1 to 1024: the
     * light limbo never exceeds its ring (a limbo past it let an append overwrite a slot a take copied, in a scratch
     * build), and a sizing that breaks the rule is refused with the values named.
     */
    @Test
    void lightLimboNeverExceedsItsRing()
    {
        int checked = 0;
        for (int bits = 0; bits <= 31; bits++)
        {
            for (final long range : new long[] {(1L << bits) - 1, 1L << bits, (1L << bits) + 1})
            {
                if (range < 1 || range > Integer.MAX_VALUE)
                {
                    continue;
                }
                for (int stripes = 1; stripes <= 1024; stripes <<= 1)
                {
                    final int limbo = EpochReclaimQueue.lightLimboFor(range, stripes);
                    final int ring = EpochReclaimQueue.ringCapacityFor(range, stripes);
                    EpochReclaimQueue.checkLimbo(limbo, ring);
                    assertTrue(limbo - EpochReclaimQueue.BAG_CAPACITY < ring, "range " + range + ", stripes " + stripes);
                    checked++;
                }
            }
        }
        assertEquals(93 * 11, checked); // NOTE: 93 widths (0 and those past 2^31 - 1 skipped), 11 stripe counts
        final IllegalStateException refused =
            assertThrows(IllegalStateException.class, () -> EpochReclaimQueue.checkLimbo(32768, 16384));
        assertTrue(refused.getMessage().contains("light limbo 32768") && refused.getMessage().contains("16384"),
            refused.getMessage());
        assertThrows(IllegalStateException.class, () -> EpochReclaimQueue.checkLimbo(3000, 16384));
    }
}
