package org.pasidkit.allocator;

import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.pasidkit.allocator.internal.EpochDescriptor;

/**
 * Epoch-based grace periods (after crossbeam-epoch and DEBRA): readers pin the current epoch while inside a critical
 * section; the global epoch moves from {@code e} to {@code e + 1} only when every pinned reader has pinned {@code e}.
 * Something retired in epoch {@code e} is unreachable by every reader once the global epoch is {@code >= e + 2}.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: a {@link Reader} belongs to one thread at a time (its {@code enter}/{@code exit} are not
 *       thread-safe with each other); {@link #register}, {@link #tryAdvance}, {@link #epoch} are safe from any
 *       thread.</li>
 *   <li>Progress: {@link Reader#enter} and {@link Reader#exit} are wait-free and allocate nothing.
 *       {@link #tryAdvance} is lock-free (one CAS), O(registered slots). A reader stalled inside its critical section
 *       stops the epoch at most one step past the epoch that was current when its pin became visible. The pinned
 *       value itself may be older, by up to two steps (the reader read the epoch, then advances ran before its store
 *       landed; jcstress saw epoch = pin + 2): that is safe, since the reader's loads all follow its pin store (the
 *       fence below), so nothing unlinked before those advances is reachable for it. It delays reclaim but never
 *       makes it unsafe.</li>
 *   <li>Linearization: {@code enter} at its volatile store of the pin word; {@code exit} at its release store;
 *       an advance at its successful CAS of the global epoch.</li>
 * </ul>
 */
/*
 * Design notes.
 * - enter: read the global epoch (acquire), store the pin word with a release store, then a full fence. NOTE: the
 *   fence is the StoreLoad fence of the protocol: the reader's later loads of shared state, plain or acquire, cannot
 *   move before its pin becomes visible, so either tryAdvance sees the pin, or the reader sees everything retired
 *   before that advance already unlinked (the crossbeam `pin` fence). A volatile store alone orders only later
 *   volatile loads on weak memory models (AArch64 `stlr` lets a later plain `ldr` pass it); on x86 the fence is
 *   the same one locked instruction the volatile store used to emit.
 * - A reader may pin an epoch that is already one behind (it read e, the domain advanced to e + 1 before its store
 *   landed). tryAdvance then sees a pinned reader at e != e + 1 and refuses to move to e + 2, which is the rule.
 * - exit: release store of 0, read by tryAdvance's getLongVolatile: orders the reader's critical-section loads
 *   before the advance that lets a retired id be reused.
 */
public final class EpochDomain
{
    private final UnsafeBuffer buffer;
    private final int maxReaders;
    private volatile int lastHoldingBack;

