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
        // a range small enough that warm-up retires every id once (its ticket is created then, and reused after)
        final PasidAllocator grace = PasidAllocator.builder().range(1, 4096).build();
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
        for (int round = 0; round < 6; round++)
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
            }
            immediate.counts(counts);
            final long bytes = allocatedBytes() - before;
            // Rounds 0-2 warm up: retire tickets (one per id, created the first time it is retired) and JIT.
            if (round >= 3)
            {
                assertEquals(0, bytes, "bytes allocated by 200k rounds of the hot paths (round " + round + ")");
            }
        }
        assertTrue(sink != 0);
    }
}
