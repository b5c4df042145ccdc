package org.pasidkit.bench.baseline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.pasidkit.allocator.IdAllocator;

/**
 * Baseline {@code sbitmap}: Linux {@code lib/sbitmap.c} in Java. A bitmap whose 64-bit words each sit on their own
 * cache line (as {@code struct sbitmap_word} is {@code ____cacheline_aligned_in_smp}), searched from a per-stripe
 * allocation hint; the hints sit 128 bytes apart. No ids are cached: every allocate and free is a CAS on the bitmap.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method from any thread. "Per CPU" is a stripe chosen by the low bits of the thread id, so
 *       up to {@code stripes} threads with consecutive ids (JMH workers, a thread pool) get a hint each; more threads
 *       share hints. A shared hint is raced with plain stores: a lost or stale hint only moves where a search
 *       starts.</li>
 *   <li>Progress: lock-free: a word CAS fails only when another thread changed that word.</li>
 *   <li>Linearization: allocate and free at their successful word CAS. {@link #EXHAUSTED} when one pass over every
 *       word saw each of them full (exact when no free runs concurrently).</li>
 *   <li>Allocation: none after construction. Memory: 64 bytes per 64 ids (1 MiB for 2^20 ids) + 128 bytes per
 *       stripe.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Hints follow sbitmap's non-round-robin rules: after a get the hint moves to nr + 1 only if nr was the hinted
 *   bit (update_alloc_hint_after_get); a failed search resets it to 0; a put sets the freeing CPU's hint to the freed
 *   bit (sbitmap_update_alloc_hint_after_put), so a CPU reuses what it just freed while it is cache-hot.
 * - The search (__sbitmap_get): the hinted word from the hinted bit, then the following words from bit 0, wrapping,
 *   then the low bits of the hinted word.
 * - Left out: the deferred-clear `cleared` word and the wait queues of sbitmap_queue; neither changes the
 *   allocate/free cost this baseline stands for.
 * - Initial hints are spread evenly over the range (Linux picks them at random).
 */
public final class SbitmapIdAllocator implements IdAllocator
{
    public static final String NAME = "sbitmap";

    /** Longs between two words: 64 bytes, one cache line each. */
    private static final int WORD_STRIDE = 8;
    /** Ints between two hints: 128 bytes, so adjacent-line prefetch does not pair two hints either. */
    private static final int HINT_STRIDE = 32;
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    /** Word {@code w} at index {@code (w + 1) * WORD_STRIDE}: one stride of padding before the first word. */
    private final long[] words;
    /** Stripe {@code s}'s hint, an index {@code id - minId}, at {@code (s + 1) * HINT_STRIDE}. */
    private final int[] hints;
    private final int stripeMask;
    private final int wordCount;
    private final int range;
    private final int minId;
    private final int maxId;

    /**
     * @param stripes number of hints, a power of two in [1, 1024].
     */
    SbitmapIdAllocator(final int minId, final int maxId, final int stripes)
    {
        this.range = IdRanges.checkRange(minId, maxId);
        if (stripes < 1 || stripes > 1024 || 0 != (stripes & (stripes - 1)))
        {
            throw new IllegalArgumentException("stripes " + stripes + " must be a power of two in [1, 1024]");
        }
        this.minId = minId;
        this.maxId = maxId;
        this.wordCount = (range + 63) >>> 6;
        this.words = new long[(wordCount + 2) * WORD_STRIDE];
        this.hints = new int[(stripes + 2) * HINT_STRIDE];
        this.stripeMask = stripes - 1;
        final int tailBits = range & 63;
        if (0 != tailBits)
        {
            words[wordIndex(wordCount - 1)] = -1L << tailBits;
        }
        for (int s = 0; s < stripes; s++)
        {
            hints[(s + 1) * HINT_STRIDE] = (int)((long)range * s / stripes);
        }
    }

    /** Stripes for this machine: available processors rounded up to a power of two. */
    public static int defaultStripes()
    {
        final int cpus = Runtime.getRuntime().availableProcessors();
        return cpus <= 1 ? 1 : Integer.highestOneBit(cpus - 1) << 1;
    }

    @Override
    public int allocate()
    {
        final int hintIndex = hintIndex(Thread.currentThread());
        int hint = hints[hintIndex];
        if (hint >= range)
        {
            hint = 0;
        }
        final int startWord = hint >>> 6;
        int w = startWord;
        long allowed = -1L << (hint & 63);
        for (int n = 0; n <= wordCount; n++)
        {
            final int id = claim(w, allowed);
            if (id >= 0)
            {
                if (id == hint)
                {
                    hints[hintIndex] = id + 1 == range ? 0 : id + 1;
                }
                return minId + id;
            }
            if (0 == n)
            {
                allowed = -1L;
            }
            else if (n == wordCount - 1)
            {
                // the last step revisits the hinted word for the bits below the hint
                allowed = ~(-1L << (hint & 63));
            }
            w = w + 1 == wordCount ? 0 : w + 1;
        }
        hints[hintIndex] = 0;
        return EXHAUSTED;
    }

    /** Claims the lowest clear bit of word {@code w} within {@code allowed}: its index, or -1. */
    private int claim(final int w, final long allowed)
    {
        final int i = wordIndex(w);
        long word = (long)WORDS.getVolatile(words, i);
        long clear = ~word & allowed;
        while (0 != clear)
        {
            final long lowest = clear & -clear;
            if (WORDS.compareAndSet(words, i, word, word | lowest))
            {
                return (w << 6) + Long.numberOfTrailingZeros(lowest);
            }
            Thread.onSpinWait();
            word = (long)WORDS.getVolatile(words, i);
            clear = ~word & allowed;
        }
        return -1;
    }

    @Override
    public void free(final int id)
    {
        IdRanges.checkId(id, minId, maxId);
        final int index = id - minId;
        final int i = wordIndex(index >>> 6);
        final long bit = 1L << (index & 63);
        while (true)
        {
            final long word = (long)WORDS.getVolatile(words, i);
            if (0 == (word & bit))
            {
                throw IdRanges.notInUse(id, minId, maxId);
            }
            if (WORDS.compareAndSet(words, i, word, word & ~bit))
            {
                break;
            }
            Thread.onSpinWait();
        }
        hints[hintIndex(Thread.currentThread())] = index;
    }

    private static int wordIndex(final int w)
    {
        return (w + 1) * WORD_STRIDE;
    }

    private int hintIndex(final Thread thread)
    {
        return (((int)thread.getId() & stripeMask) + 1) * HINT_STRIDE;
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
