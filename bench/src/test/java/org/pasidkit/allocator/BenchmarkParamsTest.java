package org.pasidkit.allocator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The range parameters of the allocator benchmarks ({@code -p maxId=N}, {@code -p range=N}): a value outside the PASID
 * space is refused with a message naming it and the rule; a value inside builds what the benchmark says.
 */
class BenchmarkParamsTest
{
    @Test
    void allocFreeMaxIdOutsideThePasidSpaceIsRefusedNamingTheValueAndTheRule()
    {
        for (final int bad : new int[] {0, -5, PasidAllocator.DEFAULT_MAX_ID + 1})
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> PasidAllocatorAllocFreeBenchmark.create("pasidkit-grace", bad));
            assertEquals("maxId " + bad + " must be in [1, " + PasidAllocator.DEFAULT_MAX_ID + "]", ex.getMessage());
        }
    }

    @Test
    void allocFreeMaxIdBuildsTheAllocatorOverOneToMaxId()
    {
        final PasidAllocator grace = (PasidAllocator)PasidAllocatorAllocFreeBenchmark.create("pasidkit-grace", 512);
        assertEquals(512, grace.maxId());
        assertTrue(grace.hasGracePeriod());
        assertFalse(grace.hasPerCpuCaches(), "a narrow device's range: the default build has no caches");
        final PasidAllocator full = (PasidAllocator)PasidAllocatorAllocFreeBenchmark.create("pasidkit");
        assertEquals(PasidAllocator.DEFAULT_MAX_ID, full.maxId());
        assertTrue(full.hasPerCpuCaches());
        final IdAllocator sbitmap = PasidAllocatorAllocFreeBenchmark.create("sbitmap", 512);
        final int id = sbitmap.allocate();
        assertTrue(id >= 1 && id <= 512, "id " + id);
    }

    @Test
    void heldSetMaxIdOutsideThePasidSpaceIsRefusedNamingTheValueAndTheRule()
    {
        final PasidAllocatorHeldSetBenchmark benchmark = new PasidAllocatorHeldSetBenchmark();
        benchmark.impl = "pasidkit";
        benchmark.heldPercent = "50";
        benchmark.maxId = PasidAllocator.DEFAULT_MAX_ID + 1;
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, benchmark::fill);
        assertEquals("maxId " + benchmark.maxId + " must be in [1, " + PasidAllocator.DEFAULT_MAX_ID + "]",
            ex.getMessage());
    }

    @Test
    void heldSetMaxIdHoldsItsShareOfOneToMaxIdAndHandsOutIdsInside()
    {
        final PasidAllocatorHeldSetBenchmark benchmark = new PasidAllocatorHeldSetBenchmark();
        benchmark.impl = "pasidkit-grace";
        benchmark.heldPercent = "50";
        benchmark.maxId = 64;
        benchmark.fill();
        final PasidAllocatorAllocFreeBenchmark.Failures failures = new PasidAllocatorAllocFreeBenchmark.Failures();
        for (int i = 0; i < 1000; i++)
        {
            final int id = benchmark.allocateFreeRandomHeld(failures);
            assertTrue(id >= 1 && id <= 64, "op " + i + ": id " + id);
        }
        assertEquals(0, failures.allocFailures, "32 of 64 ids held: an allocation never finds the range empty");
        benchmark.release();
    }

    @Test
    void subRangeBenchmarkRefusesABadWidthOrAnImplWithoutSubRangesNamingThem()
    {
        final IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
            () -> PasidAllocatorSubRangeBenchmark.create("pasidkit", 0));
        assertEquals("narrowMaxId 0 must be in [1, " + PasidAllocator.DEFAULT_MAX_ID + "]", width.getMessage());
        final IllegalArgumentException impl = assertThrows(IllegalArgumentException.class,
            () -> PasidAllocatorSubRangeBenchmark.create("sbitmap", 65535));
        assertEquals("impl sbitmap has no sub-range allocation (one of pasidkit, pasidkit-grace, locked-bitset, " +
            "atomic-bitmap)", impl.getMessage());
    }

    @Test
    void subRangeAllocationsOfEveryImplStayInsideAndFindTheFreedIdAgain()
    {
        for (final String name : new String[] {"pasidkit", "pasidkit-grace", "locked-bitset", "atomic-bitmap"})
        {
            final org.pasidkit.bench.baseline.SubRangeIdAllocator a = PasidAllocatorSubRangeBenchmark.create(name, 200);
            assertEquals(PasidAllocator.DEFAULT_MAX_ID, a.maxId(), name);
            final int[] held = new int[200];
            for (int i = 0; i < 200; i++)
            {
                held[i] = a.allocate(1, 200);
                assertTrue(held[i] >= 1 && held[i] <= 200, name + ": id " + held[i]);
            }
            assertEquals(IdAllocator.EXHAUSTED, a.allocate(1, 200), name + ": all 200 held");
            final int outside = a.allocate(201, 300);
            assertTrue(outside >= 201 && outside <= 300, name + ": id " + outside);
            a.free(held[77]);
            if (a instanceof PasidAllocatorSubRangeBenchmark.PasidkitSubRange)
            {
                ((PasidAllocatorSubRangeBenchmark.PasidkitSubRange)a).allocator().reclaim(); // its grace period
            }
            assertEquals(held[77], a.allocate(1, 200), name + ": the one free id of the sub-range");
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> a.allocate(9, 8));
            assertTrue(ex.getMessage().contains("[9, 8]"), name + ": " + ex.getMessage());
            assertEquals(IdAllocator.EXHAUSTED, a.allocate(1, 200), name + ": the refusal changed nothing");
        }
    }

    @Test
    void churnRangeOutsideItsRuleIsRefusedNamingTheValueAndTheRule()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> PasidAllocatorExhaustionChurnBenchmark.maxHeld(3));
        assertEquals("range 3 must be in [4, " + PasidAllocator.DEFAULT_MAX_ID + "]", ex.getMessage());
        assertEquals(384, PasidAllocatorExhaustionChurnBenchmark.maxHeld(512));
    }
}
