package org.pasidkit.allocator.internal;

/**
 * Layout of the claim bitmap: a dense array of 64-bit words, cache-line aligned.
 * <pre>
 *   0                   64                  128   (bits)
 *   +-------------------+-------------------+---
 *   | word 0            | word 1            | ...
 *   | bit i = id min+i  | bit i = min+64+i  |
 *   +-------------------+-------------------+---
 *   8 bytes a word; bits past maxId in the last word are always set.
 * </pre>
 */
public final class IdBitmapDescriptor
{
    /** Alignment of the buffer: one cache line. */
    public static final int ALIGNMENT = 64;
    /** Bytes a word. */
    public static final int WORD_LENGTH = 8;
    /** Largest number of ids: 2^31 - 1 (every positive int). */
    public static final long MAX_BITS = Integer.MAX_VALUE;

    private IdBitmapDescriptor()
    {
    }

    public static int wordCount(final long bits)
    {
        return (int)((bits + 63) >>> 6);
    }

    public static int lengthBytes(final long bits)
    {
        final long words = (bits + 63) >>> 6;
        final long bytes = ((words * WORD_LENGTH) + ALIGNMENT - 1) & -ALIGNMENT;
        return (int)bytes;
    }

    public static int wordOffset(final int wordIndex)
    {
        return wordIndex << 3;
    }

    /** Checks that a range of {@code bits} ids can be held. */
    public static void checkRange(final long bits)
    {
        if (bits < 1 || bits > MAX_BITS)
        {
            throw new IllegalArgumentException("id range size " + bits + " must be in [1, " + MAX_BITS + "]");
        }
    }
}
