package org.pasidkit.tables.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static org.pasidkit.tables.internal.BondDescriptor.*;

/**
 * Bond slots: (PASID, device) records off-heap (layout: {@link BondDescriptor}) and the drivers' data objects
 * on-heap, indexed by slot.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one writer at a time (the caller's control lock); readers from any thread.</li>
 *   <li>Progress: {@link #driverData} is lock-free and allocation-free: it retries only while the writer is inside
 *       that very slot.</li>
 *   <li>A reader never returns another bond's data: it reads the slot's seq, the key and the object, then the seq
 *       again, and accepts only an even, unchanged seq and the key it asked for. A slot may be reused at once
 *       after unbind; the seq makes that harmless.</li>
 * </ul>
 * <p>
 * {@code PasidSpace}'s lookups by (PASID, device) do not come here: they read the device's {@link DriverDataCells}
 * (one load, no seq). The records serve the bond lists (bondsOf, teardown, exit events); {@link #driverData} is the
 * slot-keyed lookup for a caller that holds a slot.
 */
public final class BondTable
{
    private static final VarHandle DRVDATA = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle CHUNKS = MethodHandles.arrayElementVarHandle(UnsafeBuffer[].class);
    private static final int CHUNK_SHIFT = 12;
    private static final int CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

    /** Records in chunks of 4096 slots (128 KiB), allocated the first time a slot of the chunk is used. */
    private final UnsafeBuffer[] chunks;
    private int chunkCount;
    private final Object[] drvdata;
    /**
     * Per slot, the previous bond of the same device (0: the device's first): on-heap, read and written by the
     * writer only (under the control lock), so that an unbind unlinks from the device's list in O(1). Readers never
     * walk device lists.
     */
    private final int[] prevOfDevice;
    private final int[] freeSlots;
    private int freeCount;

    public BondTable(final int capacity)
    {
        checkCapacity(capacity);
        this.chunks = new UnsafeBuffer[(capacity + CHUNK_MASK) >>> CHUNK_SHIFT];
        this.drvdata = new Object[capacity];
        this.prevOfDevice = new int[capacity];
        this.freeSlots = new int[capacity - 1];
        for (int slot = capacity - 1; slot >= 1; slot--)
        {
            freeSlots[freeCount++] = slot;
        }
    }

    public int capacity()
    {
        return drvdata.length;
    }

    public int used()
    {
        return drvdata.length - 1 - freeCount;
    }

    /** Writer: takes a free slot and fills it; -1 if the table is full (nothing changed). */
    public int add(final int pasid, final int requesterId, final Object data, final int nextOfPasid,
        final int nextOfDevice)
    {
        if (0 == freeCount)
        {
            return -1;
        }
        final int slot = freeSlots[--freeCount];
        final UnsafeBuffer records = chunkForWrite(slot);
        final int offset = offset(slot);
        beginWrite(records, offset);
        records.putLong(offset + KEY_OFFSET, BondDescriptor.key(pasid, requesterId));
        records.putInt(offset + NEXT_OF_PASID_OFFSET, nextOfPasid);
        records.putInt(offset + NEXT_OF_DEVICE_OFFSET, nextOfDevice);
        records.putInt(offset + FLAGS_OFFSET, 0);
        DRVDATA.setRelease(drvdata, slot, data);
        endWrite(records, offset);
        return slot;
    }

    /** Writer: frees a slot. */
    public void remove(final int slot)
    {
        final UnsafeBuffer records = chunks[slot >>> CHUNK_SHIFT];
        final int offset = offset(slot);
        beginWrite(records, offset);
        records.putLong(offset + KEY_OFFSET, 0);
        DRVDATA.setRelease(drvdata, slot, (Object)null);
        endWrite(records, offset);
        freeSlots[freeCount++] = slot;
    }

    /** Writer: relinks a slot's next-of-PASID pointer. */
    public void nextOfPasid(final int slot, final int next)
    {
        final UnsafeBuffer records = chunks[slot >>> CHUNK_SHIFT];
        final int offset = offset(slot);
        beginWrite(records, offset);
        records.putInt(offset + NEXT_OF_PASID_OFFSET, next);
        endWrite(records, offset);
    }

