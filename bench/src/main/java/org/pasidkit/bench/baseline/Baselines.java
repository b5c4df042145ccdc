package org.pasidkit.bench.baseline;

import java.util.List;

import org.pasidkit.allocator.IdAllocator;

/**
 * Creates the baselines by the names they carry in benchmark results.
 */
public final class Baselines
{
    /** Every baseline name, in the order of the design document. */
    public static final List<String> NAMES = List.of(
        LockedBitSetIdAllocator.NAME,
        MpmcQueueIdAllocator.NAME,
        ConcurrentLinkedQueueIdAllocator.NAME,
        AtomicBitmapIdAllocator.NAME,
        SbitmapIdAllocator.NAME,
        ThreadLocalMagazineIdAllocator.NAME);

    private Baselines()
    {
    }

    /**
     * A new baseline over {@code [minId, maxId]}, with its default tuning.
     *
     * @param name one of {@link #NAMES}.
     * @throws IllegalArgumentException if the name is unknown or the range is bad.
     */
    public static IdAllocator create(final String name, final int minId, final int maxId)
    {
        switch (name)
        {
            case LockedBitSetIdAllocator.NAME:
                return new LockedBitSetIdAllocator(minId, maxId);
            case MpmcQueueIdAllocator.NAME:
                return new MpmcQueueIdAllocator(minId, maxId);
            case ConcurrentLinkedQueueIdAllocator.NAME:
                return new ConcurrentLinkedQueueIdAllocator(minId, maxId);
            case AtomicBitmapIdAllocator.NAME:
                return new AtomicBitmapIdAllocator(minId, maxId);
            case SbitmapIdAllocator.NAME:
                return new SbitmapIdAllocator(minId, maxId, SbitmapIdAllocator.defaultStripes());
            case ThreadLocalMagazineIdAllocator.NAME:
                return new ThreadLocalMagazineIdAllocator(minId, maxId, ThreadLocalMagazineIdAllocator.DEFAULT_CAPACITY);
            default:
                throw new IllegalArgumentException("unknown baseline '" + name + "'; one of " + NAMES);
        }
    }
}
