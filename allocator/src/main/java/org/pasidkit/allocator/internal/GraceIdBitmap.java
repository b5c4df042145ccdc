package org.pasidkit.allocator.internal;

import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.HELD;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.IDS_PER_WORD;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.IN_USE;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.RETIRED;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.VERSION_ONE;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.VERSION_SHIFT;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.WORD_SHIFT;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.freePairs;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.heldPairs;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.inUsePairs;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.retiredPairs;
import static org.pasidkit.allocator.internal.GraceIdBitmapDescriptor.wordOffset;

import java.util.concurrent.atomic.AtomicIntegerArray;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.pasidkit.allocator.EpochDomain;

/**
 * Off-heap state bitmap of an allocator without caches that has a grace period (a small range): every id's state,
 * FREE, IN_USE, HELD or RETIRED, is two bits of a versioned word, and those bits are the only record of it. An
 * allocation is one CAS (FREE to IN_USE), a free is one CAS (IN_USE to RETIRED), "no id" is one or two passes of
 * loads, and retired ids go back to FREE in a sweep: one CAS per word, once their grace period has passed.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may call any method. One sweep runs at a time: {@link #sweep} is a try-lock whose
 *       loser returns {@link #SWEEP_BUSY} at once.</li>
 *   <li>Progress: {@link #claim}, {@link #tryClaim}, {@link #retire}, {@link #retireHeld} and {@link #release} are
 *       lock-free: every change is a {@code compareAndSetLong} of one word, retried only when another thread changed
 *       that word (a {@link #retireHeld} racing another retire of the same id spins until that one settles).
 *       {@link #sweep} never waits for another thread; a sweeper preempted inside its sweep holds back every other
 *       sweep (they return {@link #SWEEP_BUSY}) until it runs again, as the cached allocator's reclaim pass does:
 *       reclamation is delayed, nothing is lost, and allocations still answer.</li>
 *   <li>Linearization: every transition at its successful CAS. {@link #claim} answering "none free, some retired or
 *       held" at its second load of the sweep generation, when that equals its first and is even (only a sweep makes
 *       an id FREE, so the pass's words gained no free id up to then, and their RETIRED and HELD ids are still not
 *       free); otherwise, and always for "none free, none retired or held", at an instant between two passes that found
 *       every word of the range with the same versions sum (no word changed between its two reads); for a whole-range
 *       search the earlier pass may be that of an earlier search that answered "none free, none retired or held", so
 *       a range that stays full costs one pass.</li>
 *   <li>Grace exact, never early: a RETIRED id is freed only by a sweep, and only once the epoch is two ahead of its
 *       stamp; the stamp is the epoch read after the first sweep that saw the id RETIRED, so it is at least the epoch
 *       of the retire (the retire's CAS happened before that sweep's load of the word). Only sweeps write stamps and
 *       free RETIRED ids, and only one runs at a time, so a stamp is always of the id's current retirement.</li>
 *   <li>Invariant: ids past {@code maxId} in the last word are IN_USE at construction and never change; every CAS that
 *       changes a word adds one to its version.</li>
 *   <li>Assumption: no word changes 2^32 times between a search's two reads of it (as {@link VersionedIdBitmap}).</li>
 *   <li>Allocation: none after construction.</li>
 * </ul>
 *
 * <p>Layout: see {@link GraceIdBitmapDescriptor}.</p>
 */
/*
 * Design notes.
 * - Why the sweep stamps and the free does not: a free that wrote an epoch stamp before its CAS could have it
 *   overwritten by a racing double free that read an older epoch (its CAS then fails, its stamp stays): one epoch
 *   early. Stamped by the single sweeper after it saw the id RETIRED, a stamp is never early and a free writes one
 *   line, its word. The price: an id waits for the sweep that first sees it, then two advances; a reclaim that finds
 *   nothing eligible sweeps, advances (twice if the readers allow) and sweeps again (only the words it stamped ids in),
 *   so with no reader holding the epoch back one call reclaims every id retired before it.
 * - Holders (HELD): the count is set by a CAS from 0 before the IN_USE -> HELD CAS, so two racing retires of one id
 *   cannot both write it; the release that takes it to 0 moves the id HELD -> RETIRED (nobody else can: the id is
 *   HELD with no holder left only between those two steps).
 * - 16 ids a word: two bits each plus the version. 128 ids a cache line; the 512-id exhaustion churn range is four.
 * - The sweep line (generation, try-lock, sweep count, full sum) is its own cache line in the buffer: written by
 *   sweeps, and by a "none free" search only when the full sum changes, so a failing search's load of the generation
 *   hits a line that stays shared between sweeps.
 */
