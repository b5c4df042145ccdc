package org.pasidkit.allocator.internal;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Off-heap claim bitmap: bit {@code i} is set while id {@code minId + i} is not free in the bitmap (it is cached,
 * in use or waiting out its grace period).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may call any method.</li>
 *   <li>Progress: lock-free. Every mutation is a {@code compareAndSetLong} on one 64-bit word that is retried only
 *       when another thread changed that word, so some thread always makes progress.</li>
 *   <li>Invariant: bits past {@code maxId} in the last word are set at construction and never cleared, so a search
 *       never finds them.</li>
 *   <li>Linearization: a claim takes effect at its successful {@code compareAndSetLong}; a clear likewise.</li>
 * </ul>
 *
 * <p>Layout: see {@link IdBitmapDescriptor}.</p>
 */
public final class IdBitmap
{
    private final UnsafeBuffer words;
    private final int minId;
    private final int maxId;
    private final int wordCount;

    /**
     * Allocates the bitmap (this allocates native memory, {@code ceil(range / 64) * 8} bytes).
     *
     * @param minId lowest id, inclusive.
     * @param maxId highest id, inclusive.
     */
    public IdBitmap(final int minId, final int maxId)
    {
        final long bits = (long)maxId - minId + 1;
        IdBitmapDescriptor.checkRange(bits);
        this.minId = minId;
        this.maxId = maxId;
        this.wordCount = IdBitmapDescriptor.wordCount(bits);
        this.words = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            IdBitmapDescriptor.lengthBytes(bits), IdBitmapDescriptor.ALIGNMENT));
        final int tailBits = (int)(bits & 63);
        if (tailBits != 0)
        {
            words.putLongRelease(IdBitmapDescriptor.wordOffset(wordCount - 1), -1L << tailBits);
        }
    }

    public int wordCount()
    {
        return wordCount;
    }

    public int minId()
    {
        return minId;
    }

    public int maxId()
    {
        return maxId;
    }

    /** Word index that holds {@code id}. */
    public int wordOf(final int id)
    {
        return (int)(((long)id - minId) >>> 6);
    }

    /** Current value of one word, read with volatile semantics. */
    public long word(final int wordIndex)
    {
        return words.getLongVolatile(IdBitmapDescriptor.wordOffset(wordIndex));
    }

    /**
     * Claims up to {@code max} clear bits of one word, within {@code allowedMask}, with one successful CAS.
     *
     * @param wordIndex   word to claim from.
     * @param allowedMask bits of that word that may be claimed.
     * @param max         most ids to claim, 1..64.
     * @param out         receives the claimed ids in ascending order, from index 0.
     * @return how many ids were claimed, 0 if the word has no clear bit in {@code allowedMask}.
     */
    public int claimBatch(final int wordIndex, final long allowedMask, final int max, final int[] out)
    {
        final int offset = IdBitmapDescriptor.wordOffset(wordIndex);
        while (true)
        {
            final long word = words.getLongVolatile(offset);
            long clear = ~word & allowedMask;
            if (0 == clear)
            {
                return 0;
            }
            long take = 0;
            int count = 0;
            while (0 != clear && count < max)
            {
                final long lowest = clear & -clear;
                take |= lowest;
                clear ^= lowest;
                count++;
            }
            if (words.compareAndSetLong(offset, word, word | take))
            {
                final int base = minId + (wordIndex << 6);
                int n = 0;
                while (0 != take)
                {
                    out[n++] = base + Long.numberOfTrailingZeros(take);
                    take &= take - 1;
                }
                return n;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Claims one clear bit of one word within {@code allowedMask}.
     *
     * @return the claimed id, or -1 if the word has no clear bit in the mask.
     */
    public int claimOne(final int wordIndex, final long allowedMask)
    {
        final int offset = IdBitmapDescriptor.wordOffset(wordIndex);
        while (true)
        {
            final long word = words.getLongVolatile(offset);
            final long clear = ~word & allowedMask;
            if (0 == clear)
            {
                return -1;
            }
            final long lowest = clear & -clear;
            if (words.compareAndSetLong(offset, word, word | lowest))
            {
                return minId + (wordIndex << 6) + Long.numberOfTrailingZeros(lowest);
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Searches words cyclically from {@code startWord} for a clear bit inside {@code [lo, hi]} and claims it.
     *
     * @return the claimed id, or -1 if every id of {@code [lo, hi]} was seen claimed.
     */
    public int claimInRange(final int lo, final int hi, final int startWord)
    {
        final int firstWord = wordOf(lo);
        final int lastWord = wordOf(hi);
        final int span = lastWord - firstWord + 1;
        int w = startWord < firstWord || startWord > lastWord ? firstWord : startWord;
        for (int i = 0; i < span; i++)
        {
            final long word = words.getLongVolatile(IdBitmapDescriptor.wordOffset(w));
            if (-1L != word)
            {
                final int id = claimOne(w, rangeMask(w, lo, hi));
                if (id >= 0)
                {
                    return id;
                }
            }
            w = w == lastWord ? firstWord : w + 1;
        }
        return -1;
    }

    /**
     * Read-only search: the first word, cyclically from {@code startWord}, with a clear bit inside {@code [lo, hi]}
     * (volatile loads, no write).
     *
     * @return its index, or -1 if every bit of the range was set when its word was read.
     */
    public int findClearWord(final int lo, final int hi, final int startWord)
    {
        final int firstWord = wordOf(lo);
        final int lastWord = wordOf(hi);
        final int span = lastWord - firstWord + 1;
        int w = startWord < firstWord || startWord > lastWord ? firstWord : startWord;
        for (int i = 0; i < span; i++)
        {
            final long word = words.getLongVolatile(IdBitmapDescriptor.wordOffset(w));
            if (-1L != word && 0 != (~word & rangeMask(w, lo, hi)))
            {
                return w;
            }
            w = w == lastWord ? firstWord : w + 1;
        }
        return -1;
    }

    /** The bits of word {@code wordIndex} that hold ids inside {@code [lo, hi]}. */
    public long rangeMask(final int wordIndex, final int lo, final int hi)
    {
        final long wordBase = (long)minId + ((long)wordIndex << 6);
        long mask = -1L;
        if (lo > wordBase)
        {
            mask &= -1L << (lo - wordBase);
        }
        final long top = wordBase + 63;
        if (hi < top)
        {
            mask &= -1L >>> (top - hi);
        }
        return mask;
    }

    /** Claims exactly {@code id}; false if its bit was already set. */
    public boolean tryClaim(final int id)
    {
        final int offset = IdBitmapDescriptor.wordOffset(wordOf(id));
        final long bit = 1L << ((id - minId) & 63);
        while (true)
        {
            final long word = words.getLongVolatile(offset);
            if (0 != (word & bit))
            {
                return false;
            }
            if (words.compareAndSetLong(offset, word, word | bit))
            {
                return true;
            }
            Thread.onSpinWait();
        }
    }

    /** Whether the bit of {@code id} is set (volatile read). */
    public boolean isClaimed(final int id)
    {
        return 0 != (word(wordOf(id)) & (1L << ((id - minId) & 63)));
    }

    /**
     * Clears the bit of {@code id}, which the caller owns (it must be set).
     *
     * @throws IllegalStateException if the bit was clear: the caller's ownership was broken, a bug.
     */
    public void clear(final int id)
    {
        final int offset = IdBitmapDescriptor.wordOffset(wordOf(id));
        final long bit = 1L << ((id - minId) & 63);
        while (true)
        {
            final long word = words.getLongVolatile(offset);
            if (0 == (word & bit))
            {
                throw new IllegalStateException("bitmap bit of id " + id + " already clear");
            }
            if (words.compareAndSetLong(offset, word, word & ~bit))
            {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /** Number of set bits in range (a full scan of the words, allocation-free; for counts and tests). */
    public long claimedCount()
    {
        long n = 0;
        for (int w = 0; w < wordCount; w++)
        {
            n += Long.bitCount(word(w));
        }
        final long bits = (long)maxId - minId + 1;
        return n - ((long)wordCount * 64 - bits);
    }

    /** Native bytes held. */
    public long nativeBytes()
    {
        return words.capacity();
    }
}
