package org.pasidkit.bench.baseline;

/**
 * Range checks and exception messages shared by the baselines, so that every baseline rejects bad input with the same
 * words pasidkit uses: the value, and the range or the rule it broke.
 */
final class IdRanges
{
    /** Most ids a baseline manages: the boxed free lists hold one {@code Integer} per id. */
    static final int MAX_RANGE = 1 << 24;

    private IdRanges()
    {
    }

    /**
     * Checks a constructor's range and returns its size.
     *
     * @throws IllegalArgumentException unless {@code 1 <= minId <= maxId} and the range holds at most
     *     {@link #MAX_RANGE} ids.
     */
    static int checkRange(final int minId, final int maxId)
    {
        if (minId < 1 || minId > maxId || (long)maxId - minId + 1 > MAX_RANGE)
        {
            throw new IllegalArgumentException("range [" + minId + ", " + maxId + "] must satisfy 1 <= min <= max " +
                "and hold at most " + MAX_RANGE + " ids (0 is never a PASID)");
        }
        return maxId - minId + 1;
    }

    /** Throws unless {@code minId <= id <= maxId}. */
    static void checkId(final int id, final int minId, final int maxId)
    {
        if (id < minId || id > maxId)
        {
            throw new IllegalArgumentException("id " + id + " is outside the allocator's range [" + minId + ", " +
                maxId + "]");
        }
    }

    /** Throws unless {@code minId <= lo <= hi <= maxId}: a sub-range allocation's bounds. */
    static void checkSubRange(final int lo, final int hi, final int minId, final int maxId)
    {
        if (lo < minId || lo > hi || hi > maxId)
        {
            throw new IllegalArgumentException("sub-range [" + lo + ", " + hi + "] must be non-empty and inside the " +
                "allocator's range [" + minId + ", " + maxId + "]");
        }
    }

    /** The exception for a free of an id in range that is not in use. */
    static IllegalArgumentException notInUse(final int id, final int minId, final int maxId)
    {
        return new IllegalArgumentException("id " + id + " of [" + minId + ", " + maxId + "] is not in use: a double " +
            "free, or it was never allocated; nothing was changed");
    }
}