public final class GraceIdBitmap
{
    /** {@link #claim}: no id free, none retired or held. */
    public static final int NONE_FREE = 0;
    /** The full sum's "no search answered NONE_FREE yet". */
    private static final long NO_SUM = -1;
    /** {@link #claim}: no id free, some held (none retired). */
    public static final int NONE_FREE_SOME_HELD = -1;
    /**
     * {@link #claim}: no id free, some retired (a sweep may free them once their grace passed); the answer is this or
     * below: {@code -1 - retired}, the number retired at that instant ({@link #retiredIn}).
     */
    public static final int NONE_FREE_SOME_RETIRED = -2;
    /** {@link #sweep}: another thread is sweeping. */
    public static final int SWEEP_BUSY = -1;

    private final UnsafeBuffer words;
    private final int minId;
    private final int maxId;
    private final int wordCount;
    private final AtomicIntegerArray holders;
    /** Sweeper only: per word, the RETIRED ids a sweep has stamped (low bits of their pairs). */
    private final long[] seenPairs;
    /** Sweeper only (read by {@link #oldestSeenNs} as a diagnostic): per id, the epoch its stamping sweep read. */
    private final int[] stamps;
    /** Sweeper only (read by {@link #oldestSeenNs}): per id, the time of its stamping sweep. */
    private final long[] seenNs;
    /** Offset of the sweep generation in {@link #words}: even between sweeps that free ids, odd during one. */
    private final int generationOffset;
    /** Offset of the sweep try-lock: CAS 0 to 1 to enter, release store of 0 to leave (pairs with the entering CAS). */
    private final int sweepingOffset;
    /** Offset of the count of sweeps done: written by the sweeper (opaque), read with an opaque load. */
    private final int sweepsOffset;
    /**
     * Offset of the versions sum of the last whole-range search that answered {@link #NONE_FREE} (opaque accesses,
     * raced by searches: any value stored is a sum its search validated).
     */
    private final int fullSumOffset;

