package org.pasidkit.stress.broken;

import org.pasidkit.tables.internal.AtcWays;

/**
 * Copy of {@code org.pasidkit.tables.internal.AtcWays} (same layout, fill and invalidate) with one step removed: the
 * valid bits are updated with plain read-modify-writes instead of atomic ones, and invalidate writes back the bits it
 * read before its scan. A fill between the two loses its bit: its page stays cached, invisible to every later
 * invalidation and stale check. Used by {@link BrokenAtcWaysTests}; the checks ({@code hiddenPages}, {@code cached})
 * are the production ones.
 */
public final class BrokenAtcWays
{
    private BrokenAtcWays()
    {
    }

    public static void fill(final long[] chunk, final int base, final long page)
    {
        final int way = (int)(chunk[base + AtcWays.NEXT_WAY]++ & (AtcWays.WAYS - 1));
        chunk[base + way] = page + 1;
        // BUG: plain read-modify-write of the valid bits.
        chunk[base + AtcWays.VALID] |= 1L << way;
    }

    public static int invalidate(final long[] chunk, final int base, final boolean all, final int sizeShift,
        final long span)
    {
        final long seen = chunk[base + AtcWays.VALID];
        long valid = seen;
        long cleared = 0;
        while (0 != valid)
        {
            final int way = Long.numberOfTrailingZeros(valid);
            valid &= valid - 1;
            if (all || ((chunk[base + way] - 1) >>> sizeShift) == span)
            {
                cleared |= 1L << way;
                chunk[base + way] = 0;
            }
        }
        // BUG: writes back the bits read before the scan (a bit set by a fill since then is lost).
        chunk[base + AtcWays.VALID] = seen & ~cleared;
        return Long.bitCount(cleared);
    }
}
