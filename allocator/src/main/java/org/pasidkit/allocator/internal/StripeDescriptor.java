package org.pasidkit.allocator.internal;

import org.agrona.BitUtil;

/**
 * Layout of one stripe of the per-CPU id cache. Stripes sit back to back in one buffer, each a multiple of
 * 128 bytes so that two stripes never share a cache line or an adjacent-line prefetch pair.
 * <pre>
 *   0        8        16       24                        128                 128 + 4 * capacity
 *   +--------+--------+--------+------------------------+-------------------+------- pad to 128
 *   | head   | tail   | hint   | padding                | slots[capacity]   |
 *   | long   | long   | int    |                        | int ids           |
 *   +--------+--------+--------+------------------------+-------------------+
 *   head, tail, hint: written only by the stripe's owner (plain).
 *   slots: written by the owner (plain), read by any thread (opaque) when it steals; a slot may hold a stale
 *   id, which is harmless because the id's state byte, taken by CAS, is the arbiter.
 * </pre>
 */
public final class StripeDescriptor
{
    public static final int HEAD_OFFSET = 0;
    public static final int TAIL_OFFSET = 8;
    public static final int HINT_OFFSET = 16;
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