    /**
     * Allocates the bitmap (native memory: 8 bytes per 16 ids, rounded up to a cache line) and the sweeper's stamps
     * (heap: 16 bytes an id).
     *
     * @throws IllegalArgumentException unless {@code 1 <= maxId - minId + 1 <= 2^31 - 1}.
     */
    public GraceIdBitmap(final int minId, final int maxId)
    {
        final long ids = (long)maxId - minId + 1;
        IdBitmapDescriptor.checkRange(ids); // NOTE: the same rule as the cached bitmap's
        this.minId = minId;
        this.maxId = maxId;
        this.wordCount = GraceIdBitmapDescriptor.wordCount(ids);
        this.words = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            GraceIdBitmapDescriptor.lengthBytes(ids), GraceIdBitmapDescriptor.ALIGNMENT));
        final int tailIds = (int)(ids & (IDS_PER_WORD - 1));
        if (0 != tailIds)
        {
            words.putLongRelease(wordOffset(wordCount - 1), (GraceIdBitmapDescriptor.LOW_BITS << (2 * tailIds)) &
                GraceIdBitmapDescriptor.LOW_BITS);
        }
        final int sweepLine = GraceIdBitmapDescriptor.sweepLineOffset(ids);
        this.generationOffset = sweepLine + GraceIdBitmapDescriptor.GENERATION_OFFSET;
        this.sweepingOffset = sweepLine + GraceIdBitmapDescriptor.SWEEPING_OFFSET;
        this.sweepsOffset = sweepLine + GraceIdBitmapDescriptor.SWEEPS_OFFSET;
        this.fullSumOffset = sweepLine + GraceIdBitmapDescriptor.FULL_SUM_OFFSET;
        words.putLongRelease(fullSumOffset, NO_SUM);
        this.holders = new AtomicIntegerArray((int)ids);
        this.seenPairs = new long[wordCount];
        this.stamps = new int[(int)ids];
        this.seenNs = new long[(int)ids];
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
     * Claims one free id of {@code [lo, hi]} (FREE to IN_USE), searching the words cyclically from {@code startWord}.
     *
     * @return the id, now IN_USE; or, if no id of {@code [lo, hi]} was free at one instant during the call,
     *     {@link #NONE_FREE_SOME_RETIRED} or below ({@code -1 - retired}), {@link #NONE_FREE_SOME_HELD} or
     *     {@link #NONE_FREE} by what else the range held at that instant.
     */
    public int claim(final int lo, final int hi, final int startWord)
    {
        final int first = wordOf(lo);
        final int last = wordOf(hi);
        final int start = startWord < first || startWord > last ? first : startWord;
        // NOTE: only the range's first and last words can hold ids outside it (the padding past maxId is always held):
        // every other word's mask is LOW_BITS, so a pass does no range arithmetic per word (as VersionedIdBitmap).
        final long firstPairs = rangePairs(first, lo, hi);
        final long lastPairs = rangePairs(last, lo, hi);
        final boolean whole = lo == minId && hi == maxId;
        long previous = whole ? words.getLongOpaque(fullSumOffset) : NO_SUM;
        // NOTE: the pass reads the words by native address, the buffer's address in a local: a volatile load through
        // the buffer is a compiler barrier after which C2 reloads the buffer's fields, at every word.
        final long address = words.addressOffset();
        if (NO_SUM != previous)
        {
            // NOTE: a whole range that stays full (a repeated "no id"): one tight pass of loads, compares and adds.
            // The padding past maxId is IN_USE too, so a word whose 16 pairs are all 01 holds nothing free, retired or
            // held; a sum that is not the full sum is still a NONE_FREE pass the loop below can pair with.
            final long sum = inUseWordsSum(address, first, last);
            if (sum == previous)
            {
                return NONE_FREE;
            }
            if (NO_SUM != sum)
            {
                previous = sum;
            }
        }
        while (true)
        {
            final long generation = words.getLongVolatile(generationOffset);
            long versions = 0;
            int retired = 0;
            long held = 0;
            int w = start;
            for (int n = last - first; n >= 0; n--)
            {
                final int offset = wordOffset(w);
                final long allowed = w == first ? firstPairs : w == last ? lastPairs : GraceIdBitmapDescriptor.LOW_BITS;
                long word = UnsafeApi.getLongVolatile(null, address + offset);
                // NOTE: a word whose ids in range are all IN_USE (01 each: the pairs' low bits set, high bits clear)
                // has nothing to claim or count: one compare instead of the classification (a full range's pass).
                if ((word & (allowed | (allowed << 1))) != allowed)
                {
                    long free;
                    while (0 != (free = freePairs(word) & allowed))
                    {
                        final long bit = free & -free;
                        if (words.compareAndSetLong(offset, word, (word | bit) + VERSION_ONE))
                        {
                            return idOf(w, bit);
                        }
                        Thread.onSpinWait();
                        word = words.getLongVolatile(offset);
                    }
                    retired += Long.bitCount(retiredPairs(word) & allowed);
                    held |= heldPairs(word) & allowed;
                }
                versions += word >>> VERSION_SHIFT;
                w = w == last ? first : w + 1;
            }
            final int answer = 0 != retired ? -1 - retired : 0 != held ? NONE_FREE_SOME_HELD : NONE_FREE;
            if (NONE_FREE != answer && noSweepFreedSince(generation))
            {
                return answer;
            }
            // NOTE: two passes with equal versions sums validate the answer: no word of the range changed between its
            // two reads, so the instant between them saw all of them without a free id, and with the retired and held
            // ids both passes saw (VersionedIdBitmap's argument). The earlier pass may be an earlier whole-range
            // search's that answered NONE_FREE (the full sum): a range that stays full then costs one pass. A pass that
            // disagrees is the first of the next pair: it claims what it finds free.
            if (versions == previous)
            {
                if (whole && NONE_FREE == answer && words.getLongOpaque(fullSumOffset) != versions)
                {
                    words.putLongOpaque(fullSumOffset, versions); // NOTE: only when it changes: the line stays shared
                }
                return answer;
            }
            previous = versions;
            Thread.onSpinWait();
        }
    }

    /** The versions sum of words {@code [first, last]} if every id in them is IN_USE, else {@link #NO_SUM}. */
    private static long inUseWordsSum(final long address, final int first, final int last)
    {
        long versions = 0;
        for (int w = first; w <= last; w++)
        {
            final long word = UnsafeApi.getLongVolatile(null, address + wordOffset(w));
            if (GraceIdBitmapDescriptor.LOW_BITS != (word & GraceIdBitmapDescriptor.STATE_MASK))
            {
                return NO_SUM;
            }
            versions += word >>> VERSION_SHIFT;
        }
        return versions;
    }

    /** {@link #claim(int, int, int)} of the whole range. */
    public int claim(final int startWord)
    {
        return claim(minId, maxId, startWord);
    }

    /**
     * Whether no sweep freed an id since the generation read {@code generation} (even: none was freeing then). After a
     * pass that found no free id this makes its answer true at the instant of this load: only a sweep makes an id FREE,
     * so a word read without a free id had none up to this instant, and the RETIRED and HELD ids it held are still
     * RETIRED or HELD (only a sweep frees a RETIRED id; a HELD one only becomes RETIRED). "Nothing retired or held" is
     * not kept by this argument (a free after the word's read retires one), so NONE_FREE takes the second pass.
     */
    private boolean noSweepFreedSince(final long generation)
    {
        return 0 == (generation & 1) && words.getLongVolatile(generationOffset) == generation;
    }

    /**
     * The sweep generation (volatile load): even while no sweep is freeing ids; it moves whenever one freed some.
     * Between two equal even loads no id became FREE (only a sweep makes one FREE after construction).
     */
    public long generation()
    {
        return words.getLongVolatile(generationOffset);
    }

    /** The retired ids a {@link #claim} answer of {@link #NONE_FREE_SOME_RETIRED} or below counted. */
    public static int retiredIn(final int answer)
    {
        return -1 - answer;
    }

    /** Claims exactly {@code id} (FREE to IN_USE); false if it was not free. */
    public boolean tryClaim(final int id)
    {
        return transition(id, GraceIdBitmapDescriptor.FREE, IN_USE);
    }

    /** Retires {@code id} (IN_USE to RETIRED); false, with nothing changed, if it was not in use. */
    public boolean retire(final int id)
    {
        return transition(id, IN_USE, RETIRED);
    }

    /**
     * Retires {@code id} with {@code count > 0} holders outstanding (IN_USE to HELD; its holder count set first).
     *
     * @return false, with nothing changed, if it was not in use.
     */
    public boolean retireHeld(final int id, final int count)
    {
        final int index = id - minId;
        while (!holders.compareAndSet(index, 0, count))
        {
            // NOTE: a non-zero count belongs to a HELD id (not in use: refuse) or to another retire of this very id
            // between its two CASes (it settles in a few instructions: then the id is HELD, or its count is 0 again).
            if (IN_USE != state(id))
            {
                return false;
            }
            Thread.onSpinWait();
        }
        if (transition(id, IN_USE, HELD))
        {
            return true;
        }
        holders.set(index, 0);
        return false;
    }

    /**
     * One holder of a HELD id lets go; the last one moves it to RETIRED.
     *
     * @return holders still outstanding, or -1 (nothing changed) if the id is not HELD with a holder outstanding.
     */
    public int release(final int id)
    {
        final int index = id - minId;
        while (true)
        {
            if (HELD != state(id))
            {
                return -1;
            }
            final int count = holders.get(index);
            if (count <= 0)
            {
                return -1; // NOTE: its last holder is moving it to RETIRED: a release below zero
            }
            if (holders.compareAndSet(index, count, count - 1))
            {
                if (1 == count)
                {
                    // NOTE: only this thread moves the id on: HELD with no holder left is this window alone.
                    while (!transition(id, HELD, RETIRED))
                    {
                        Thread.onSpinWait();
                    }
                }
                return count - 1;
            }
            Thread.onSpinWait();
        }
    }

    /** Outstanding holders of {@code id}: its count while HELD, else 0. */
    public int holders(final int id)
    {
        return HELD == state(id) ? Math.max(0, holders.get(id - minId)) : 0;
    }

    /** The state code of {@code id} (volatile read): {@link GraceIdBitmapDescriptor#FREE} .. {@code RETIRED}. */
    public long state(final int id)
    {
        return (words.getLongVolatile(wordOffset(wordOf(id))) >>> shiftOf(id)) & 3;
    }

    /**
     * Frees the RETIRED ids whose grace has passed (the epoch is two ahead of their stamp) and stamps the ones not seen
     * before; if that freed nothing and some wait, and {@code advance}, tries to advance the epoch twice and, if it
     * moved, sweeps again over the words holding the ids it stamped (one retired meanwhile waits for the next sweep's
     * stamp). One sweep at a time.
     *
     * @return ids freed, or {@link #SWEEP_BUSY} if another thread is sweeping (nothing done).
     */
    public int sweep(final EpochDomain domain, final NanoClock clock, final boolean advance)
    {
        if (!words.compareAndSetInt(sweepingOffset, 0, 1))
        {
            return SWEEP_BUSY;
        }
        try
        {
            final long waiting = pass(domain, clock, false);
            int freed = (int)(waiting >>> 32);
            if (0 == freed && 0 != (int)waiting && advance && domain.tryAdvance())
            {
                domain.tryAdvance();
                // NOTE: only the words that held ids this sweep stamped: the ids it may free now. An id retired since
                // the first pass is stamped by the next sweep instead (a later stamp: never early).
                freed = (int)(pass(domain, clock, true) >>> 32);
            }
            words.putLongOpaque(sweepsOffset, words.getLong(sweepsOffset) + 1); // NOTE: only the sweeper writes it
            return freed;
        }
        finally
        {
            words.putIntRelease(sweepingOffset, 0);
        }
    }

    /**
     * One pass of the sweeper over every word, or only over the words that hold ids it has stamped.
     *
     * @param stampedOnly skip the words without a stamped id still RETIRED at the last pass.
     * @return ids freed in the high 32 bits, RETIRED ids left in the low 32 (of the words visited).
     */
    private long pass(final EpochDomain domain, final NanoClock clock, final boolean stampedOnly)
    {
        long nowNs = 0;
        int freed = 0;
        int left = 0;
        for (int w = 0; w < wordCount; w++)
        {
            if (stampedOnly && 0 == seenPairs[w])
            {
                continue;
            }
            final int offset = wordOffset(w);
            long word = words.getLongVolatile(offset);
            final long retired = retiredPairs(word);
            if (0 == retired)
            {
                seenPairs[w] = 0;
                continue;
            }
            // NOTE: the epoch is read after the word (its volatile load): every id seen RETIRED in it was retired in
            // this epoch or before, so a stamp from this read is never early.
            final int epoch = (int)domain.epoch();
            final long seen = seenPairs[w] & retired;
            long eligible = 0;
            for (long s = seen; 0 != s; s &= s - 1)
            {
                final int index = indexOf(w, s & -s);
                if (epoch - stamps[index] >= 2)
                {
                    eligible |= s & -s;
                }
            }
            long fresh = retired & ~seen;
            if (0 != fresh && 0 == nowNs)
            {
                nowNs = clock.nanoTime();
            }
            for (; 0 != fresh; fresh &= fresh - 1)
            {
                final int index = indexOf(w, fresh & -fresh);
                stamps[index] = epoch;
                seenNs[index] = nowNs;
            }
            if (0 != eligible)
            {
                if (0 == freed)
                {
                    // NOTE: odd from before this pass's first free to after its last (read by claim's single-pass
                    // answer): a sweep is the only thing that makes an id FREE after construction.
                    words.putLongVolatile(generationOffset, words.getLong(generationOffset) + 1);
                }
                final long clear = eligible | (eligible << 1);
                // NOTE: the eligible ids stay RETIRED until this CAS (only a sweep frees a RETIRED id): a retry only
                // takes in other ids' changes.
                while (!words.compareAndSetLong(offset, word, (word & ~clear) + VERSION_ONE))
                {
                    word = words.getLongVolatile(offset);
                }
                freed += Long.bitCount(eligible);
            }
            seenPairs[w] = retired & ~eligible;
            left += Long.bitCount(retired & ~eligible);
        }
        if (0 != freed)
        {
            words.putLongRelease(generationOffset, words.getLong(generationOffset) + 1);
        }
        return ((long)freed << 32) | left;
    }

    /**
     * Waits for a sweep in progress on another thread to end, spinning at most {@code maxSpins} times: a thread whose
     * sweep returned {@link #SWEEP_BUSY} then searches for what that sweep freed instead of answering "none free" while
     * it runs.
     *
     * @return true if no sweep is in progress now; false if one still is after the spins (its sweeper may be
     *     descheduled: the caller answers from its last search).
     */
    public boolean awaitSweep(final int maxSpins)
    {
        for (int spins = 0; spins < maxSpins; spins++)
        {
            // NOTE: acquire, pairs with the release store of 0 at the end of sweep: the ids it freed are seen FREE.
            if (0 == words.getIntAcquire(sweepingOffset))
            {
                return true;
            }
            Thread.onSpinWait();
        }
        return 0 == words.getIntAcquire(sweepingOffset);
    }

    /** Sweeps done (a diagnostic). */
    public long sweeps()
    {
        return words.getLongOpaque(sweepsOffset);
    }

    /**
     * The time of the sweep that first saw the oldest id still RETIRED, or {@link Long#MAX_VALUE} if no sweep has seen
     * one (a diagnostic: racy plain reads of the sweeper's arrays).
     */
    public long oldestSeenNs()
    {
        long oldest = Long.MAX_VALUE;
        for (int w = 0; w < wordCount; w++)
        {
            for (long s = seenPairs[w] & retiredPairs(words.getLongVolatile(wordOffset(w))); 0 != s; s &= s - 1)
            {
                oldest = Math.min(oldest, seenNs[indexOf(w, s & -s)]);
            }
        }
        return oldest;
    }

    /**
     * Ids by state (one pass of loads, not a snapshot while others change it; for counts and tests): into
     * {@code byState[IdStateTable.FREE / IN_USE / HELD / RETIRED]}, the other slots 0.
     */
    public void countStates(final long[] byState)
    {
        java.util.Arrays.fill(byState, 0);
        for (int w = 0; w < wordCount; w++)
        {
            final long word = words.getLongVolatile(wordOffset(w));
            byState[IdStateTable.FREE] += Long.bitCount(freePairs(word));
            byState[IdStateTable.IN_USE] += Long.bitCount(inUsePairs(word));
            byState[IdStateTable.HELD] += Long.bitCount(heldPairs(word));
            byState[IdStateTable.RETIRED] += Long.bitCount(retiredPairs(word));
        }
        byState[IdStateTable.IN_USE] -= (long)wordCount * IDS_PER_WORD - ((long)maxId - minId + 1);
    }

    /** Native bytes held. */
    public long nativeBytes()
    {
        return words.capacity();
    }

    /**
     * Moves {@code id} from state {@code from} to {@code to} with one CAS of its word (stepping the version); false,
     * with nothing changed, if its state was not {@code from}.
     */
    private boolean transition(final int id, final long from, final long to)
    {
        final int offset = wordOffset(wordOf(id));
        final int shift = shiftOf(id);
        final long mask = 3L << shift;
        final long fromBits = from << shift;
        final long delta = ((to << shift) - fromBits) + VERSION_ONE;
        while (true)
        {
            final long word = words.getLongVolatile(offset);
            if ((word & mask) != fromBits)
            {
                return false;
            }
            if (words.compareAndSetLong(offset, word, word + delta))
            {
                return true;
            }
            Thread.onSpinWait();
        }
    }

    /** The low bits of the pairs of word {@code wordIndex} that hold ids inside {@code [lo, hi]}. */
    private long rangePairs(final int wordIndex, final int lo, final int hi)
    {
        final long wordBase = (long)minId + ((long)wordIndex << WORD_SHIFT);
        long mask = GraceIdBitmapDescriptor.LOW_BITS;
        if (lo > wordBase)
        {
            mask &= GraceIdBitmapDescriptor.LOW_BITS << (2 * (lo - wordBase));
        }
        final long top = wordBase + IDS_PER_WORD - 1;
        if (hi < top)
        {
            mask &= GraceIdBitmapDescriptor.LOW_BITS >>> (2 * (top - hi));
        }
        return mask;
    }

    private int idOf(final int wordIndex, final long lowBit)
    {
        return minId + indexOf(wordIndex, lowBit);
    }

    private static int indexOf(final int wordIndex, final long lowBit)
    {
        return (wordIndex << WORD_SHIFT) + (Long.numberOfTrailingZeros(lowBit) >>> 1);
    }

    private int shiftOf(final int id)
    {
        return ((id - minId) & (IDS_PER_WORD - 1)) << 1;
    }
}
