package org.pasidkit.allocator;

import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
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
 *       {@link #tryAdvance} is lock-free (one CAS), O(registered slots), and 0 B; a call that finds a visible pin
 *       holding the epoch back returns after loads only; a call that may advance pays one
 *       {@link AsymmetricFence#heavy()} (a {@code membarrier} in {@link AsymmetricFence.Mode#MEMBARRIER}: microseconds,
 *       blocking in the kernel), or only a {@code VarHandle.fullFence()} when no reader slot is registered. A reader
 *       stalled inside its critical section stops the epoch at most one step past the epoch that was current when its
 *       pin became visible. The pinned value itself may be older, by up to two steps (the reader read the epoch, then
 *       advances ran before its store landed; jcstress saw epoch = pin + 2): that is safe, since the reader's loads all
 *       follow its pin store (the light fence below), so nothing unlinked before those advances is reachable for it.
 *       It delays reclaim but never makes it unsafe.</li>
 *   <li>Fence mode: the one {@link AsymmetricFence#mode()} of the process. {@link AsymmetricFence.Mode#MEMBARRIER}:
 *       {@code enter} pins with an opaque store and a compiler barrier (no fence instruction on x86-64);
 *       {@code tryAdvance} pays the heavy barrier. {@link AsymmetricFence.Mode#FENCED}: {@code enter} pays a full
 *       fence and the "heavy" barrier is a full fence too (the symmetric protocol). Both modes give the same
 *       guarantee.</li>
 *   <li>Linearization: {@code enter} at its pin store (in MEMBARRIER mode it becomes visible to an advance no later
 *       than that advance's heavy barrier); {@code exit} at its release store; an advance at its successful CAS of the
 *       global epoch.</li>
 * </ul>
 */
/*
 * Design notes.
 * - The protocol is a Dekker pattern (store, then load, on both sides). Reader: store the pin word, then load shared
 *   state (the epoch, the structure it protects). Advancer: its earlier stores (the CAS that made the current epoch;
 *   before it, the unlinks of what was retired, each followed by a full fence: EpochReclaimQueue reads the epoch
 *   after the caller's state CAS), then the loads of the pins. Either the advancer sees the pin, or the reader sees
 *   everything the advancer's stores published.
 * - enter: read the global epoch (acquire), store the pin word (opaque: emitted, never merged or sunk out of a loop;
 *   the value depends on the epoch load, so it cannot move above it), then AsymmetricFence.light(). NOTE: in
 *   MEMBARRIER mode light() is VarHandle.acquireFence(), a compiler barrier over all memory: the JIT cannot move the
 *   pin store below it nor a later load above it (why, for the interpreter, C1 and C2: AsymmetricFence's design
 *   notes). Only the store buffer can still delay the pin past the reader's later loads; the advancer's heavy
 *   barrier closes that window (AsymmetricFence's notes: the IPI lands before the pin store, and the reader's later
 *   loads see what the advancer published, or after it, and the pin is visible to the advancer's second scan). In
 *   FENCED mode light() is a full fence: the crossbeam `pin` fence, today's protocol.
 * - tryAdvance, two scans. The first reads the pins with loads only: a visible pin on an older epoch holds the
 *   epoch back whatever the barrier would show, so a reclaim that finds the epoch held back costs loads and returns
 *   false (no membarrier, no store). Otherwise it pays the heavy side, then a second scan decides (a pin that was
 *   sitting in a store buffer during the first scan is visible now), then the CAS. Both scans use getLongVolatile
 *   (acquire at least: it pairs with exit's release store of 0, ordering the reader's section loads before the
 *   advance that lets a retired id be reused).
 * - No reader registered: the heavy barrier is skipped, a VarHandle.fullFence() is paid instead, then the
 *   registration flags (and the high-water mark) are read again; the CAS goes ahead only if still none is set.
 *   Argument: a reader registers (a CAS of its slot's flag, then a CAS of the high-water mark) before its first
 *   enter, and each CAS is a full fence on the reader's side. Advancer: stores; fullFence; load flag = 0. Reader:
 *   CAS flag := 1 (full fence); ...; enter; loads. Both sides are fenced: a symmetric Dekker pattern. The advancer
 *   read 0 (or a high-water mark below the slot), so the reader's CAS is ordered after the advancer's fence, and
 *   every load the reader makes after it, the epoch for its pin included, sees what the advancer published before
 *   its fence; the reader cannot hold any reference that the advance would make reclaimable. A reader that
 *   deregistered (close: a release store of 0 after its last exit) is one whose pin is 0: nothing to wait for. So
 *   an allocator whose domain has no registered reader pays no membarrier. The flags are read after the fence: a
 *   flag read before it proves nothing.
 * - A reader may pin an epoch that is already one behind (it read e, the domain advanced to e + 1 before its store
 *   landed). tryAdvance then sees a pinned reader at e != e + 1 and refuses to move to e + 2, which is the rule.
 * - exit: release store of 0, read by tryAdvance's getLongVolatile: orders the reader's critical-section loads
 *   before the advance that lets a retired id be reused. No fence needed: it is a release, not a Dekker side.
 */
public final class EpochDomain
{
    /** Start times {@link #epochAgeNs} remembers: one every {@link #EPOCH_TIME_STRIDE} epochs. */
    static final int EPOCH_TIMES = 64;
    /**
     * Every how many epochs a start time is recorded: a {@code System.nanoTime()} call (about 20 ns here) on every
     * eighth advance, not on each (a small range's sweep advances twice).
     */
    static final int EPOCH_TIME_STRIDE = 8;
    private static final VarHandle EPOCH_TIMES_ARRAY = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

    private final UnsafeBuffer buffer;
    /**
     * The global epoch's native address: {@link #epoch()} is read on every retire, and a load through {@link #buffer}
     * first loads the buffer's address from the buffer object (a dependent load).
     */
    private final long epochAddress;
    private final int maxReaders;
    private volatile int lastHoldingBack;
    /**
     * When each epoch that is a multiple of {@link #EPOCH_TIME_STRIDE} began ({@code System.nanoTime()}), the last
     * {@link #EPOCH_TIMES} of them, epoch {@code e} at {@code (e / EPOCH_TIME_STRIDE) % EPOCH_TIMES}: a monitoring aid
     * ({@link #epochAgeNs}), written by an advance just before its CAS and read with opaque accesses; never read by
     * the grace logic.
     */
    private final long[] epochStartNs = new long[EPOCH_TIMES];

    /**
     * @param maxReaders most readers registered at once (each costs 128 bytes of native memory).
     */
    public EpochDomain(final int maxReaders)
    {
        EpochDescriptor.checkCapacity(maxReaders);
        this.maxReaders = maxReaders;
        this.buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(EpochDescriptor.lengthBytes(maxReaders), 128));
        buffer.putLongVolatile(EpochDescriptor.GLOBAL_EPOCH_OFFSET, 0L);
        this.epochAddress = buffer.addressOffset() + EpochDescriptor.GLOBAL_EPOCH_OFFSET;
        java.util.Arrays.fill(epochStartNs, System.nanoTime());
    }

    /** The global epoch (acquire load; pairs with the CAS in {@link #tryAdvance}). */
    public long epoch()
    {
        return UnsafeApi.getLongAcquire(null, epochAddress);
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
        int registered = 0;
        for (int i = 0; i < highWater; i++)
        {
            final int slotOffset = EpochDescriptor.slotOffset(i);
            final long pin = buffer.getLongVolatile(slotOffset + EpochDescriptor.PIN_OFFSET);
            if (0 != (pin & EpochDescriptor.PINNED) && pin != current)
            {
                holdingBack++;
            }
            registered |= buffer.getIntAcquire(slotOffset + EpochDescriptor.REGISTERED_OFFSET);
        }
        if (0 == holdingBack)
        {
            if (0 == registered)
            {
                // NOTE: no registered reader: a full fence, then the flags again (design notes); a reader that
                // registered meanwhile sends us to the heavy path.
                VarHandle.fullFence();
                if (anyRegistered())
                {
                    holdingBack = scanAfterHeavy(current, highWater);
                }
            }
            else
            {
                holdingBack = scanAfterHeavy(current, highWater);
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
        // NOTE: the start time before the CAS (opaque; the CAS's release orders it before the new epoch, and
        // epochAgeNs reads the slot after its acquire load of the epoch), so a reader never finds a new epoch with an
        // older epoch's time in its slot; a CAS that then fails (another advancer won) wrote about the winner's time: a
        // monitoring figure, not read by the grace logic. On every eighth advance (thousands of retires), not on the
        // retire path.
        if (0 == ((epoch + 1) & (EPOCH_TIME_STRIDE - 1)))
        {
            EPOCH_TIMES_ARRAY.setOpaque(epochStartNs, timeSlot(epoch + 1), System.nanoTime());
        }
        return buffer.compareAndSetLong(EpochDescriptor.GLOBAL_EPOCH_OFFSET, epoch, epoch + 1) ||
            epoch() != epoch;
    }

    /**
     * A lower bound on how long ago {@code epoch} began, in ns, and so on how long an id stamped with it has waited (the
     * stamp is read after the retire, so the retire happened in that epoch or before): the age of the first recorded
     * epoch at or after it (start times are kept for every {@link #EPOCH_TIME_STRIDE}-th epoch, the last {@link
     * #EPOCH_TIMES} of them; an older epoch gets the oldest one kept). 0 if no recorded epoch at or after it has begun
     * yet. For monitoring ({@link AllocatorCounts#oldestWaitNs()}); 0 B.
     */
    public long epochAgeNs(final long epoch)
    {
        final long current = epoch();
        final long oldestKept = Math.max(0, (current & -EPOCH_TIME_STRIDE) - (long)(EPOCH_TIMES - 1) * EPOCH_TIME_STRIDE);
        final long recorded = Math.max((Math.max(0, epoch) + EPOCH_TIME_STRIDE - 1) & -EPOCH_TIME_STRIDE, oldestKept);
        if (recorded > current)
        {
            return 0;
        }
        final long startNs = (long)EPOCH_TIMES_ARRAY.getOpaque(epochStartNs, timeSlot(recorded));
        return Math.max(0, System.nanoTime() - startNs);
    }

    private static int timeSlot(final long epoch)
    {
        return (int)((epoch / EPOCH_TIME_STRIDE) & (EPOCH_TIMES - 1));
    }

    /**
     * The heavy side of the pin protocol, then the scan that decides: pins stored before the barrier are visible now.
     *
     * @return the readers pinned to an epoch other than {@code current}.
     */
    private int scanAfterHeavy(final long current, final int highWaterBefore)
    {
        AsymmetricFence.heavy();
        // NOTE: the high-water mark is read again after the barrier: a reader that registered in a slot above the
        // first scan's mark and pinned is found here (its pin store is before the barrier or its loads after it).
        final int highWater = Math.max(highWaterBefore, buffer.getIntAcquire(EpochDescriptor.HIGH_WATER_OFFSET));
        int holdingBack = 0;
        for (int i = 0; i < highWater; i++)
        {
            final long pin = buffer.getLongVolatile(EpochDescriptor.slotOffset(i) + EpochDescriptor.PIN_OFFSET);
            if (0 != (pin & EpochDescriptor.PINNED) && pin != current)
            {
                holdingBack++;
            }
        }
        return holdingBack;
    }

    /**
     * Whether an advance now pays the heavy barrier ({@code membarrier}): the fence mode is
     * {@link AsymmetricFence.Mode#MEMBARRIER} and some reader is registered. A hint for pacing advances (loads of
     * the registration flags, O(slots)); {@link #tryAdvance} decides for itself.
     */
    public boolean advanceIsHeavy()
    {
        return AsymmetricFence.isAsymmetric() && anyRegistered();
    }

    /** Whether any reader slot is registered (read after the caller's full fence: the high-water mark, the flags). */
    private boolean anyRegistered()
    {
        final int highWater = buffer.getIntAcquire(EpochDescriptor.HIGH_WATER_OFFSET);
        for (int i = 0; i < highWater; i++)
        {
            if (0 != buffer.getIntAcquire(EpochDescriptor.slotOffset(i) + EpochDescriptor.REGISTERED_OFFSET))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * One reader's slot. Not thread-safe: one thread at a time uses it. Critical sections nest.
     */
    public final class Reader implements AutoCloseable
    {
        // NOTE: the reader's own pin word says whether it is inside (non-zero while pinned: pinWord sets bit 0); the
        // depth word (DEPTH_OFFSET) counts only the nested entries beyond the outermost one, so an outermost
        // enter/exit pair stores nothing but the pin word (two stores, the floor). Both live in the reader's own
        // 128-byte slot, not in this object: Reader objects of different threads may sit on one heap cache line.
        // NOTE: the hot path addresses its words directly (native addresses inside the domain's buffer, which this
        // inner object keeps reachable): no loads of the domain, the buffer and its fields after the light fence,
        // which is a compiler barrier over all memory and would make them reload.
        private final long pinAddress;
        private final long depthAddress;
        private final long epochAddress;
        private final int depthOffset;
        private final int slot;
        private boolean closed;

        Reader(final int slot)
        {
            this.slot = slot;
            this.pinAddress = buffer.addressOffset() + EpochDescriptor.slotOffset(slot) + EpochDescriptor.PIN_OFFSET;
            this.depthOffset = EpochDescriptor.slotOffset(slot) + EpochDescriptor.DEPTH_OFFSET;
            this.depthAddress = buffer.addressOffset() + depthOffset;
            this.epochAddress = EpochDomain.this.epochAddress; // NOTE: a copy in this object, as the note above says
            buffer.putInt(depthOffset, 0);
        }

        /** Enters a critical section (pins the current epoch on the outermost entry). Wait-free, 0 B. */
        public void enter()
        {
            if (closed)
            {
                throw new IllegalStateException("reader slot " + slot + " is closed; register a new reader");
            }
            // NOTE: a plain load of a word only this thread writes. It feeds only this (predicted) branch: a loop of
            // enter/exit is no chain of store-to-load forwards (with a depth counter stored on every enter and exit
            // the pair measured 5.7 ns here, 2.6 with constants stored, 2.4 with only the pin word stored, 1.55 with
            // direct addresses, against a 1.0 ns floor).
            if (0 == UnsafeApi.getLong(null, pinAddress))
            {
                // NOTE: opaque store + light fence = the reader's side of the asymmetric Dekker pattern (see the
                // design notes and AsymmetricFence's); the pin is read by tryAdvance via getLongVolatile after its
                // heavy barrier. The light fence keeps the store before every later load of the section. The epoch
                // load is acquire (it pairs with tryAdvance's CAS).
                UnsafeApi.putLongOpaque(null, pinAddress, EpochDescriptor.pinWord(UnsafeApi.getLongAcquire(null,
                    epochAddress)));
                AsymmetricFence.light();
            }
            else
            {
                UnsafeApi.putInt(null, depthAddress, UnsafeApi.getInt(null, depthAddress) + 1);
            }
        }

        /**
         * Leaves the critical section entered last.
         *
         * @throws IllegalStateException if the reader is not inside one; nothing is changed then.
         */
        public void exit()
        {
            final int nested = UnsafeApi.getInt(null, depthAddress);
            if (0 != nested)
            {
                UnsafeApi.putInt(null, depthAddress, nested - 1);
            }
            else if (0 != UnsafeApi.getLong(null, pinAddress))
            {
                // NOTE: release store, read by tryAdvance via getLongVolatile: the section's loads happen before.
                UnsafeApi.putLongRelease(null, pinAddress, 0L);
            }
            else
            {
                throw new IllegalStateException("exit of reader slot " + slot +
                    " without a matching enter (critical-section depth 0)");
            }
        }

        /** Whether this reader is inside a critical section. */
        public boolean isInside()
        {
            return 0 != UnsafeApi.getLong(null, pinAddress);
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
            if (isInside())
            {
                throw new IllegalStateException("reader slot " + slot + " closed inside a critical section (depth " +
                    (1 + buffer.getInt(depthOffset)) + ")");
            }
            closed = true;
            buffer.putIntRelease(EpochDescriptor.slotOffset(slot) + EpochDescriptor.REGISTERED_OFFSET, 0);
        }
    }
}
