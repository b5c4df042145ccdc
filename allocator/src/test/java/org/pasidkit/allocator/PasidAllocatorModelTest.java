package org.pasidkit.allocator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random sequences of every allocator call against a sequential model. Each failure message starts with the
 * seed and the step, so a failing sequence is reproduced by running that seed alone.
 */
class PasidAllocatorModelTest
{
    static Stream<Arguments> variants()
    {
        final List<Arguments> args = new ArrayList<>();
        final int[][] shapes = {{1, 48, 1, 8, 4}, {5, 70, 2, 16, 8}, {1, 200, 4, 32, 16}, {1, 3, 2, 2, 1}};
        for (final int[] shape : shapes)
        {
            for (final boolean grace : new boolean[]{false, true})
            {
                for (long seed = 1; seed <= 6; seed++)
                {
                    args.add(Arguments.of(seed * 7919 + shape[1], shape[0], shape[1], shape[2], shape[3], shape[4],
                        grace, true));
                    if (!grace)
                    {
                        // the same sequences without caches (the versioned bitmap alone)
                        args.add(Arguments.of(seed * 7919 + shape[1], shape[0], shape[1], shape[2], shape[3], shape[4],
                            false, false));
                    }
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "seed={0} range=[{1},{2}] stripes={3} cache={4} batch={5} grace={6} caches={7}")
    @MethodSource("variants")
    void randomSequencesAgreeWithTheModel(
        final long seed, final int min, final int max, final int stripes, final int capacity, final int batch,
        final boolean grace, final boolean caches)
    {
        final PasidAllocator.Builder builder = PasidAllocator.builder().range(min, max).stripes(stripes)
            .cacheCapacity(capacity).refillBatch(batch).perCpuCaches(caches);
        final PasidAllocator a = (grace ? builder : builder.immediateReuse()).build();
        assertEquals(caches, a.hasPerCpuCaches(), "caches as asked");
        final EpochDomain.Reader reader = grace ? a.epochDomain().register() : null;
        final Random random = new Random(seed);
        final int capacityIds = max - min + 1;

        final Set<Integer> inUse = new HashSet<>();
        final Map<Integer, Integer> held = new HashMap<>();
        final Map<Integer, Long> retiredAtEpoch = new HashMap<>();
        final Set<Integer> retiredWhileReaderInside = new HashSet<>();
        final AllocatorCounts counts = new AllocatorCounts();

        for (int step = 0; step < 3000; step++)
        {
            final String where = "seed " + seed + " step " + step + ": ";
            final int op = random.nextInt(100);
            if (op < 35)
            {
                final int id = a.allocate();
                checkAllocation(where, id, min, max, inUse, held, retiredAtEpoch, retiredWhileReaderInside, a, reader);
            }
            else if (op < 42)
            {
                final int lo = min + random.nextInt(capacityIds);
                final int hi = lo + random.nextInt(max - lo + 1);
                final int id = a.allocate(lo, hi);
                if (id > 0)
                {
                    assertTrue(id >= lo && id <= hi, where + "sub-range [" + lo + ", " + hi + "] gave " + id);
                }
                else
                {
                    for (int x = lo; x <= hi; x++)
                    {
                        final boolean taken = inUse.contains(x) || held.containsKey(x) || retiredAtEpoch.containsKey(x);
                        assertTrue(taken, where + "sub-range [" + lo + ", " + hi + "] reported " + id +
                            " but id " + x + " is free in the model");
                    }
                }
                if (id > 0)
                {
                    checkAllocation(
                        where, id, min, max, inUse, held, retiredAtEpoch, retiredWhileReaderInside, a, reader);
                }
            }
            else if (op < 72 && !inUse.isEmpty())
            {
                final int id = pick(random, inUse);
                if (grace && random.nextInt(4) == 0)
                {
                    final int holders = 1 + random.nextInt(2);
                    a.retire(id, holders);
                    inUse.remove(id);
                    held.put(id, holders);
                }
                else
                {
                    a.free(id);
                    inUse.remove(id);
                    if (grace)
                    {
                        retire(a, reader, id, retiredAtEpoch, retiredWhileReaderInside);
                    }
                }
            }
            else if (op < 78 && !held.isEmpty())
            {
                final int id = pick(random, held.keySet());
                final int left = a.release(id);
                assertEquals(held.get(id) - 1, left, where + "holders of " + id);
                if (0 == left)
                {
                    held.remove(id);
                    retire(a, reader, id, retiredAtEpoch, retiredWhileReaderInside);
                }
                else
                {
                    held.put(id, left);
                }
            }
            else if (op < 84)
            {
                final int bad = random.nextBoolean() ? min + random.nextInt(capacityIds) : max + 1 + random.nextInt(5);
                final boolean isInUse = inUse.contains(bad);
                if (!isInUse)
                {
                    final String before = stateSummary(a, counts);
                    assertThrows(IllegalArgumentException.class, () -> a.free(bad), where + "free of " + bad);
                    assertEquals(before, stateSummary(a, counts), where + "a refused free changed state");
                }
            }
            else if (op < 90)
            {
                final int id = min + random.nextInt(capacityIds);
                final boolean free = !inUse.contains(id) && !held.containsKey(id) && !retiredAtEpoch.containsKey(id);
                final boolean reserved = a.reserve(id);
                if (free)
                {
                    assertTrue(reserved, where + "reserve of free id " + id);
                }
                if (reserved)
                {
                    checkAllocation(where, id, min, max, inUse, held, retiredAtEpoch, retiredWhileReaderInside, a,
                        reader);
                }
            }
            else if (op < 95)
            {
                a.reclaim();
            }
            else if (null != reader)
            {
                if (reader.isInside())
                {
                    reader.exit();
                    retiredWhileReaderInside.clear();
                }
                else
                {
                    reader.enter();
                }
            }

            // Retired ids that the allocator reclaimed become free in the model.
            retiredAtEpoch.keySet().removeIf((id) ->
            {
                final IdState state = a.stateOf(id);
                return IdState.FREE == state || IdState.CACHED == state;
            });
            a.counts(counts);
            assertEquals(inUse.size(), counts.inUse(), where + "in use: " + counts);
            assertEquals(held.size(), counts.held(), where + "held: " + counts);
            assertEquals(retiredAtEpoch.size(), counts.retired(), where + "retired: " + counts);
            assertEquals(capacityIds, counts.free() + counts.cached() + counts.inUse() + counts.inGrace(),
                where + "an id was lost: " + counts);
        }
    }

    private static void retire(
        final PasidAllocator a,
        final EpochDomain.Reader reader,
        final int id,
        final Map<Integer, Long> retiredAtEpoch,
        final Set<Integer> retiredWhileReaderInside)
    {
        retiredAtEpoch.put(id, a.epochDomain().epoch());
        if (null != reader && reader.isInside())
        {
            retiredWhileReaderInside.add(id);
        }
    }

    private static void checkAllocation(
        final String where,
        final int id,
        final int min,
        final int max,
        final Set<Integer> inUse,
        final Map<Integer, Integer> held,
        final Map<Integer, Long> retiredAtEpoch,
        final Set<Integer> retiredWhileReaderInside,
        final PasidAllocator a,
        final EpochDomain.Reader reader)
    {
        if (id > 0)
        {
            assertTrue(id >= min && id <= max, where + "id " + id + " out of range");
            assertFalse(inUse.contains(id), where + "id " + id + " handed out twice");
            assertFalse(held.containsKey(id), where + "id " + id + " handed out while holders are outstanding");
            assertFalse(retiredWhileReaderInside.contains(id), where + "id " + id +
                " reused while a reader that entered before its retirement is still inside");
            final Long retiredEpoch = retiredAtEpoch.remove(id);
            if (null != retiredEpoch)
            {
                // reclaimed inline by this very call: only legal once two epochs have passed
                final long epoch = a.epochDomain().epoch();
                assertTrue(epoch >= retiredEpoch + 2, where + "id " + id + " retired in epoch " + retiredEpoch +
                    " reused in epoch " + epoch);
            }
            inUse.add(id);
            return;
        }
        final int capacity = max - min + 1;
        if (IdAllocator.EXHAUSTED == id)
        {
            assertEquals(capacity, inUse.size(), () -> where + "EXHAUSTED with free ids in the model (held " +
                held.size() + ", retired " + retiredAtEpoch.size() + "): " + dump(a));
        }
        else if (IdAllocator.ALL_IN_GRACE == id)
        {
            assertTrue(held.size() + retiredAtEpoch.size() > 0, where + "ALL_IN_GRACE with nothing in grace");
            assertEquals(capacity, inUse.size() + held.size() + retiredAtEpoch.size(),
                where + "ALL_IN_GRACE with free ids in the model");
            final boolean readerBlocks = null != reader && reader.isInside();
            assertTrue(readerBlocks || !held.isEmpty(), where +
                "ALL_IN_GRACE although no reader is inside and nothing is held: grace should pass inline");
        }
        else
        {
            fail(where + "unexpected result " + id);
        }
    }

    private static String stateSummary(final PasidAllocator a, final AllocatorCounts counts)
    {
        a.counts(counts);
        return "free+cached=" + (counts.free() + counts.cached()) + " inUse=" + counts.inUse() + " retired=" +
            counts.retired() + " held=" + counts.held() + " epoch=" + counts.epoch();
    }

    private static String dump(final PasidAllocator a)
    {
        final StringBuilder sb = new StringBuilder();
        for (int id = a.minId(); id <= a.maxId(); id++)
        {
            sb.append(id).append('=').append(a.stateOf(id)).append(' ');
        }
        return sb.toString();
    }

    private static int pick(final Random random, final Set<Integer> set)
    {
        int skip = random.nextInt(set.size());
        for (final int id : set)
        {
            if (skip-- == 0)
            {
                return id;
            }
        }
        throw new AssertionError();
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("fifoSeeds")
    void retiredIdsAreReusedInRetireOrder(final long seed)
    {
        final Random random = new Random(seed);
        final PasidAllocator a = PasidAllocator.builder().range(1, 32).stripes(1).cacheCapacity(64).refillBatch(8)
            .build();
        final List<Integer> held = new ArrayList<>();
        final ArrayDeque<Integer> retiredOrder = new ArrayDeque<>();
        final Set<Integer> everRetired = new HashSet<>();
        for (int step = 0; step < 4000; step++)
        {
            if (random.nextInt(100) < 55 || held.isEmpty())
            {
                final int id = a.allocate();
                if (id <= 0)
                {
                    continue;
                }
                if (everRetired.contains(id))
                {
                    assertEquals(retiredOrder.peekFirst(), Integer.valueOf(id),
                        "seed " + seed + " step " + step + ": reuse out of FIFO order");
                    retiredOrder.pollFirst();
                }
                held.add(id);
            }
            else
            {
                final int id = held.remove(random.nextInt(held.size()));
                a.free(id);
                retiredOrder.addLast(id);
                everRetired.add(id);
            }
        }
    }

    static Stream<Long> fifoSeeds()
    {
        return Stream.of(1L, 2L, 3L, 4L, 5L, 42L, 4242L);
    }
}
