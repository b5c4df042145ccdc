package org.pasidkit.tables;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.jctools.queues.MpscUnboundedArrayQueue;

/**
 * A PCIe function as {@link PasidSpace} sees it: requester id (bus:dev.fn), its own PASID width, whether it has an
 * ATC (ATS), and its per-device PASID to bond-slot index (two levels, 1024 slots a leaf, on-heap int arrays, as a
 * device's own PASID table would be). Created by {@link PasidSpace#addDevice}.
 */
public final class Device
{
    static final int LEAF_SHIFT = 10;
    static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;
    private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(int[][].class);
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(int[].class);

    private final int requesterId;
    private final int pasidBits;
    private final boolean ats;
    private final ExitListener listener;
    private final int[][] leaves;
    final MpscUnboundedArrayQueue<ExitEvent> exitEvents = new MpscUnboundedArrayQueue<>(64);
    int firstBond;
    int bondCount;

    Device(final int requesterId, final int pasidBits, final boolean ats, final ExitListener listener,
        final int maxPasid)
    {
        this.requesterId = requesterId;
        this.pasidBits = pasidBits;
        this.ats = ats;
        this.listener = listener;
        final long top = Math.min((long)maxPasid, (1L << pasidBits) - 1);
        this.leaves = new int[(int)(top >>> LEAF_SHIFT) + 1][];
    }

    public int requesterId()
    {
        return requesterId;
    }

    /** PASID width: the device accepts PASIDs below {@code 2^pasidBits}. */
    public int pasidBits()
    {
        return pasidBits;
    }

    /** Highest PASID this device can carry. */
    public int maxPasid()
    {
        return (int)Math.min(Integer.MAX_VALUE, (1L << pasidBits) - 1);
    }

    /** Whether the device caches translations (ATS): it receives ATC invalidations. */
    public boolean ats()
    {
        return ats;
    }

    ExitListener listener()
    {
        return listener;
    }

    /** Bonds of this device now (written under the space's control lock). */
    public int bondCount()
    {
        return bondCount;
    }

    /** Reader: bond slot of {@code pasid} on this device, 0 if none. Lock-free, allocation-free. */
    int slotOf(final int pasid)
    {
        final int index = pasid >>> LEAF_SHIFT;
        if (index >= leaves.length)
        {
            return 0;
        }
        final int[] leaf = (int[])LEAVES.getAcquire(leaves, index);
        return null == leaf ? 0 : (int)SLOTS.getAcquire(leaf, pasid & LEAF_MASK);
    }

    /** Writer (control lock held): sets the bond slot of {@code pasid}. */
    void slot(final int pasid, final int slot)
    {
        final int index = pasid >>> LEAF_SHIFT;
        int[] leaf = leaves[index];
        if (null == leaf)
        {
            leaf = new int[1 << LEAF_SHIFT];
            // NOTE: release, read by slotOf via getAcquire.
            LEAVES.setRelease(leaves, index, leaf);
        }
        // NOTE: release, read by slotOf via getAcquire; the bond record was written before.
        SLOTS.setRelease(leaf, pasid & LEAF_MASK, slot);
    }

    @Override
    public String toString()
    {
        return String.format("%02x:%02x.%d", (requesterId >>> 8) & 0xFF, (requesterId >>> 3) & 0x1F, requesterId & 7);
    }
}
