package org.pasidkit.allocator.internal;

/**
 * Layout of the state bitmap of an allocator without caches that has a grace period ({@link GraceIdBitmap}): 64-bit
 * words, each holding the 2-bit states of 16 ids and a version that every change of the word increments, cache-line
 * aligned.
 * <pre>
 *   0    2    4         30   32                             64   (bits of one word)
 *   +----+----+-- ... --+----+------------------------------+
 *   | s0 | s1 |         |s15 | version: +1 at every CAS     |
 *   +----+----+-- ... --+----+ that changed the word        |
 *   s_i = state of id minId + 16 * word + i:                |
 *         00 FREE, 01 IN_USE, 10 HELD, 11 RETIRED           |
 *   +-------------------------------------------------------+
 *   8 bytes a word, words back to back (8 words, 128 ids, a cache line); ids past maxId in the last word are IN_USE
 *   for ever.
 *
 *   After the words, from the next cache line (the sweep line, written by sweeps and by a whole-range search that
 *   answers "none free, none retired or held" with a versions sum it did not find there):
 *   0               8               16              24              32             64
 *   +---------------+-------+-------+---------------+---------------+--- ... ------+
 *   | generation    |sweep- | (pad) | sweeps done   | full sum      |   (pad)      |
 *   | odd: freeing  |ing    |       |               | (-1: none)    |              |
 *   +---------------+-------+-------+---------------+---------------+--- ... ------+
 * </pre>
 */
public final class GraceIdBitmapDescriptor
{
    /** Alignment of the buffer: one cache line. */
    public static final int ALIGNMENT = 64;
    /** Bytes a word. */
    public static final int WORD_LENGTH = 8;
    /** Ids a word holds. */
    public static final int IDS_PER_WORD = 16;
    /** Shift from an id's offset to its word. */
    public static final int WORD_SHIFT = 4;
    /** The state bits of a word. */
    public static final long STATE_MASK = 0xFFFF_FFFFL;
    /** The low bit of every id's state pair. */
    public static final long LOW_BITS = 0x5555_5555L;
    /** State code: free. */
    public static final long FREE = 0;
    /** State code: handed out. */
    public static final long IN_USE = 1;
    /** State code: retired with holders outstanding. */
    public static final long HELD = 2;
    /** State code: retired, waiting out its grace period. */
    public static final long RETIRED = 3;
    /** One step of the version (its lowest bit). */
    public static final long VERSION_ONE = 1L << 32;
    /** Shift from a word to its version. */
    public static final int VERSION_SHIFT = 32;

    private GraceIdBitmapDescriptor()
    {
    }

    public static int wordCount(final long ids)
    {
        return (int)((ids + IDS_PER_WORD - 1) >>> WORD_SHIFT);
    }

    /** Offset of the sweep generation (a seqcount of sweeps that free ids) from the sweep line. */
    public static final int GENERATION_OFFSET = 0;
    /** Offset of the sweep try-lock (an int, 1 while a sweep runs) from the sweep line. */
    public static final int SWEEPING_OFFSET = 8;
    /** Offset of the count of sweeps done from the sweep line. */
    public static final int SWEEPS_OFFSET = 16;
    /**
     * Offset from the sweep line of the versions sum of the last whole-range search that answered "none free, none
     * retired or held" (-1 if none did yet).
     */
    public static final int FULL_SUM_OFFSET = 24;

    /** Offset of the sweep line: the words rounded up to a cache line. */
    public static int sweepLineOffset(final long ids)
    {
        return (int)(((long)wordCount(ids) * WORD_LENGTH + ALIGNMENT - 1) & -ALIGNMENT);
    }

    /** Bytes of the buffer: the words, then the sweep line. */
    public static int lengthBytes(final long ids)
    {
        return sweepLineOffset(ids) + ALIGNMENT;
    }

    public static int wordOffset(final int wordIndex)
    {
        return wordIndex << 3;
    }

    /** Low bits of the pairs whose state is FREE in {@code word}. */
    public static long freePairs(final long word)
    {
        return ~(word | (word >>> 1)) & LOW_BITS;
    }

    /** Low bits of the pairs whose state is RETIRED in {@code word}. */
    public static long retiredPairs(final long word)
    {
        return word & (word >>> 1) & LOW_BITS;
    }

    /** Low bits of the pairs whose state is HELD in {@code word}. */
    public static long heldPairs(final long word)
    {
        return (word >>> 1) & ~word & LOW_BITS;
    }

    /** Low bits of the pairs whose state is IN_USE in {@code word}. */
    public static long inUsePairs(final long word)
    {
        return word & ~(word >>> 1) & LOW_BITS;
    }
}
