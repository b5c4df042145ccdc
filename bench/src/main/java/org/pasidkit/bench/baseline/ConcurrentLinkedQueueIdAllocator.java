package org.pasidkit.bench.baseline;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.pasidkit.allocator.IdAllocator;

/**
 * Baseline {@code clq}: a {@link ConcurrentLinkedQueue} of boxed ids, pre-filled with the whole range, as a FIFO
 * free list (the JDK-only answer), plus an in-use flag per id to detect double frees.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method from any thread.</li>
 *   <li>Progress: lock-free (Michael-Scott queue).</li>
 *   <li>Linearization: allocate at the poll; free at its flag CAS (1 -&gt; 0). {@link #EXHAUSTED} when the poll
 *       finds the queue empty.</li>
 *   <li>Allocation: every free allocates a queue node (24 B with compressed oops; 32 B without), which is the
 *       cost this baseline exists to show. Boxes are made once at construction and re-offered.</li>
 *   <li>Memory, per id: 16 B box + 4 B box table + 24 B node while free + 4 B flag.</li>
 * </ul>
 */
public final class ConcurrentLinkedQueueIdAllocator implements IdAllocator
{
    public static final String NAME = "clq";

    private final ConcurrentLinkedQueue<Integer> freeList = new ConcurrentLinkedQueue<>();
    private final Integer[] boxes;
    private final AtomicIntegerArray inUse;
    private final int minId;
    private final int maxId;

    ConcurrentLinkedQueueIdAllocator(final int minId, final int maxId)
    {
        final int range = IdRanges.checkRange(minId, maxId);
        this.minId = minId;
        this.maxId = maxId;
        this.boxes = new Integer[range];
        this.inUse = new AtomicIntegerArray(range);
        for (int i = 0; i < range; i++)
        {
            boxes[i] = minId + i;
            freeList.offer(boxes[i]);
        }
    }

    @Override
    public int allocate()
    {
        final Integer box = freeList.poll();
        if (null == box)
        {
            return EXHAUSTED;
        }
        final int id = box;
        // NOTE: release store by the id's exclusive owner; read by the CAS in free.
        inUse.setRelease(id - minId, 1);
        return id;
    }

    @Override
    public void free(final int id)
    {
        IdRanges.checkId(id, minId, maxId);
        final int index = id - minId;
        if (!inUse.compareAndSet(index, 1, 0))
        {
            throw IdRanges.notInUse(id, minId, maxId);
        }
        // NOTE: flag first, then offer: once offered the box may be polled and flagged by another thread.
        freeList.offer(boxes[index]);
    }

    @Override
    public int minId()
    {
        return minId;
    }

    @Override
    public int maxId()
    {
        return maxId;
    }

    @Override
    public String name()
    {
        return NAME;
    }
}
