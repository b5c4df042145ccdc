package org.pasidkit.allocator.internal;

import java.util.ArrayDeque;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.pasidkit.allocator.AsymmetricFence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StripedIdCache#pushAll}, the owner's batch move (copied in runs that wrap neither ring), against a FIFO model:
 * every wrap position of the source ring and of the cache ring, one thread; and {@link StripedIdCache#enterPush} into
 * a ring a thief holds, in whichever fence mode the run uses (the build runs this class in both).
 */
class StripedIdCacheTest
{
    private static final int CAPACITY = 16;

    /**
     * A free into a ring a thief holds: nothing enters the ring and the caller learns what the id's state is. In the
     * membarrier mode the owner reads stop before its CAS, so the state is unchanged; in the fenced mode the CAS is the
     * store-load fence and comes first, so the id is left {@code CACHING} for the caller to free elsewhere.
     */
    @Test
    void aFreeIntoARingAThiefHoldsPushesNothingAndSaysWhatTheStateIs()
    {
        final IdStateTable states = new IdStateTable(1, 4096, false);
        final StripedIdCache cache = new StripedIdCache(1, CAPACITY, states);
        final int stripe = cache.stripeOf(Thread.currentThread());
        final int id = 5;
        states.putRelease(id, IdStateTable.IN_USE);
        cache.putStopForTest(stripe, 1);
        final int refused = cache.enterPush(stripe, id, IdStateTable.IN_USE);
        if (AsymmetricFence.isAsymmetric())
        {
            assertEquals(StripedIdCache.PUSH_NOT_ADMITTED, refused, AsymmetricFence.description());
            assertEquals(IdStateTable.IN_USE, states.get(id), "membarrier mode: the CAS was not tried");
        }
        else
        {
            assertEquals(StripedIdCache.PUSH_REFUSED, refused, AsymmetricFence.description());
            assertEquals(IdStateTable.CACHING, states.get(id), "fenced mode: the CAS came first");
            states.putRelease(id, IdStateTable.IN_USE);
        }
        assertEquals(0, cache.size(stripe), "nothing pushed");
        assertEquals(StripedIdCache.NOT_ADMITTED, cache.enterPop(stripe), "stop still held");
        cache.putStopForTest(stripe, 0);
        assertEquals(StripedIdCache.PUSHED, cache.enterPush(stripe, id, IdStateTable.IN_USE), "busy was left at 0");
        assertEquals(IdStateTable.CACHED, states.get(id));
        assertEquals(1, cache.size(stripe));
        assertEquals(StripedIdCache.NOT_IN_STATE, cache.enterPush(stripe, id, IdStateTable.IN_USE), "a second free");
        assertEquals(1, cache.size(stripe));
        assertEquals(id, cache.enterPop(stripe));
        assertEquals(IdStateTable.IN_USE, states.get(id));
    }

    @Test
    void pushAllAppendsTheBatchInOrderWhereverEitherRingWraps()
    {
        final IdStateTable states = new IdStateTable(1, 4096, false);
        final StripedIdCache cache = new StripedIdCache(1, CAPACITY, states);
        final int stripe = cache.stripeOf(Thread.currentThread());
        assertEquals(0, stripe, "one stripe, leased by this thread");
        final SplittableRandom random = new SplittableRandom(7);
        final ArrayDeque<Integer> model = new ArrayDeque<>();
        int nextId = 1;
        int checked = 0;
        for (int round = 0; round < 2000; round++)
        {
            // NOTE: pops move the ring's head and tail round, so the batch lands at every slot; the source's window
            // starts at every index of its own ring (8 slots) and has every length that fits.
            final int pops = random.nextInt(model.size() + 1);
            assertTrue(cache.enter(stripe));
            for (int i = 0; i < pops; i++)
            {
                assertEquals((int)model.poll(), cache.pop(stripe), "FIFO order, round " + round);
                checked++;
            }
            cache.exit(stripe);
            final int[] source = new int[8];
            final long from = random.nextInt(1 << 20);
            final int n = random.nextInt(Math.min(source.length, CAPACITY - model.size()) + 1);
            for (int i = 0; i < n; i++)
            {
                final int id = nextId;
                nextId = nextId % 4096 + 1;
                source[(int)(from + i) & (source.length - 1)] = id;
                model.add(id);
            }
            assertEquals(model.size() - n, cache.size(stripe));
            assertTrue(cache.pushAll(stripe, source, from, from + n, source.length - 1), "fits: round " + round);
            assertEquals(model.size(), cache.size(stripe), "one tail store for the batch");
        }
        assertTrue(cache.enter(stripe));
        while (!model.isEmpty())
        {
            assertEquals((int)model.poll(), cache.pop(stripe));
            checked++;
        }
        assertEquals(0, cache.pop(stripe), "empty");
        cache.exit(stripe);
        assertTrue(checked > 5000, "the rounds popped what they pushed: " + checked);
    }

    @Test
    void pushAllRefusesABatchThatDoesNotFitOrAMaskThatIsNotTheArraysAndChangesNothing()
    {
        final StripedIdCache cache = new StripedIdCache(1, CAPACITY, new IdStateTable(1, 4096, false));
        final int stripe = cache.stripeOf(Thread.currentThread());
        final int[] ids = new int[32];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = i + 1;
        }
        assertTrue(cache.pushAll(stripe, ids, 0, 10, 31));
        assertFalse(cache.pushAll(stripe, ids, 10, 17, 31), "7 more do not fit in the 6 free slots");
        assertEquals(10, cache.size(stripe), "nothing pushed");
        final IllegalArgumentException tooWide =
            assertThrows(IllegalArgumentException.class, () -> cache.pushAll(stripe, new int[8], 0, 4, 15));
        assertEquals("mask 15 must be ids.length - 1 (8, a power of two): the copy reads ids[0 .. mask]",
            tooWide.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cache.pushAll(stripe, new int[8], 0, 4, 5), "not 2^k - 1");
        assertEquals(10, cache.size(stripe), "a refused mask pushes nothing");
        assertTrue(cache.enter(stripe));
        for (int i = 1; i <= 10; i++)
        {
            assertEquals(i, cache.pop(stripe));
        }
        cache.exit(stripe);
    }
}
