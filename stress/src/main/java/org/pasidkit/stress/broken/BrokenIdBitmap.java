package org.pasidkit.stress.broken;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.pasidkit.allocator.internal.IdBitmapDescriptor;

/**
 * BROKEN on purpose: a copy of {@code org.pasidkit.allocator.internal.IdBitmap} (same {@link IdBitmapDescriptor}
 * layout, one word is enough for the races) in which one mutation, chosen by {@link Bug}, is a plain read followed by
 * a plain write of the word instead of a {@code compareAndSetLong}: a non-atomic read-modify-write that can lose a
 * concurrent update of another bit of the same word. Every other method is the production code.
 */
final class BrokenIdBitmap
{
    /** Which mutation lost its CAS. */
    enum Bug
    {
        /** {@link #claimBatch} reads the word and writes it back with its batch set: a concurrent claim is lost. */
        PLAIN_CLAIM_BATCH,
        /** {@link #clear} reads the word and writes it back with the bit cleared: a concurrent claim is lost. */
        PLAIN_CLEAR
    }

    private final UnsafeBuffer words;
    private final int minId;
    private final Bug bug;

    BrokenIdBitmap(final int minId, final int maxId, final Bug bug)
    {
        final long bits = (long)maxId - minId + 1;
        IdBitmapDescriptor.checkRange(bits);
        if (bits > 64)
        {
            throw new IllegalArgumentException("the broken copy holds one word: " + bits + " ids > 64");
        }
        this.minId = minId;
        this.bug = bug;
        this.words = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            IdBitmapDescriptor.lengthBytes(bits), IdBitmapDescriptor.ALIGNMENT));
        final int tailBits = (int)(bits & 63);
        if (tailBits != 0)
        {
            words.putLongRelease(IdBitmapDescriptor.wordOffset(0), -1L << tailBits);
        }
    }

    /** Current value of word 0 (volatile read). */
    long word()
    {
        return words.getLongVolatile(IdBitmapDescriptor.wordOffset(0));
    }

    /** Production {@code claimBatch} on word 0, except under {@link Bug#PLAIN_CLAIM_BATCH}. */
    int claimBatch(final long allowedMask, final int max, final int[] out)
    {
        final int offset = IdBitmapDescriptor.wordOffset(0);
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
            final boolean claimed;
            if (Bug.PLAIN_CLAIM_BATCH == bug)
            {
                // BROKEN: production claims the batch with compareAndSetLong(offset, word, word | take).
                words.putLongVolatile(offset, word | take);
                claimed = true;
            }
            else
            {
                claimed = words.compareAndSetLong(offset, word, word | take);
            }
            if (claimed)
            {
                int n = 0;
                while (0 != take)
                {
                    out[n++] = minId + Long.numberOfTrailingZeros(take);
                    take &= take - 1;
                }
                return n;
            }
            Thread.onSpinWait();
        }
    }

    /** Production {@code claimOne} on word 0. */
    int claimOne(final long allowedMask)
    {
        final int offset = IdBitmapDescriptor.wordOffset(0);
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
                return minId + Long.numberOfTrailingZeros(lowest);
            }
            Thread.onSpinWait();
        }
    }

    /** Production {@code clear}, except under {@link Bug#PLAIN_CLEAR}. */
    void clear(final int id)
    {
        final int offset = IdBitmapDescriptor.wordOffset(0);
        final long bit = 1L << ((id - minId) & 63);
        while (true)
        {
            final long word = words.getLongVolatile(offset);
            if (0 == (word & bit))
            {
                throw new IllegalStateException("bitmap bit of id " + id + " already clear");
            }
            if (Bug.PLAIN_CLEAR == bug)
            {
                // BROKEN: production clears with compareAndSetLong(offset, word, word & ~bit).
                words.putLongVolatile(offset, word & ~bit);
                return;
            }
            if (words.compareAndSetLong(offset, word, word & ~bit))
            {
                return;
            }
            Thread.onSpinWait();
        }
    }
}
