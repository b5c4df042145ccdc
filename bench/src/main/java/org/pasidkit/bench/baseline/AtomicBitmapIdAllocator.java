package org.pasidkit.bench.baseline;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Baseline {@code atomic-bitmap}: the naive lock-free bitmap. An {@link AtomicLongArray} with one bit per id (set =
 * in use), claimed by CAS, and one cursor (a word index) shared by every thread: all threads start their search at
 * the same word, so they fight over it.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method from any thread.</li>
 *   <li>Progress: lock-free: a CAS on a word fails only when another thread changed that word.</li>
 *   <li>Invariant: bits past {@code maxId} in the last word are set at construction and never cleared.</li>
 *   <li>Linearization: allocate and free at their successful word CAS. {@link #EXHAUSTED} when one pass over every
 *       word saw each of them full (exact when no free runs concurrently).</li>
 *   <li>Allocation: none after construction. Memory: {@code range / 8} bytes.</li>
 * </ul>
 */
/*
 * Design notes.
 * - The cursor is written only when the search moved past it, not on every allocation: a store per allocation
 *   would add a second contended line without making the baseline more "naive" in any interesting way. It still
 *   leads every thread to the same word.
 * - free does not move the cursor back: a freed id is found again when the cursor wraps, or at once if it lies in
 *   the cursor's word.
 */
public final class AtomicBitmapIdAllocator implements SubRangeIdAllocator
{
    public static final String NAME = "atomic-bitmap";

    private final AtomicLongArray words;
    private final AtomicInteger cursor = new AtomicInteger();
    private final int wordCount;
    private final int minId;
    private final int maxId;

    AtomicBitmapIdAllocator(final int minId, final int maxId)
    {
        final int range = IdRanges.checkRange(minId, maxId);
        this.minId = minId;
        this.maxId = maxId;
        this.wordCount = (range + 63) >>> 6;
        this.words = new AtomicLongArray(wordCount);
        final int tailBits = range & 63;
        if (0 != tailBits)
        {
            words.set(wordCount - 1, -1L << tailBits);
        }
    }

    @Override
    public int allocate()
    {
        final int start = cursor.get();
        int w = start;
        for (int n = 0; n < wordCount; n++)
        {
            long word = words.get(w);
            while (-1L != word)
            {
                final long lowestClear = ~word & (word + 1);
                if (words.compareAndSet(w, word, word | lowestClear))
                {
                    if (w != start)
                    {
                        cursor.set(w);
                    }
                    return minId + (w << 6) + Long.numberOfTrailingZeros(lowestClear);
                }
                Thread.onSpinWait();
                word = words.get(w);
            }
            w = w + 1 == wordCount ? 0 : w + 1;
        }
        return EXHAUSTED;
    }

    /**
     * The lowest free id of {@code [lo, hi]} (as {@code ida_alloc_range} picks it), lock-free: the words covering the
     * sub-range from its first, masked at both ends, each claimed by CAS. The shared cursor is the whole range's and is
     * left alone. {@link #EXHAUSTED} when one pass saw every word of the sub-range full.
     */
    @Override
    public int allocate(final int lo, final int hi)
    {
        IdRanges.checkSubRange(lo, hi, minId, maxId);
        final int first = lo - minId;
        final int last = hi - minId;
        final int lastWord = last >>> 6;
        for (int w = first >>> 6; w <= lastWord; w++)
        {
            long allowed = -1L;
            if (w == first >>> 6)
            {
                allowed &= -1L << (first & 63);
            }
            if (w == lastWord)
            {
                allowed &= -1L >>> (63 - (last & 63));
            }
            long word = words.get(w);
            long clear = ~word & allowed;
            while (0 != clear)
            {
                final long lowest = clear & -clear;
                if (words.compareAndSet(w, word, word | lowest))
                {
                    return minId + (w << 6) + Long.numberOfTrailingZeros(lowest);
                }
                Thread.onSpinWait();
                word = words.get(w);
                clear = ~word & allowed;
            }
        }
        return EXHAUSTED;
    }

    @Override
    public void free(final int id)
    {
        IdRanges.checkId(id, minId, maxId);
        final int index = id - minId;
        final int w = index >>> 6;
        final long bit = 1L << (index & 63);
        while (true)
        {
            final long word = words.get(w);
            if (0 == (word & bit))
            {
                throw IdRanges.notInUse(id, minId, maxId);
            }
            if (words.compareAndSet(w, word, word & ~bit))
            {
                return;
            }
            Thread.onSpinWait();
        }
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
