package org.pasidkit.allocator.internal;

import java.util.ArrayDeque;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StripedIdCache#pushAll}, the owner's batch move (copied in runs that wrap neither ring), against a FIFO model:
 * every wrap position of the source ring and of the cache ring, one thread.
 */
class StripedIdCacheTest
{
    private static final int CAPACITY = 16;

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
