package org.pasidkit.tables.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The record of one simulated ATC (one (device, PASID)) inside a {@code long[]} chunk of many: {@link #WAYS} cached
 * pages, the next way to replace, and the ATC's valid bits gathered in one word, so that an invalidation or a stale
 * check looks only at the ways that hold a page (for most ATCs, none) instead of scanning every way. Static methods
 * over the raw chunk, as {@link DriverDataCells}.
 * <pre>
 *   chunk[base + w]         w in [0, WAYS): cached page + 1, 0 = empty way
 *   chunk[base + NEXT_WAY]  next way to replace (round-robin; written by fill only)
 *   chunk[base + VALID]     bit w set when way w holds a page (fill sets it, invalidate clears it; atomic RMW)
 * </pre>
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: {@link #fill} by the workload thread that owns the ATC's address space (one at a time per ATC);
 *       {@link #invalidate} and {@link #countIn} by the IOMMU's consumer (one at a time). The two normally never
 *       overlap on one ATC (the ring and the sync order them), but may in one benign race: a device translating while
 *       its unbind's invalidate-all runs.</li>
 *   <li>Invariant, even in that race: a way that holds a page has its valid bit set ("entry non-empty =&gt; bit
 *       set"); the converse may fail transiently (a bit set over an emptied way), which only costs a look. So
 *       {@link #invalidate} and {@link #countIn} never miss a cached page (jcstress: {@code AtcWaysTests}).</li>
 *   <li>How: {@link #fill} writes the page, then sets its bit with a release RMW; {@link #invalidate} clears the
 *       bits with an acquire RMW, then empties the ways. Both bit updates are atomic read-modify-writes of the VALID
 *       word, so neither loses the other's bits (a plain read-modify-write there lost the bit of a page filled in
 *       between: the page then escaped every later invalidation and stale check).</li>
 *   <li>Progress: all wait-free (one atomic RMW each, no retry), allocation-free.</li>
 * </ul>
 */
public final class AtcWays
{
    /** Pages an ATC keeps. */
    public static final int WAYS = 8;
    public static final int NEXT_WAY = WAYS;
    public static final int VALID = WAYS + 1;
    /** Longs a record. */
    public static final int STRIDE = WAYS + 2;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private AtcWays()
    {
    }

    /** Workload side: caches {@code page} in the next way (round-robin). */
    public static void fill(final long[] chunk, final int base, final long page)
    {
        final int way = (int)(chunk[base + NEXT_WAY]++ & (WAYS - 1));
        chunk[base + way] = page + 1;
        // NOTE: the page before its bit; release, read by invalidate's getAndBitwiseAndAcquire and by countIn's and
        // invalidate's getAcquire: whoever sees the bit sees the page.
        LONGS.getAndBitwiseOrRelease(chunk, base + VALID, 1L << way);
    }

    /**
     * Consumer side: empties every way whose page lies in the aligned span {@code span} of {@code 2^sizeShift} pages
     * ({@code all}: every way).
     *
     * @return pages removed.
     */
    public static int invalidate(final long[] chunk, final int base, final boolean all, final int sizeShift,
        final long span)
    {
        // NOTE: acquire, pairs with fill's release: the pages of the bits seen are seen.
        long valid = (long)LONGS.getAcquire(chunk, base + VALID);
        if (0 == valid)
        {
            return 0;
        }
        long cleared = 0;
        do
        {
            final int way = Long.numberOfTrailingZeros(valid);
            valid &= valid - 1;
            if (all || ((chunk[base + way] - 1) >>> sizeShift) == span)
            {
                cleared |= 1L << way;
            }
        }
        while (0 != valid);
        if (0 == cleared)
        {
            return 0;
        }
        // NOTE: bits first, pages after, and the bits by an atomic RMW: a fill racing this (the benign unbind race)
        // either lands before (its page is emptied here, its bit cleared) or after (its bit set again), never leaves
        // a page with its bit clear.
        LONGS.getAndBitwiseAndAcquire(chunk, base + VALID, ~cleared);
        long ways = cleared;
        do
        {
            chunk[base + Long.numberOfTrailingZeros(ways)] = 0;
            ways &= ways - 1;
        }
        while (0 != ways);
        return Long.bitCount(cleared);
    }

    /** Consumer side: cached pages in {@code [firstPage, lastPage]} (looks at the valid ways only). */
    public static int countIn(final long[] chunk, final int base, final long firstPage, final long lastPage)
    {
        // NOTE: acquire, pairs with fill's release.
        long valid = (long)LONGS.getAcquire(chunk, base + VALID);
        int n = 0;
        while (0 != valid)
        {
            final long page = chunk[base + Long.numberOfTrailingZeros(valid)] - 1;
            valid &= valid - 1;
            if (page >= firstPage && page <= lastPage)
            {
                n++;
            }
        }
        return n;
    }

    /** Pages cached, counted from the ways themselves (not the valid bits): the check of the bits in tests. */
    public static int cached(final long[] chunk, final int base)
    {
        int n = 0;
        for (int way = base; way < base + WAYS; way++)
        {
            n += 0 != chunk[way] ? 1 : 0;
        }
        return n;
    }

    /** Ways that hold a page while their valid bit is clear: must always be 0 (the invariant above). */
    public static int hiddenPages(final long[] chunk, final int base)
    {
        final long valid = (long)LONGS.getAcquire(chunk, base + VALID);
        int n = 0;
        for (int way = 0; way < WAYS; way++)
        {
            n += 0 != chunk[base + way] && 0 == (valid & (1L << way)) ? 1 : 0;
        }
        return n;
    }
}
