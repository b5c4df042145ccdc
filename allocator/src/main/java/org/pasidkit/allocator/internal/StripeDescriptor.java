package org.pasidkit.allocator.internal;

import org.agrona.BitUtil;

/**
 * Layout of one stripe of the per-CPU id cache. Stripes sit back to back in one buffer, each a multiple of
 * 128 bytes so that two stripes never share a cache line or an adjacent-line prefetch pair. The header is two cache
 * lines: the owner's per-operation line (busy, written on every operation; stop; hint) and the ring's line (head,
 * tail, move counts), which exhaustion scans read: while ids are scarce the rings are empty and the owner writes the
 * ring's line only when it frees (a counted move), so a scan's loads of it hit in its cache instead of missing on
 * every operation of the owner (the busy store shared the line: 47% of the churn scan's samples were that miss).
 * <pre>
 *   0      4      8      12         64       72       80         88          96         128                 128 + 4 * capacity
 *   +------+------+------+----------+--------+--------+----------+-----------+----------+-------------------+-- pad to 128
 *   | busy | stop | hint | padding  | head   | tail   | moves    | moves     | padding  | slots[capacity]   |
 *   | int  | int  | int  |          | long   | long   | started  | finished  |          | int ids           |
 *   +------+------+------+----------+--------+--------+----------+-----------+----------+-------------------+
 *   busy: 1 while the owner is inside an operation on its ring (opaque store, then AsymmetricFence.light(),
 *   then it reads stop); 0 after it (release store, read by a thief's acquire load after its heavy barrier).
 *   stop: 1 while a thief holds the ring (CAS 0 -> 1 among thieves; release store of 0 when done, read by the
 *   owner's acquire load in enter). The Dekker pair busy/stop decides who may touch the ring.
 *   head, tail, hint: written by the stripe's owner inside an operation, or by a thief that holds stop while
 *   busy is 0 (plain; head with a release store when ids move out of the ring, read by a pre-scan's acquire).
 *   moves started / finished: the owner's moves of free ids (refill, flush, reclaim of its own retired ids, a
 *   free straight to the bitmap), written only by the owner (release stores), read by exhaustion scans (acquire
 *   loads).
 *   slots: written by whoever holds the ring (plain or opaque), read by any thread's pre-scan (opaque); every
 *   slot of the live window [head, tail) holds a CACHED id that no other slot or magazine holds.
 * </pre>
 */
public final class StripeDescriptor
{
    public static final int BUSY_OFFSET = 0;
    public static final int STOP_OFFSET = 4;
    public static final int HINT_OFFSET = 8;
    public static final int HEAD_OFFSET = 64;
    public static final int TAIL_OFFSET = 72;
    public static final int MOVES_STARTED_OFFSET = 80;
    public static final int MOVES_FINISHED_OFFSET = 88;
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
