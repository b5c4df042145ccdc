package org.pasidkit.bench.baseline;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantLock;

import org.pasidkit.allocator.IdAllocator;

/**
 * Baseline {@code tl-magazine}: a {@link ThreadLocal} magazine (a stack of ids) per thread over a shared depot (a
 * stack of ids behind a {@link ReentrantLock}), after Bonwick's magazine layer. Fast, but it strands ids: an id in
 * one thread's magazine cannot be handed out by another thread, and ids in the magazine of a thread that dies are
 * lost. {@link #neverStrands()} is false.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method from any thread. A magazine is touched only by its thread.</li>
 *   <li>Progress: allocate and free are wait-free on a magazine hit; a refill (magazine empty) or a spill
 *       (magazine full) takes the depot lock and moves {@code capacity / 2} ids.</li>
 *   <li>Invariant: every id is in exactly one place: the depot, one magazine, or handed out (flag 1).</li>
 *   <li>Linearization: allocate at its pop; free at its flag CAS (1 -&gt; 0). {@link #EXHAUSTED} when the calling
 *       thread's magazine and the depot are empty, even if other magazines hold free ids (stranding).</li>
 *   <li>Allocation: one magazine per thread on its first call (a {@code ThreadLocal} entry and an
 *       {@code int[capacity]}); none after.</li>
 * </ul>
 *
 * <p>What the double-free check costs: a release store on allocate and a CAS on free in a shared flag array (4 B per
 * id). A magazine alone cannot see that an id is already free in another thread's magazine or the depot.</p>
 */
public final class ThreadLocalMagazineIdAllocator implements IdAllocator
{
    public static final String NAME = "tl-magazine";
    /** Ids a magazine holds by default. */
    public static final int DEFAULT_CAPACITY = 64;

    private final ThreadLocal<Magazine> magazines;
    private final ReentrantLock depotLock = new ReentrantLock();
    /** Guarded by {@link #depotLock}: a stack of free ids, {@code depot[0 .. depotSize)}. */
    private final int[] depot;
    private int depotSize;
    private final AtomicIntegerArray inUse;
    private final int batch;
    private final int minId;
    private final int maxId;

    /**
     * @param capacity ids a magazine holds, even, in [2, 65536]; a refill or spill moves half of it.
     */
    ThreadLocalMagazineIdAllocator(final int minId, final int maxId, final int capacity)
    {
        final int range = IdRanges.checkRange(minId, maxId);
        if (capacity < 2 || capacity > (1 << 16) || 0 != (capacity & 1))
        {
            throw new IllegalArgumentException("magazine capacity " + capacity + " must be even and in [2, 65536]");
        }
        this.minId = minId;
        this.maxId = maxId;
        this.batch = capacity / 2;
        this.magazines = ThreadLocal.withInitial(() -> new Magazine(capacity));
        this.inUse = new AtomicIntegerArray(range);
        this.depot = new int[range];
        for (int i = 0; i < range; i++)
        {
            // lowest id on top
            depot[i] = maxId - i;
        }
        this.depotSize = range;
    }

    @Override
    public int allocate()
    {
        final Magazine magazine = magazines.get();
        if (0 == magazine.size && 0 == refill(magazine))
        {
            return EXHAUSTED;
        }
        final int id = magazine.ids[--magazine.size];
        // NOTE: release store by the id's exclusive owner; read by the CAS in free.
        inUse.setRelease(id - minId, 1);
        return id;
    }

    @Override
    public void free(final int id)
    {
        IdRanges.checkId(id, minId, maxId);
        if (!inUse.compareAndSet(id - minId, 1, 0))
        {
            throw IdRanges.notInUse(id, minId, maxId);
        }
        final Magazine magazine = magazines.get();
        if (magazine.size == magazine.ids.length)
        {
            spill(magazine);
        }
        magazine.ids[magazine.size++] = id;
    }

    /** Moves up to {@code batch} ids from the depot into an empty magazine; returns how many. */
    private int refill(final Magazine magazine)
    {
        depotLock.lock();
        try
        {
            final int n = Math.min(batch, depotSize);
            depotSize -= n;
            System.arraycopy(depot, depotSize, magazine.ids, 0, n);
            magazine.size = n;
            return n;
        }
        finally
        {
            depotLock.unlock();
        }
    }

    /** Moves the top {@code batch} ids of a full magazine to the depot. */
    private void spill(final Magazine magazine)
    {
        final int from = magazine.size - batch;
        depotLock.lock();
        try
        {
            System.arraycopy(magazine.ids, from, depot, depotSize, batch);
            depotSize += batch;
        }
        finally
        {
            depotLock.unlock();
        }
        magazine.size = from;
    }

    @Override
    public boolean neverStrands()
    {
        return false;
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

    /** One thread's stack of free ids: {@code ids[0 .. size)}, top at {@code size - 1}. Padded on both sides. */
    static final class Magazine extends MagazinePadding2
    {
        Magazine(final int capacity)
        {
            super(capacity);
        }
    }

    /** 128 bytes before the magazine's fields. */
    abstract static class MagazinePadding1
    {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    /** The magazine's hot fields, written on every allocate and free by the owning thread only. */
    abstract static class MagazineFields extends MagazinePadding1
    {
        final int[] ids;
        int size;

        MagazineFields(final int capacity)
        {
            this.ids = new int[capacity];
        }
    }

    /** 128 bytes after the magazine's fields. */
    abstract static class MagazinePadding2 extends MagazineFields
    {
        long p16, p17, p18, p19, p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p30, p31;

        MagazinePadding2(final int capacity)
        {
            super(capacity);
        }
    }
}
