package org.pasidkit.allocator.internal;

import org.agrona.BitUtil;

/**
 * Layout of one stripe of the per-CPU id cache. Stripes sit back to back in one buffer, each a multiple of
 * 128 bytes so that two stripes never share a cache line or an adjacent-line prefetch pair.
 * <pre>
 *   0        8        16       24       32         40          48         128                 128 + 4 * capacity
 *   +--------+--------+--------+--------+----------+-----------+----------+-------------------+---- pad to 128
 *   | head   | tail   | hint   | pad    | moves    | moves     | padding  | slots[capacity]   |
 *   | long   | long   | int    |        | started  | finished  |          | int ids           |
 *   +--------+--------+--------+--------+----------+-----------+----------+-------------------+
 *   head, tail, hint: written only by the stripe's owner (plain; head with a release store when a flush moves
 *   ids out of the ring: read by a thief's acquire load; a thief reads only the live window [head, tail)).
 *   moves started / finished: the owner's moves of free ids (refill, flush, reclaim of its own retired ids),
 *   written only by the owner (release stores), read by exhaustion scans (acquire loads).
 *   slots: written by the owner (plain), read by any thread (opaque) when it steals; a slot may hold a stale
 *   id, which is harmless because the id's state byte, taken by CAS, is the arbiter.
 * </pre>
 */
public final class StripeDescriptor
{
    public static final int HEAD_OFFSET = 0;
    public static final int TAIL_OFFSET = 8;
    public static final int HINT_OFFSET = 16;
    public static final int MOVES_STARTED_OFFSET = 32;
    public static final int MOVES_FINISHED_OFFSET = 40;
    public static final int SLOTS_OFFSET = 128;
    public static final int SLOT_LENGTH = 4;
    public static final int PAD = 128;

    private StripeDescriptor()
    {
    }

    public static int stripeLength(final int capacity)
    {
        return BitUtil.align(SLOTS_OFFSET + capacity * SLOT_LENGTH, PAD);
    }

    public static void checkCapacity(final int capacity)
    {
        if (capacity < 2 || capacity > (1 << 16) || !BitUtil.isPowerOfTwo(capacity))
        {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be a power of two in [2, 65536]");
        }
    }
}
