package org.pasidkit.stress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.agrona.concurrent.UnsafeBuffer;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.internal.EpochDescriptor;

/**
 * Test-only probe: reads a reader's pin word from an {@link EpochDomain}'s buffer (which the API does not expose), so
 * an arbiter can report the epoch a reader actually pinned. Reflection happens once, in the static initializer.
 */
final class EpochPins
{
    /** Returned when the reader is not pinned. */
    static final int NOT_PINNED = -1;

    private static final VarHandle BUFFER;

    static
    {
        try
        {
            BUFFER = MethodHandles.privateLookupIn(EpochDomain.class, MethodHandles.lookup())
                .findVarHandle(EpochDomain.class, "buffer", UnsafeBuffer.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private EpochPins()
    {
    }

    /** The epoch pinned by the reader in {@code slot} (volatile read), or {@link #NOT_PINNED}. */
    static int pinnedEpoch(final EpochDomain domain, final int slot)
    {
        final UnsafeBuffer buffer = (UnsafeBuffer)BUFFER.get(domain);
        final long pin = buffer.getLongVolatile(EpochDescriptor.slotOffset(slot) + EpochDescriptor.PIN_OFFSET);
        return 0 == (pin & EpochDescriptor.PINNED) ? NOT_PINNED : (int)(pin >>> 1);
    }
}
