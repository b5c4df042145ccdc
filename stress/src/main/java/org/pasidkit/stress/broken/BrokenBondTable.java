package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static org.pasidkit.tables.internal.BondDescriptor.*;

/**
 * BROKEN on purpose: {@code org.pasidkit.tables.internal.BondTable}'s writer (add, remove) with two broken readers.
 * Reduced to one chunk of slots allocated up front, sized to the capacity (the race is inside one slot).
 * <ul>
 *   <li>{@link #driverDataNoKeyCheck}: the seq-validated read of the slot, but the key is not compared: the lookup by
 *       slot index alone that the key exists to prevent. A reused slot returns the next bond's data.</li>
 *   <li>{@link #driverDataNoSeq}: compares the key but reads key and data without the sequence word: the key can be
 *       read before the slot was reused and the data after.</li>
 * </ul>
 */
public final class BrokenBondTable
{
    private static final VarHandle DRVDATA = MethodHandles.arrayElementVarHandle(Object[].class);

    private final UnsafeBuffer records;
    private final Object[] drvdata;
    private final int[] freeSlots;
    private int freeCount;

    public BrokenBondTable(final int capacity)
    {
        checkCapacity(capacity);
        this.records = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * RECORD_LENGTH, 64));
        this.drvdata = new Object[capacity];
        this.freeSlots = new int[capacity - 1];
        for (int slot = capacity - 1; slot >= 1; slot--)
        {
            freeSlots[freeCount++] = slot;
        }
    }

    public int add(final int pasid, final int requesterId, final Object data, final int nextOfPasid,
        final int nextOfDevice)
    {
        if (0 == freeCount)
        {
            return -1;
        }
        final int slot = freeSlots[--freeCount];
        final int offset = offset(slot);
        beginWrite(offset);
        records.putLong(offset + KEY_OFFSET, key(pasid, requesterId));
        records.putInt(offset + NEXT_OF_PASID_OFFSET, nextOfPasid);
        records.putInt(offset + NEXT_OF_DEVICE_OFFSET, nextOfDevice);
        records.putInt(offset + FLAGS_OFFSET, 0);
        DRVDATA.setRelease(drvdata, slot, data);
        endWrite(offset);
        return slot;
    }

    public void remove(final int slot)
    {
        final int offset = offset(slot);
        beginWrite(offset);
        records.putLong(offset + KEY_OFFSET, 0);
        DRVDATA.setRelease(drvdata, slot, (Object)null);
        endWrite(offset);
        freeSlots[freeCount++] = slot;
    }

    /** BROKEN: seq-validated, but returns the slot's data whatever bond the slot holds now. */
    public Object driverDataNoKeyCheck(final int slot, final long key)
    {
        final int offset = offset(slot);
        while (true)
        {
            final long seq = records.getLongAcquire(offset + SEQ_OFFSET);
            if (0 == (seq & 1))
            {
                final Object data = DRVDATA.getOpaque(drvdata, slot);
                VarHandle.loadLoadFence();
                if (records.getLongAcquire(offset + SEQ_OFFSET) == seq)
                {
                    return data; // BROKEN: production returns data only if the slot's key is the one asked for
                }
            }
            Thread.onSpinWait();
        }
    }

    /** BROKEN: compares the key, but nothing ties the data load to the key load (no sequence word). */
    public Object driverDataNoSeq(final int slot, final long key)
    {
        final long slotKey = records.getLongAcquire(offset(slot) + KEY_OFFSET);
        final Object data = DRVDATA.getAcquire(drvdata, slot);
        return slotKey == key ? data : null;
    }

    private void beginWrite(final int offset)
    {
        records.putLongOpaque(offset + SEQ_OFFSET, records.getLong(offset + SEQ_OFFSET) + 1);
        VarHandle.storeStoreFence();
    }

    private void endWrite(final int offset)
    {
        records.putLongRelease(offset + SEQ_OFFSET, records.getLong(offset + SEQ_OFFSET) + 1);
    }
}
