package org.pasidkit.allocator.internal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VersionedIdBitmapTest
{
    @ParameterizedTest
    @ValueSource(ints = {1, 31, 32, 33, 64, 100, 257})
    void claimsEveryIdOnceFromAnyHintThenSaysNone(final int ids)
    {
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(10, 10 + ids - 1);
        assertEquals((ids + 31) / 32, bitmap.wordCount());
        assertEquals(0, bitmap.claimedCount(), "padding bits past maxId are not counted");
        final boolean[] seen = new boolean[ids];
        for (int i = 0; i < ids; i++)
        {
            final int id = bitmap.claim(10, 10 + ids - 1, (i * 7) % bitmap.wordCount());
            assertTrue(id >= 10 && id < 10 + ids, "id " + id);
            assertFalse(seen[id - 10], "id " + id + " twice");
            seen[id - 10] = true;
            assertTrue(bitmap.isClaimed(id));
        }
        assertEquals(0, bitmap.claim(10, 10 + ids - 1, 0));
        assertEquals(ids, bitmap.claimedCount());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 5})
    void subRangesClaimOnlyInsideAndReleaseRefusesAClearBit(final int hint)
    {
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(1, 200);
        for (int i = 0; i < 11; i++)
        {
            final int id = bitmap.claim(60, 70, hint);
            assertTrue(id >= 60 && id <= 70, "id " + id);
        }
        assertEquals(0, bitmap.claim(60, 70, hint), "all of [60, 70] claimed");
        assertEquals(11, bitmap.claimedCount());
        assertTrue(bitmap.release(65));
        assertFalse(bitmap.release(65), "a second release of 65");
        assertFalse(bitmap.release(100), "never claimed");
        assertEquals(65, bitmap.claim(60, 70, hint));
        assertTrue(bitmap.tryClaim(100));
        assertFalse(bitmap.tryClaim(100));
        assertEquals(12, bitmap.claimedCount());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 32, 100})
    void aFullSumAnswersNoIdOnlyWhileNothingChanged(final int ids)
    {
        final int lo = 10;
        final int hi = 10 + ids - 1;
        final VersionedIdBitmap bitmap = new VersionedIdBitmap(lo, hi);
        for (int i = 0; i < ids; i++)
        {
            assertTrue(bitmap.claim(lo, hi, 0, VersionedIdBitmap.NO_SUM) > 0);
        }
        final long none = bitmap.claim(lo, hi, 0, VersionedIdBitmap.NO_SUM);
        assertTrue(none < 0, "full: " + none);
        final long sum = -1 - none;
        assertEquals(none, bitmap.claim(lo, hi, 0, sum), "nothing changed: the same sum, the same answer");
        // A free and a claim of the same id: full again, but the free stepped a version (a claim does not).
        assertTrue(bitmap.release(lo));
        assertEquals(lo, bitmap.claim(lo, hi, 0, sum), "a free id is found whatever sum is given");
        final long again = bitmap.claim(lo, hi, 0, sum);
        assertEquals(-1 - (sum + 1), again, "the old sum no longer validates: two passes, the new sum");
        assertTrue(bitmap.release(hi));
        assertEquals(hi, bitmap.claim(lo, hi, 0, sum + 1), "a sum recorded before a free does not hide it");
        assertEquals(-1 - (sum + 2), bitmap.claim(lo, hi, 0, sum + 2),
            "full again: the release of hi stepped the sum once, its claim did not");
        assertEquals(ids, bitmap.claimedCount());
    }
}
