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
    void churnRangeOutsideItsRuleIsRefusedNamingTheValueAndTheRule()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> PasidAllocatorExhaustionChurnBenchmark.maxHeld(3));
        assertEquals("range 3 must be in [4, " + PasidAllocator.DEFAULT_MAX_ID + "]", ex.getMessage());
        assertEquals(384, PasidAllocatorExhaustionChurnBenchmark.maxHeld(512));
    }
}
