package org.pasidkit.allocator.internal;

/**
 * Layout of the versioned claim bitmap ({@link VersionedIdBitmap}): 64-bit words, each holding the claim bits of 32
 * ids and a version that every release of an id in the word increments, cache-line aligned.
 * <pre>
 *   0                              32                             64   (bits of one word)
 *   +------------------------------+------------------------------+
 *   | claim bits: bit i = id       | version: +1 at every release |
 *   | minId + 32 * word + i        | (the CAS that clears a bit)  |
 *   +------------------------------+------------------------------+
 *   8 bytes a word, words back to back (8 words, 256 ids, a cache line); claim bits past maxId in the last word are
 *   always set.
 * </pre>
 */
public final class VersionedIdBitmapDescriptor
{
    /** Alignment of the buffer: one cache line. */
    public static final int ALIGNMENT = 64;
    /** Bytes a word. */
    public static final int WORD_LENGTH = 8;
    /** Ids a word holds. */
    public static final int IDS_PER_WORD = 32;
    /** Shift from an id's offset to its word. */
    public static final int WORD_SHIFT = 5;
    /** The claim bits of a word. */
    public static final long CLAIM_MASK = 0xFFFF_FFFFL;
    /** One step of the version (its lowest bit). */
    public static final long VERSION_ONE = 1L << 32;
    /** Shift from a word to its version. */
    public static final int VERSION_SHIFT = 32;

    private VersionedIdBitmapDescriptor()
    {
    }

    public static int wordCount(final long ids)
    {
        return (int)((ids + IDS_PER_WORD - 1) >>> WORD_SHIFT);
    }

    public static int lengthBytes(final long ids)
    {
        return (int)(((long)wordCount(ids) * WORD_LENGTH + ALIGNMENT - 1) & -ALIGNMENT);
    }

    public static int wordOffset(final int wordIndex)
    {
        return wordIndex << 3;
    }
}
