package org.pasidkit.allocator;

/**
 * The four ids of a Lincheck specification placed two in each of two bitmap words of a small range
 * ({@link PasidAllocatorDirectLincheckTest}, {@link PasidAllocatorDirectGraceLincheckTest}): the specification's id
 * {@code i} (1..4) is the allocator's {@code real[i]}, and every other id of the range is reserved at construction and
 * never freed, so a "no id" answer depends on two words read one after the other.
 */
final class TwoWordIds
{
    /** Allocator ids of the specification's ids 1..4 (index 0 unused). */
    private final int[] real;

    TwoWordIds(final int id1, final int id2, final int id3, final int id4)
    {
        this.real = new int[] {0, id1, id2, id3, id4};
    }

    int real(final int id)
    {
        return real[id];
    }

    /** The specification's id of an allocator id: 1..4, or 0 for an id outside the four; sentinels unchanged. */
    int logical(final int realId)
    {
        if (realId <= 0)
        {
            return realId;
        }
        for (int i = 1; i < real.length; i++)
        {
            if (real[i] == realId)
            {
                return i;
            }
        }
        return 0;
    }

    /** Reserves every id of {@code [1, max]} but the four; returns {@code allocator}. */
    PasidAllocator reserveOthers(final PasidAllocator allocator, final int max)
    {
        for (int id = 1; id <= max; id++)
        {
            if (0 == logical(id) && !allocator.reserve(id))
            {
                throw new IllegalStateException("could not reserve id " + id + " of a fresh allocator");
            }
        }
        return allocator;
    }
}