    /** Writer only: the previous bond of the slot's device, 0 if the slot is the device's first. */
    public int prevOfDevice(final int slot)
    {
        return prevOfDevice[slot];
    }

    /** Writer only: sets the previous bond of the slot's device. */
    public void prevOfDevice(final int slot, final int prev)
    {
        prevOfDevice[slot] = prev;
    }

    /** Writer: relinks a slot's next-of-device pointer. */
    public void nextOfDevice(final int slot, final int next)
    {
        final UnsafeBuffer records = chunks[slot >>> CHUNK_SHIFT];
        final int offset = offset(slot);
        beginWrite(records, offset);
        records.putInt(offset + NEXT_OF_DEVICE_OFFSET, next);
        endWrite(records, offset);
    }

    public void flags(final int slot, final int flags)
    {
        chunks[slot >>> CHUNK_SHIFT].putIntRelease(offset(slot) + FLAGS_OFFSET, flags);
    }

    public int flags(final int slot)
    {
        return chunk(slot).getIntAcquire(offset(slot) + FLAGS_OFFSET);
    }

    public int nextOfPasid(final int slot)
    {
        return chunk(slot).getIntAcquire(offset(slot) + NEXT_OF_PASID_OFFSET);
    }

    public int nextOfDevice(final int slot)
    {
        return chunk(slot).getIntAcquire(offset(slot) + NEXT_OF_DEVICE_OFFSET);
    }

    public long key(final int slot)
    {
        return chunk(slot).getLongAcquire(offset(slot) + KEY_OFFSET);
    }

    /** Writer-side read of a slot's data object. */
    public Object drvdataOf(final int slot)
    {
        return DRVDATA.getAcquire(drvdata, slot);
    }

    /**
     * Reader: the data object of {@code slot} if it still holds the bond {@code key}; null otherwise.
     * Lock-free, allocation-free.
     */
    public Object driverData(final int slot, final long key)
    {
        final UnsafeBuffer records = chunk(slot);
        final int offset = offset(slot);
        while (true)
        {
            final long seq = records.getLongAcquire(offset + SEQ_OFFSET);
            if (0 == (seq & 1))
            {
                final long slotKey = records.getLongOpaque(offset + KEY_OFFSET);
                final Object data = DRVDATA.getOpaque(drvdata, slot);
                // NOTE: the key and data loads must not move after the second seq load.
                VarHandle.loadLoadFence();
                if (records.getLongAcquire(offset + SEQ_OFFSET) == seq)
                {
                    return slotKey == key ? data : null;
                }
            }
            Thread.onSpinWait();
        }
    }

    private UnsafeBuffer chunk(final int slot)
    {
        return (UnsafeBuffer)CHUNKS.getAcquire(chunks, slot >>> CHUNK_SHIFT);
    }

    private UnsafeBuffer chunkForWrite(final int slot)
    {
        final int index = slot >>> CHUNK_SHIFT;
        UnsafeBuffer chunk = chunks[index];
        if (null == chunk)
        {
            chunk = new UnsafeBuffer(BufferUtil.allocateDirectAligned((CHUNK_MASK + 1) * RECORD_LENGTH, 64));
            // NOTE: release, read by chunk() via getAcquire: a reader only reaches a slot through a device index
            // entry published after this.
            CHUNKS.setRelease(chunks, index, chunk);
            chunkCount++;
        }
        return chunk;
    }

    private static void beginWrite(final UnsafeBuffer records, final int offset)
    {
        records.putLongOpaque(offset + SEQ_OFFSET, records.getLong(offset + SEQ_OFFSET) + 1);
        // NOTE: odd seq visible before the field stores (read by driverData's second seq load).
        VarHandle.storeStoreFence();
    }

    private static void endWrite(final UnsafeBuffer records, final int offset)
    {
        // NOTE: release, read by driverData via getLongAcquire.
        records.putLongRelease(offset + SEQ_OFFSET, records.getLong(offset + SEQ_OFFSET) + 1);
    }

    public long nativeBytes()
    {
        return (long)chunkCount * (CHUNK_MASK + 1) * RECORD_LENGTH;
    }
}
