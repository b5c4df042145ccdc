package org.pasidkit.tables.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequesterIdListsTest
{
    @Test
    void addsFirstRemovesAnywhereAndEmptiesToNone()
    {
        final RequesterIdLists lists = new RequesterIdLists(4095);
        assertSame(RequesterIdLists.NONE, lists.of(7));
        lists.add(7, 0x100);
        lists.add(7, 0x101);
        lists.add(7, 0x102);
        assertArrayEquals(new int[]{0x102, 0x101, 0x100}, lists.of(7));
        assertTrue(lists.remove(7, 0x101));
        assertArrayEquals(new int[]{0x102, 0x100}, lists.of(7));
        assertFalse(lists.remove(7, 0x101), "not in the list");
        assertFalse(lists.remove(8, 0x100), "no list");
        assertTrue(lists.remove(7, 0x102));
        assertTrue(lists.remove(7, 0x100));
        assertSame(RequesterIdLists.NONE, lists.of(7), "a PASID whose last bond went starts empty");
        assertSame(RequesterIdLists.NONE, lists.of(-1));
        assertSame(RequesterIdLists.NONE, lists.of(1 << 20));
        assertThrows(IllegalArgumentException.class, () -> new RequesterIdLists(1 << 20));
    }

    @Test
    void internedListsAreSharedAndNeverChangeUnderAReader()
    {
        final RequesterIdLists lists = new RequesterIdLists(4095);
        lists.add(1, 5);
        lists.add(2, 5);
        assertSame(lists.of(1), lists.of(2), "equal lists are one pooled array");
        final int[] held = lists.of(1);
        lists.add(1, 6);
        lists.remove(2, 5);
        assertArrayEquals(new int[]{5}, held, "a list a reader holds never changes");
        assertArrayEquals(new int[]{6, 5}, lists.of(1));
    }

    @Test
    void matchesASequentialModel()
    {
        final RequesterIdLists lists = new RequesterIdLists(63);
        final List<List<Integer>> model = new ArrayList<>();
        for (int p = 0; p < 64; p++)
        {
            model.add(new ArrayList<>());
        }
        final Random random = new Random(42);
        for (int step = 0; step < 200_000; step++)
        {
            final int pasid = random.nextInt(64);
            final int rid = random.nextInt(12);
            final List<Integer> expected = model.get(pasid);
            if (random.nextBoolean() && !expected.contains(rid))
            {
                lists.add(pasid, rid);
                expected.add(0, rid);
            }
            else
            {
                final boolean had = expected.remove((Integer)rid);
                if (had != lists.remove(pasid, rid))
                {
                    throw new AssertionError("remove " + rid + " from PASID " + pasid + " at step " + step);
                }
            }
            assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), lists.of(pasid),
                "PASID " + pasid + " at step " + step);
        }
    }
}
