package org.pasidkit.stress.broken;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.pasidkit.allocator.internal.EpochDescriptor;

/**
 * A copy of {@code EpochDomain}'s pin/advance protocol (same {@link EpochDescriptor} layout, fixed reader slots, no
 * nesting) with one deliberate bug, chosen by {@link Bug}. For broken-variant jcstress tests only.
 */
final class BrokenEpochDomain
{
    /** Which part of the protocol is broken. */
    enum Bug
    {
        /** tryAdvance does not look at the readers' pins at all. */
        SKIP_PIN_CHECK,
        /** enter stores its pin with a release store: no StoreLoad, so the reader's next load may pass the store. */
        RELEASE_PIN
    }

    private final UnsafeBuffer buffer;
    private final int readers;
    private final Bug bug;

    BrokenEpochDomain(final int readers, final Bug bug)
    {
        this.readers = readers;
        this.bug = bug;
        this.buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(EpochDescriptor.lengthBytes(readers), 128));
        buffer.putLongVolatile(EpochDescriptor.GLOBAL_EPOCH_OFFSET, 0L);
    }

    long epoch()
    {
        return buffer.getLongAcquire(EpochDescriptor.GLOBAL_EPOCH_OFFSET);
    }

    void enter(final int slot)
    {
        final int offset = EpochDescriptor.slotOffset(slot) + EpochDescriptor.PIN_OFFSET;
        final long pin = EpochDescriptor.pinWord(epoch());
        if (Bug.RELEASE_PIN == bug)
        {
            buffer.putLongRelease(offset, pin);
        }
        else
        {
            buffer.putLongVolatile(offset, pin);
        }
    }

    boolean tryAdvance()
    {
        final long epoch = epoch();
        if (Bug.SKIP_PIN_CHECK != bug)
        {
            final long current = EpochDescriptor.pinWord(epoch);
            for (int i = 0; i < readers; i++)
            {
                final long pin = buffer.getLongVolatile(EpochDescriptor.slotOffset(i) + EpochDescriptor.PIN_OFFSET);
                if (0 != (pin & EpochDescriptor.PINNED) && pin != current)
                {
                    return false;
                }
            }
        }
        return buffer.compareAndSetLong(EpochDescriptor.GLOBAL_EPOCH_OFFSET, epoch, epoch + 1) || epoch() != epoch;
    }

    /** The epoch pinned in {@code slot}, or -1 if the slot is not pinned. */
    int pinnedEpoch(final int slot)
    {
        final long pin = buffer.getLongVolatile(EpochDescriptor.slotOffset(slot) + EpochDescriptor.PIN_OFFSET);
        return 0 == (pin & EpochDescriptor.PINNED) ? -1 : (int)(pin >>> 1);
    }
}
