package org.pasidkit.allocator.internal;

import static org.pasidkit.allocator.internal.VersionedIdBitmapDescriptor.CLAIM_MASK;
import static org.pasidkit.allocator.internal.VersionedIdBitmapDescriptor.VERSION_ONE;
import static org.pasidkit.allocator.internal.VersionedIdBitmapDescriptor.VERSION_SHIFT;
import static org.pasidkit.allocator.internal.VersionedIdBitmapDescriptor.WORD_SHIFT;
import static org.pasidkit.allocator.internal.VersionedIdBitmapDescriptor.wordOffset;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Off-heap claim bitmap whose words carry a version, for an allocator without caches (a small range): bit {@code i}
 * of word {@code w} is set while id {@code minId + 32 w + i} is in use, and the bit is the only record of it. An
 * allocation is one CAS, a free is one CAS, and "no id" is two passes of loads, validated without any write (one pass
 * when the caller gives the versions sum of its last "no id" and nothing was freed since).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may call any method.</li>
 *   <li>Progress: lock-free. Every change is a {@code compareAndSetLong} of one word, retried only when another
 *       thread changed that word; a search that cannot validate its "no id" retries only when another thread
 *       released an id of the range meanwhile.</li>
 *   <li>Linearization: {@link #claim}, {@link #tryClaim} and {@link #release} at their successful CAS. {@link #claim}
 *       answering "no id" at an instant between two passes that each found every word of the range full with the same
 *       versions sum: each word had the same version at both reads, so no bit of it was cleared between them (only a
 *       release clears one, and every release steps the version), a word full at the first read stayed full, and at
 *       that instant every id of the range was claimed. The earlier pass may be an earlier call's ({@code fullSum}): its
 *       reads came before this call began, so the instant is this call's first read.</li>
 *   <li>Invariant: claim bits past {@code maxId} in the last word are set at construction and never cleared; every
 *       release (the only CAS that clears a bit) adds one to its word's version; a claim only sets bits.</li>
 *   <li>Assumption: no word is released into 2^32 times between a search's two reads of it (the versions wrap),
 *       nor (with {@code fullSum}) between the earlier search's read and this one's; sums are compared whole, so a
 *       false match needs at least 2^32 releases in the range's words in all. A thread descheduled for the 30 s that
 *       2^32 CASes of one word take here would be needed; the same bound as a 32-bit sequence counter (Linux
 *       {@code seqcount_t}).</li>
 *   <li>Allocation: none after construction.</li>
 * </ul>
 *
 * <p>Layout: see {@link VersionedIdBitmapDescriptor}.</p>
 */
/*
 * Design notes.
 * - Why versions: a search reads the words one after another, not at one instant. A free behind it (in a word it
 *   already read) and a claim ahead of it (of the last free id of a word it reads later) make "every word full" true
 *   of no single instant. The cached allocator validates with move counters that every free to the bitmap writes (a
 *   second line per free, read by every failing search); here the word itself says that it changed, so a free and a
 *   claim each write exactly one line, the word, as in sbitmap, and a failing search writes nothing.
 * - The passes compare the sum of the versions: each version only grows (modulo 2^32) by one per release, so the
 *   sums are equal only if no word was released into (under the wrap assumption above).
 * - Only releases step the version: a claim can only make a full word fuller, so it cannot make "every word full" false
 *   and need not invalidate a pass. Two threads churning an exhausted range then validate a "no id" with a pass less
 *   whenever the other thread's last change was a claim; it also keeps the claim a plain bit set, as in sbitmap (the
 *   exhaustion churn, RESULTS.md 2026-12-05 night). A word's value never recurs between a thread's read and its CAS:
 *   claims only set bits, and clearing one steps the version.
 * - 32 ids a word instead of 64: the price of the version. 256 ids a cache line; the 512-id range of the exhaustion
 *   churn is two lines.
 */
public final class VersionedIdBitmap
{
    /** {@link #claim(int, int, int, long)}'s "no versions sum known". */
    public static final long NO_SUM = -1;

    private final UnsafeBuffer words;
    private final int minId;
    private final int maxId;
    private final int wordCount;

    /**
     * Allocates the bitmap (native memory: 8 bytes per 32 ids, rounded up to a cache line).
     *
     * @throws IllegalArgumentException unless {@code 1 <= maxId - minId + 1 <= 2^31 - 1}.
     */
    public VersionedIdBitmap(final int minId, final int maxId)
    {
        final long ids = (long)maxId - minId + 1;
        IdBitmapDescriptor.checkRange(ids); // NOTE: the same rule as the cached bitmap's
        this.minId = minId;
        this.maxId = maxId;
        this.wordCount = VersionedIdBitmapDescriptor.wordCount(ids);
        this.words = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            VersionedIdBitmapDescriptor.lengthBytes(ids), VersionedIdBitmapDescriptor.ALIGNMENT));
        final int tailBits = (int)(ids & (VersionedIdBitmapDescriptor.IDS_PER_WORD - 1));
        if (0 != tailBits)
        {
            words.putLongRelease(wordOffset(wordCount - 1), (CLAIM_MASK << tailBits) & CLAIM_MASK);
        }
    }

    public int wordCount()
    {
        return wordCount;
    }

    /** Word index that holds {@code id}. */
    public int wordOf(final int id)
    {
        return (int)(((long)id - minId) >>> WORD_SHIFT);
    }

    /**
     * Claims one free id of {@code [lo, hi]}, searching the words cyclically from {@code startWord}.
     *
     * @return the id, now claimed; or 0 if every id of {@code [lo, hi]} was claimed at one instant during the call.
     */
    public int claim(final int lo, final int hi, final int startWord)
    {
        final long answer = claim(lo, hi, startWord, NO_SUM);
        return answer > 0 ? (int)answer : 0;
    }

    /**
     * {@link #claim(int, int, int)}, given the versions sum of an earlier search of the same {@code [lo, hi]} that
     * found every word full ({@code fullSum}, or {@link #NO_SUM}): a search whose first pass finds every word full with
     * that same sum answers "no id" after that one pass (nothing was released into the range since the earlier search
     * read it).
     *
     * @return the id ({@code > 0}), now claimed; or {@code -1 - sum} if every id of {@code [lo, hi]} was claimed at
     *     one instant during the call, {@code sum} ({@code >= 0}) being the versions sum to pass as {@code fullSum}
     *     next time.
     */
    public long claim(final int lo, final int hi, final int startWord, final long fullSum)
    {
        final int first = wordOf(lo);
        final int last = wordOf(hi);
        final int start = startWord < first || startWord > last ? first : startWord;
        // NOTE: the words are read by native address, the buffer's address in a local: a volatile load through the
        // buffer is a compiler barrier after which C2 reloads the buffer's fields, at every word.
        final long address = words.addressOffset();
        final long at = address + wordOffset(start);
        final long word = UnsafeApi.getLongVolatile(null, at);
        final long clear = ~word & rangeMask(start, lo, hi);
        // NOTE: the start word (the hint: where this thread last freed or claimed) first, in a method small enough to
        // inline into the allocator: on an exhausted range the id a thread just freed is the one it takes next, in the
        // word its free moved the hint to. The search (a call) only when that word has no free id of [lo, hi] or its
        // CAS lost.
        if (0 != clear)
        {
            final long bit = clear & -clear;
            if (UnsafeApi.compareAndSetLong(null, at, word, word | bit))
            {
                return minId + (start << WORD_SHIFT) + Long.numberOfTrailingZeros(bit);
            }
        }
        return search(lo, hi, first, last, start, 0 == clear ? fullSum : NO_SUM);
    }

    /**
     * The search of {@link #claim(int, int, int, long)} after its start word: {@code fullSum} is {@link #NO_SUM} unless
     * the start word had no free id of the range (then a tight pass of loads may answer "no id" at once).
     */
    private long search(final int lo, final int hi, final int first, final int last, final int start,
        final long fullSum)
    {
        final long address = words.addressOffset();
        long previous = fullSum;
        int from = start;
        if (NO_SUM != fullSum)
        {
            // NOTE: a range that stays full (a repeated "no id"): one tight pass of loads, compares and adds. Every
            // word of [first, last] with all its claim bits set holds no free id of [lo, hi]; a sum that is not
            // fullSum is a full pass that a second tight pass, at once (no pause: a pause cost more than a pass), or the
            // loop below can pair with (the same argument as the loop's). If a pass meets a word with a clear bit, the
            // loop starts there. Only when the start word was full: a pass from the range's first word read every full
            // word before the one a thread had just freed into, and that allocation cost twice sbitmap's in the
            // exhaustion churn (RESULTS.md, 2026-12-05 afternoon).
            for (int pass = 0; pass < 2; pass++)
            {
                final long sum = fullWordsSum(address, first, last);
                if (sum == previous)
                {
                    return -1 - sum;
                }
                if (sum < 0)
                {
                    from = (int)(-2 - sum);
                    break;
                }
                previous = sum;
            }
        }
        // NOTE: only the range's first and last words can hold ids outside it (and the padding past maxId is always
        // claimed): every other word's mask is CLAIM_MASK, so a pass does no range arithmetic per word.
        final long firstMask = rangeMask(first, lo, hi);
        final long lastMask = rangeMask(last, lo, hi);
        while (true)
        {
            long versions = 0;
            int w = from;
            for (int n = last - first; n >= 0; n--)
            {
                final long at = address + wordOffset(w);
                final long allowed = w == first ? firstMask : w == last ? lastMask : CLAIM_MASK;
                long word = UnsafeApi.getLongVolatile(null, at);
                long clear;
                while (0 != (clear = ~word & allowed))
                {
                    final long bit = clear & -clear;
                    if (UnsafeApi.compareAndSetLong(null, at, word, word | bit))
                    {
                        return minId + (w << WORD_SHIFT) + Long.numberOfTrailingZeros(bit);
                    }
                    Thread.onSpinWait();
                    word = UnsafeApi.getLongVolatile(null, at);
                }
                versions += word >>> VERSION_SHIFT;
                w = w == last ? first : w + 1;
            }
            // NOTE: a pass that found every word full with the sum of the last such pass (of this call, or of the
            // earlier search that gave fullSum) validates "no id": equal sums mean no word of the range was freed into
            // between its two reads, so the instant between them saw all of them full (the class's linearization
            // argument). A pass that disagrees is the first of the next pair: it claims what it finds free, so a free
            // behind the search costs one pass, not two.
            if (versions == previous)
            {
                return -1 - versions;
            }
            previous = versions;
            Thread.onSpinWait();
        }
    }

    /**
     * The versions sum of words {@code [first, last]} if every one has all its claim bits set; else {@code -2 - w} for
     * the first word {@code w} that has a claim bit clear.
     */
    private static long fullWordsSum(final long address, final int first, final int last)
    {
        long versions = 0;
        for (int w = first; w <= last; w++)
        {
            final long word = UnsafeApi.getLongVolatile(null, address + wordOffset(w));
            if (CLAIM_MASK != (word & CLAIM_MASK))
            {
                return -2 - w;
            }
            versions += word >>> VERSION_SHIFT;
        }
        return versions;
    }

    /** Claims exactly {@code id}; false if it was already claimed. */
    public boolean tryClaim(final int id)
    {
        return flip(id, false);
    }

    /** Clears the bit of {@code id}; false (nothing changed) if it was clear: the id was not in use. */
    public boolean release(final int id)
    {
        return flip(id, true);
    }

    /**
     * Flips the bit of {@code id} from {@code claimed} to its opposite with one CAS of its word (a release also steps
     * the version); false, with nothing changed, if the bit was not {@code claimed}.
     */
    private boolean flip(final int id, final boolean claimed)
    {
        final long at = words.addressOffset() + wordOffset(wordOf(id)); // NOTE: by address, as in claim
        final long bit = bitOf(id);
        while (true)
        {
            final long word = UnsafeApi.getLongVolatile(null, at);
            if (claimed != (0 != (word & bit)))
            {
                return false;
            }
            final long next = claimed ? (word ^ bit) + VERSION_ONE : word | bit;
            if (UnsafeApi.compareAndSetLong(null, at, word, next))
            {
                return true;
            }
            Thread.onSpinWait();
        }
    }

    /** Whether {@code id} is claimed (volatile read). */
    public boolean isClaimed(final int id)
    {
        return 0 != (words.getLongVolatile(wordOffset(wordOf(id))) & bitOf(id));
    }

    /** Claimed ids in range (one pass of loads, not a snapshot while others change it; for counts and tests). */
    public long claimedCount()
    {
        long n = 0;
        for (int w = 0; w < wordCount; w++)
        {
            n += Long.bitCount(words.getLongVolatile(wordOffset(w)) & CLAIM_MASK);
        }
        return n - ((long)wordCount * VersionedIdBitmapDescriptor.IDS_PER_WORD - ((long)maxId - minId + 1));
    }

    /** Native bytes held. */
    public long nativeBytes()
    {
        return words.capacity();
    }

    /** The claim bits of word {@code wordIndex} that hold ids inside {@code [lo, hi]}. */
    private long rangeMask(final int wordIndex, final int lo, final int hi)
    {
        final long wordBase = (long)minId + ((long)wordIndex << WORD_SHIFT);
        long mask = CLAIM_MASK;
        if (lo > wordBase)
        {
            mask &= CLAIM_MASK << (lo - wordBase);
        }
        final long top = wordBase + VersionedIdBitmapDescriptor.IDS_PER_WORD - 1;
        if (hi < top)
        {
            mask &= CLAIM_MASK >>> (top - hi);
        }
        return mask;
    }

    private long bitOf(final int id)
    {
        return 1L << ((id - minId) & (VersionedIdBitmapDescriptor.IDS_PER_WORD - 1));
    }
}
