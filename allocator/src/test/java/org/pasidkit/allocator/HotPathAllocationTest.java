package org.pasidkit.allocator;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot paths allocate no Java objects: measured with {@code com.sun.management.ThreadMXBean} around a warmed
 * loop (JMH {@code -prof gc} in module bench measures the same in the benchmarks).
 */
class HotPathAllocationTest
{
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    private static long allocatedBytes()
    {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    void allocateFreeAndEnterExitAllocateNothing()
    {
        assertTrue(THREADS.isThreadAllocatedMemorySupported());
        final PasidAllocator immediate = PasidAllocator.builder().immediateReuse().build();
        // no caches (a small range without a grace period): allocate, free and "no id" on the versioned bitmap
        final PasidAllocator direct = PasidAllocator.builder().range(1, 100).immediateReuse().build();
        assertTrue(!direct.hasPerCpuCaches());
        for (int i = 0; i < 99; i++)
        {
            direct.allocate();
        }
        // a range small enough that warm-up retires every id once (its ticket is created then, and reused after)
        final PasidAllocator grace = PasidAllocator.builder().range(1, 4096).perCpuCaches(true).build();
        // no caches with a grace period (a small range, the default build): allocate, free, "none free" from the
        // sweep generation, and the sweeps that bring retired ids back
        final PasidAllocator directGrace = PasidAllocator.builder().range(1, 100).build();
        assertTrue(!directGrace.hasPerCpuCaches());
        final int[] graceHeld = new int[100];
        int graceCount = 0;
        final EpochDomain.Reader reader = grace.epochDomain().register();
        // Retire every id of the grace range once, so each has its ticket before the measured rounds: the allocation
        // path insists on reclaiming, so the rounds alone may leave some ids never retired until a late round.
        final int[] all = new int[4096];
        int held = 0;
        for (int id = grace.allocate(); id > 0; id = grace.allocate())
        {
            all[held++] = id;
        }
        assertEquals(4096, held, "the whole grace range is allocatable");
        for (int i = 0; i < held; i++)
        {
            grace.free(all[i]);
        }
        final int[] window = new int[64];
        final AllocatorCounts counts = new AllocatorCounts();
        long sink = 0;
        // Warm up until 3 rounds in a row allocate nothing (retire tickets are created the first time an id is
        // retired; a late JIT compile or deoptimization can allocate once). A per-call allocation would make every
        // round allocate >= 200k B and never give 3 clean rounds.
        int rounds = 0;
        int cleanInARow = 0;
        long bytes = -1;
        while (cleanInARow < 3 && rounds < 40)
        {
            final long before = allocatedBytes();
            for (int i = 0; i < 200_000; i++)
            {
                final int id = immediate.allocate();
                immediate.free(id);
                final int slot = i & 63;
                if (0 != window[slot])
                {
                    grace.free(window[slot]);
                }
                window[slot] = grace.allocate();
                reader.enter();
                sink += grace.stateOf(window[slot]).ordinal();
                reader.exit();
                final int narrow = immediate.allocate(1, (1 << 16) - 1);
                sink += narrow;
                immediate.free(narrow);
                final int last = direct.allocate();
                sink += direct.allocate(); // EXHAUSTED: the last id is taken
                direct.free(last);
                final int g = directGrace.allocate(); // an id, or ALL_IN_GRACE while the rest wait for a sweep
                if (g > 0)
                {
                    graceHeld[graceCount++] = g;
                }
                if (graceCount == graceHeld.length || (g < 0 && graceCount > 0))
                {
                    directGrace.free(graceHeld[--graceCount]);
                }
            }
            directGrace.counts(counts);
            immediate.counts(counts);
            direct.counts(counts);
            bytes = allocatedBytes() - before;
            cleanInARow = 0 == bytes ? cleanInARow + 1 : 0;
            rounds++;
        }
        assertEquals(3, cleanInARow, "3 rounds in a row of 200k hot-path calls allocate 0 B within 40 rounds; " +
            "the last allocated " + bytes + " B");
        assertTrue(sink != 0);
    }
}