    /**
     * @param maxReaders most readers registered at once (each costs 128 bytes of native memory).
     */
    public EpochDomain(final int maxReaders)
    {
        EpochDescriptor.checkCapacity(maxReaders);
        this.maxReaders = maxReaders;
        this.buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(EpochDescriptor.lengthBytes(maxReaders), 128));
        buffer.putLongVolatile(EpochDescriptor.GLOBAL_EPOCH_OFFSET, 0L);
    }

    /** The global epoch (acquire load; pairs with the CAS in {@link #tryAdvance}). */
    public long epoch()
    {
        return buffer.getLongAcquire(EpochDescriptor.GLOBAL_EPOCH_OFFSET);
    }

    public int maxReaders()
    {
        return maxReaders;
    }

    /** Readers that were pinned to an older epoch at the last failed {@link #tryAdvance}, 0 after a success. */
    public int readersHoldingBack()
    {
        return lastHoldingBack;
    }

    /** Readers registered now (a scan). */
    public int registeredReaders()
    {
        final int highWater = buffer.getIntAcquire(EpochDescriptor.HIGH_WATER_OFFSET);
        int n = 0;
        for (int i = 0; i < highWater; i++)
        {
            n += buffer.getIntAcquire(EpochDescriptor.slotOffset(i) + EpochDescriptor.REGISTERED_OFFSET);
        }
        return n;
    }

    /**
     * Registers a reader (allocates the {@link Reader} object; do it once per thread, not on a hot path).
     *
     * @throws IllegalStateException if {@code maxReaders} readers are registered already.
     */
    public Reader register()
    {
        for (int i = 0; i < maxReaders; i++)
        {
            final int offset = EpochDescriptor.slotOffset(i) + EpochDescriptor.REGISTERED_OFFSET;
            if (0 == buffer.getIntAcquire(offset) && buffer.compareAndSetInt(offset, 0, 1))
            {
                raiseHighWater(i + 1);
                return new Reader(i);
            }
        }
        throw new IllegalStateException("all " + maxReaders + " reader slots of the epoch domain are registered");
    }

    private void raiseHighWater(final int slotsUsed)
    {
        while (true)
        {
            final int highWater = buffer.getIntAcquire(EpochDescriptor.HIGH_WATER_OFFSET);
            if (highWater >= slotsUsed ||
                buffer.compareAndSetInt(EpochDescriptor.HIGH_WATER_OFFSET, highWater, slotsUsed))
            {
                return;
            }
        }
    }

    /**
     * Moves the global epoch one step if every pinned reader has pinned the current epoch.
     *
     * @return true if this call (or a concurrent one) advanced the epoch.
     */
    public boolean tryAdvance()
    {
        final long epoch = epoch();
        final long current = EpochDescriptor.pinWord(epoch);
        final int highWater = buffer.getIntAcquire(EpochDescriptor.HIGH_WATER_OFFSET);
        int holdingBack = 0;
        for (int i = 0; i < highWater; i++)
        {
            final long pin = buffer.getLongVolatile(EpochDescriptor.slotOffset(i) + EpochDescriptor.PIN_OFFSET);
            if (0 != (pin & EpochDescriptor.PINNED) && pin != current)
            {
                holdingBack++;
            }
        }
        // NOTE: the diagnostic is written only when it changes: a reclaim that finds the epoch held back costs loads,
        // not a store to a line every reclaiming thread would then share.
        if (holdingBack > 0)
        {
            if (lastHoldingBack != holdingBack)
            {
                lastHoldingBack = holdingBack;
            }
            return false;
        }
        if (0 != lastHoldingBack)
        {
            lastHoldingBack = 0;
        }
        return buffer.compareAndSetLong(EpochDescriptor.GLOBAL_EPOCH_OFFSET, epoch, epoch + 1) ||
            epoch() != epoch;
    }

    /**
     * One reader's slot. Not thread-safe: one thread at a time uses it. Critical sections nest.
     */
    public final class Reader implements AutoCloseable
    {
        // NOTE: the nesting depth, the one field written on every enter/exit, lives in the reader's own 128-byte
        // slot (DEPTH_OFFSET), not in this object: Reader objects of different threads may sit on one heap cache line.
        private final int pinOffset;
        private final int depthOffset;
        private final int slot;
        private boolean closed;

        Reader(final int slot)
        {
            this.slot = slot;
            this.pinOffset = EpochDescriptor.slotOffset(slot) + EpochDescriptor.PIN_OFFSET;
            this.depthOffset = EpochDescriptor.slotOffset(slot) + EpochDescriptor.DEPTH_OFFSET;
            buffer.putInt(depthOffset, 0);
        }

        /** Enters a critical section (pins the current epoch on the outermost entry). Wait-free, 0 B. */
        public void enter()
        {
            if (closed)
            {
                throw new IllegalStateException("reader slot " + slot + " is closed; register a new reader");
            }
            final int depth = buffer.getInt(depthOffset);
            buffer.putInt(depthOffset, depth + 1);
            if (0 == depth)
            {
                // NOTE: release store + full fence = the StoreLoad fence of the protocol (see the design notes); the
                // pin is read by tryAdvance via getLongVolatile.
                buffer.putLongRelease(pinOffset, EpochDescriptor.pinWord(epoch()));
                VarHandle.fullFence();
            }
        }

        /**
         * Leaves the critical section entered last.
         *
         * @throws IllegalStateException if the reader is not inside one; nothing is changed then.
         */
        public void exit()
        {
            final int depth = buffer.getInt(depthOffset);
            if (depth <= 0)
            {
                throw new IllegalStateException("exit of reader slot " + slot +
                    " without a matching enter (critical-section depth 0)");
            }
            buffer.putInt(depthOffset, depth - 1);
            if (1 == depth)
            {
                // NOTE: release store, read by tryAdvance via getLongVolatile: the section's loads happen before.
                buffer.putLongRelease(pinOffset, 0L);
            }
        }

        /** Whether this reader is inside a critical section. */
        public boolean isInside()
        {
            return buffer.getInt(depthOffset) > 0;
        }

        /** The slot index (for diagnostics). */
        public int slot()
        {
            return slot;
        }

        /**
         * Deregisters the reader.
         *
         * @throws IllegalStateException if it is inside a critical section.
         */
        @Override
        public void close()
        {
            if (closed)
            {
                return;
            }
            final int depth = buffer.getInt(depthOffset);
            if (depth > 0)
            {
                throw new IllegalStateException("reader slot " + slot + " closed inside a critical section (depth " +
                    depth + ")");
            }
            closed = true;
            buffer.putIntRelease(EpochDescriptor.slotOffset(slot) + EpochDescriptor.REGISTERED_OFFSET, 0);
        }
    }
}
