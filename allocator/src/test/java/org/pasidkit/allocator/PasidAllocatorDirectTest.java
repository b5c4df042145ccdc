package org.pasidkit.allocator;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The allocator without caches ({@link PasidAllocator#hasPerCpuCaches()} false): when the builder chooses it, and
 * that it keeps every promise of the allocator with caches (every id once, exact "no id", double frees refused with
 * nothing changed, sub-ranges, reserve, counts). Linearizability: {@link PasidAllocatorDirectLincheckTest}; random
 * sequences against a model: {@link PasidAllocatorModelTest} ({@code caches=false}).
 */
class PasidAllocatorDirectTest
{
    private static PasidAllocator direct(final int min, final int max)
    {
        final PasidAllocator a = PasidAllocator.builder().range(min, max).immediateReuse().perCpuCaches(false).build();
        assertFalse(a.hasPerCpuCaches());
        return a;
    }

    @Test
    void theBuilderChoosesNoCachesForASmallRangeWithoutGraceOnly()
    {
        assertFalse(PasidAllocator.builder().range(1, PasidAllocator.DIRECT_MAX_IDS).immediateReuse().build()
            .hasPerCpuCaches(), "a range of DIRECT_MAX_IDS ids without a grace period: no caches");
        assertTrue(PasidAllocator.builder().range(1, PasidAllocator.DIRECT_MAX_IDS + 1).immediateReuse().build()
            .hasPerCpuCaches(), "one id more: caches");
        assertFalse(PasidAllocator.builder().range(1, 512).build().hasPerCpuCaches(),
            "with a grace period too (PasidAllocatorDirectGraceTest)");
        assertFalse(PasidAllocator.builder().range(1, PasidAllocator.DIRECT_GRACE_MAX_IDS).build().hasPerCpuCaches(),
            "a range of DIRECT_GRACE_MAX_IDS ids with a grace period: no caches");
        assertTrue(PasidAllocator.builder().range(1, PasidAllocator.DIRECT_GRACE_MAX_IDS + 1).build().hasPerCpuCaches(),
            "one id more: caches");
        assertTrue(PasidAllocator.builder().range(1, 512).quarantine(1, TimeUnit.MILLISECONDS).build()
            .hasPerCpuCaches(), "a quarantine: caches (their retire rings keep the retire times)");
        assertTrue(PasidAllocator.builder().range(1, 512).stripes(2).immediateReuse().build().hasPerCpuCaches(),
            "stripes set: a cache was asked for");
        assertTrue(PasidAllocator.builder().range(1, 512).immediateReuse().perCpuCaches(true).build()
            .hasPerCpuCaches(), "asked for");
        assertFalse(PasidAllocator.builder().immediateReuse().perCpuCaches(false).build().hasPerCpuCaches(),
            "the whole 20-bit range without caches when asked");
        assertEquals(0, direct(1, 10).stripes());
    }

    @Test
    void noCachesWithAQuarantineIsRefusedWithTheRule()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> PasidAllocator.builder().range(1, 64).quarantine(5, TimeUnit.MILLISECONDS).perCpuCaches(false).build());
        assertTrue(e.getMessage().contains("perCpuCaches(false) with a quarantine of 5000000 ns"), e.getMessage());
    }

    @Test
    void handsOutEveryIdOnceThenSaysExhaustedThenReusesFreedIds()
    {
        final PasidAllocator a = direct(5, 104);
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 100; i++)
        {
            final int id = a.allocate();
            assertTrue(id >= 5 && id <= 104, "id " + id);
            assertTrue(seen.add(id), "id handed out twice: " + id);
            assertEquals(IdState.IN_USE, a.stateOf(id));
        }
        assertEquals(IdAllocator.EXHAUSTED, a.allocate());
        final IdsExhaustedException ex = assertThrows(IdsExhaustedException.class, a::allocateOrThrow);
        assertFalse(ex.inGrace());
        final AllocatorCounts counts = a.counts(new AllocatorCounts());
        assertEquals(100, counts.inUse());
        assertEquals(0, counts.free());
        a.free(77);
        assertEquals(IdState.FREE, a.stateOf(77));
        assertEquals(77, a.allocate(), "the only free id");
        assertEquals(IdAllocator.EXHAUSTED, a.allocate(10, 20));
    }

    @Test
    void aDoubleFreeIsRefusedNamingTheIdAndChangesNothing()
    {
        final PasidAllocator a = direct(1, 40);
        final int id = a.allocate();
        a.free(id);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(id));
        assertEquals("id " + id + " is not in use (state FREE): it is free: a double free, or it was never " +
            "allocated; nothing was changed", e.getMessage());
        final IllegalArgumentException outside = assertThrows(IllegalArgumentException.class, () -> a.free(41));
        assertTrue(outside.getMessage().startsWith("id 41 is outside the allocator's range [1, 40]"),
            outside.getMessage());
        final AllocatorCounts counts = a.counts(new AllocatorCounts());
        assertEquals(40, counts.free(), "nothing changed: " + counts);
        assertEquals(0, counts.inUse());
        final Set<Integer> all = new HashSet<>();
        for (int x = a.allocate(); x > 0; x = a.allocate())
        {
            assertTrue(all.add(x));
        }
        assertEquals(40, all.size(), "every id still allocatable once");
    }

    @Test
    void subRangesReserveAndTheThingsACacheWouldDo()
    {
        final PasidAllocator a = direct(1, 100);
        assertTrue(a.reserve(50));
        assertFalse(a.reserve(50), "reserved twice");
        for (int i = 0; i < 9; i++)
        {
            final int id = a.allocate(45, 54);
            assertTrue(id >= 45 && id <= 54 && id != 50, "id " + id);
        }
        assertEquals(IdAllocator.EXHAUSTED, a.allocate(45, 54), "all ten of [45, 54] in use");
        assertThrows(IllegalArgumentException.class, () -> a.allocate(54, 45));
        assertThrows(IllegalArgumentException.class, () -> a.allocate(0, 5));
        assertThrows(IllegalArgumentException.class, () -> a.retire(50, 1));
        assertThrows(IllegalArgumentException.class, () -> a.release(50));
        assertEquals(0, a.holders(50));
        assertEquals(0, a.reclaim());
        a.releaseThreadCache();
        assertNull(a.epochDomain());
        assertEquals(10, a.counts(new AllocatorCounts()).inUse());
        assertTrue(a.nativeBytes() > 0 && a.nativeBytes() <= 64, "100 ids: four words, one line: " + a.nativeBytes());
        assertEquals(1, a.allocate(1, 1));
        final int timed = a.allocate(1L, TimeUnit.MILLISECONDS);
        assertTrue(timed > 1 && IdState.IN_USE == a.stateOf(timed), "a timed allocation with 89 ids free: " + timed);
    }

    /** Two threads churn on a range smaller than they want together: no id twice, none lost, "no id" often. */
    @Test
    void twoThreadsChurningAnExhaustedRangeLoseNothing() throws Exception
    {
        final PasidAllocator a = direct(1, 96);
        final CyclicBarrier start = new CyclicBarrier(2);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final long[] noId = new long[2];
        final List<Thread> threads = new ArrayList<>();
        final boolean[] inUse = new boolean[97];
        for (int t = 0; t < 2; t++)
        {
            final int me = t;
            threads.add(new Thread(() ->
            {
                try
                {
                    start.await();
                    final int[] held = new int[72];
                    int count = 0;
                    long x = 0x9E3779B97F4A7C15L * (me + 1);
                    for (int i = 0; i < 200_000; i++)
                    {
                        x ^= x << 13;
                        x ^= x >>> 7;
                        x ^= x << 17;
                        if (72 == count || (count > 0 && 0 == (x & 3)))
                        {
                            final int slot = (int)((x >>> 1) % count);
                            final int id = held[slot];
                            held[slot] = held[--count];
                            synchronized (inUse)
                            {
                                inUse[id] = false;
                            }
                            a.free(id);
                        }
                        else
                        {
                            final int id = a.allocate();
                            if (id > 0)
                            {
                                synchronized (inUse)
                                {
                                    if (inUse[id])
                                    {
                                        throw new AssertionError("id " + id + " handed out while in use");
                                    }
                                    inUse[id] = true;
                                }
                                held[count++] = id;
                            }
                            else
                            {
                                assertEquals(IdAllocator.EXHAUSTED, id);
                                noId[me]++;
                            }
                        }
                    }
                    for (int i = 0; i < count; i++)
                    {
                        synchronized (inUse)
                        {
                            inUse[held[i]] = false;
                        }
                        a.free(held[i]);
                    }
                }
                catch (final Throwable e)
                {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (final Thread thread : threads)
        {
            thread.join();
        }
        assertNull(failure.get(), () -> "failure: " + failure.get());
        assertTrue(noId[0] + noId[1] > 0, "the range ran out");
        final AllocatorCounts counts = a.counts(new AllocatorCounts());
        assertEquals(96, counts.free(), "every id free again: " + counts);
        final Set<Integer> all = new HashSet<>();
        for (int x = a.allocate(); x > 0; x = a.allocate())
        {
            assertTrue(all.add(x));
        }
        assertEquals(96, all.size());
    }
}
