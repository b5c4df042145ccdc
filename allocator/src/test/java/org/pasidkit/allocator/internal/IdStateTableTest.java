package org.pasidkit.allocator.internal;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The state table (mapped and eager) against a plain byte[] model: states, counts and the pages written. */
class IdStateTableTest
{
    @ParameterizedTest(name = "[{0}, {1}] lazy {2}")
    @CsvSource({"1, 2, true", "1, 63, true", "1, 4096, true", "5, 4100, true", "1, 1048575, true",
        "100, 20000, true", "1, 1048575, false", "5, 4100, false"})
    void anUntouchedRangeIsAllFreeAndCostsNoStateMemoryWhenMapped(final int minId, final int maxId, final boolean lazy)
    {
        final IdStateTable states = new IdStateTable(minId, maxId, lazy);
        final long range = (long)maxId - minId + 1;
        assertEquals(lazy && range > IdStateTable.PAGE_IDS && isLinux(), states.lazilyCommitted(),
            "mapped above 4096 ids on Linux when asked, else one direct buffer");
        final long idle = states.lazilyCommitted() ? 0 : (range + 63) & -64;
        assertEquals(idle, states.nativeBytes(), "mapped: no page before the first write; eager: the whole table");
        assertEquals(IdStateTable.FREE, states.get(minId));
        assertEquals(IdStateTable.FREE, states.get(maxId));
        assertFalse(states.compareAndSet(maxId, IdStateTable.IN_USE, IdStateTable.RETIRED), "FREE, not IN_USE");
        assertEquals(idle, states.nativeBytes(), "a failing CAS from a non-FREE state writes no page");
        assertEquals(0, states.pagesWritten());
        final long[] counts = new long[IdStateTable.STATE_COUNT];
        states.countStates(counts);
        assertEquals((long)maxId - minId + 1, counts[IdStateTable.FREE]);
    }

    @ParameterizedTest(name = "[{0}, {1}] seed {2} lazy {3}")
    @CsvSource({"1, 100, 1, true", "1, 20000, 2, true", "7, 13000, 3, true", "1, 1048575, 4, true",
        "7, 13000, 5, false", "1, 1048575, 6, false"})
    void randomWritesAgreeWithAByteArrayModel(final int minId, final int maxId, final long seed, final boolean lazy)
    {
        final IdStateTable states = new IdStateTable(minId, maxId, lazy);
        final int range = maxId - minId + 1;
        final byte[] model = new byte[range];
        final SplittableRandom random = new SplittableRandom(seed);
        final boolean[] pageTouched = new boolean[(range + IdStateTable.PAGE_IDS - 1) / IdStateTable.PAGE_IDS];
        for (int step = 0; step < 20_000; step++)
        {
            // ids cluster in a few pages, as the allocator hands them out (bitmap words in order)
            final int offset = random.nextInt(Math.min(range, 3 * IdStateTable.PAGE_IDS + 17));
            final int id = minId + offset;
            final byte expected = (byte)random.nextInt(IdStateTable.STATE_COUNT);
            final byte update = (byte)random.nextInt(IdStateTable.STATE_COUNT);
            if (random.nextBoolean())
            {
                states.putRelease(id, update);
                model[offset] = update;
                pageTouched[offset / IdStateTable.PAGE_IDS] = true;
            }
            else
            {
                final boolean won = states.compareAndSet(id, expected, update);
                assertEquals(model[offset] == expected, won, "seed " + seed + " step " + step + " id " + id);
                if (won)
                {
                    model[offset] = update;
                    pageTouched[offset / IdStateTable.PAGE_IDS] |= IdStateTable.FREE == expected;
                }
            }
            assertEquals(model[offset], states.get(id), "seed " + seed + " step " + step + " id " + id);
            assertEquals(model[offset], states.getOpaque(id));
        }
        final long[] counts = new long[IdStateTable.STATE_COUNT];
        final long[] expectedCounts = new long[IdStateTable.STATE_COUNT];
        for (final byte state : model)
        {
            expectedCounts[state]++;
        }
        states.countStates(counts);
        assertArrayEquals(expectedCounts, counts, "seed " + seed);
        int touched = 0;
        for (final boolean t : pageTouched)
        {
            touched += t ? 1 : 0;
        }
        assertTrue(states.pagesWritten() >= touched && states.pagesWritten() <= 4, "pages written " +
            states.pagesWritten() + ", touched " + touched);
        assertEquals(states.lazilyCommitted() ? (long)states.pagesWritten() * IdStateTable.PAGE_IDS : (range + 63) & -64,
            states.nativeBytes());
    }

    @Test
    void anEagerTableAboveADirectBuffersSizeIsRefusedNamingTheRange()
    {
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> new IdStateTable(1, Integer.MAX_VALUE, false));
        assertTrue(ex.getMessage().contains("2147483647 ids"), ex.getMessage());
    }

    private static boolean isLinux()
    {
        return System.getProperty("os.name", "").startsWith("Linux");
    }
}
