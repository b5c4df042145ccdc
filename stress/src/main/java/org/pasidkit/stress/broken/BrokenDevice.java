package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.jctools.queues.MpscUnboundedArrayQueue;

/**
 * A copy of {@code org.pasidkit.tables.Device} for {@link BrokenPasidSpace} (whose package-private members the
 * broken copy cannot reach): requester id, PASID width, the PASID to bond-slot index (two levels, release/acquire),
 * the exit-event queue. Not broken itself.
 */
final class BrokenDevice
{
    static final int LEAF_SHIFT = 10;
    static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;
    private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(int[][].class);
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(int[].class);

    final int requesterId;
    final int pasidBits;
    /** True: exit events go to a listener (dropped here, as the tests' IGNORE does); false: they are queued. */
    final boolean listens;
    private final int[][] leaves;
    final MpscUnboundedArrayQueue<BrokenPasidSpace.ExitEvent> exitEvents = new MpscUnboundedArrayQueue<>(64);
    int firstBond;
    int bondCount;

    BrokenDevice(final int requesterId, final int pasidBits, final boolean listens, final int maxPasid)
    {
        this.requesterId = requesterId;
        this.pasidBits = pasidBits;
        this.listens = listens;
        final long top = Math.min((long)maxPasid, (1L << pasidBits) - 1);
        this.leaves = new int[(int)(top >>> LEAF_SHIFT) + 1][];
    }

    int maxPasid()
    {
        return (int)Math.min(Integer.MAX_VALUE, (1L << pasidBits) - 1);
    }

    int bondCount()
    {
        return bondCount;
    }

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

    void slot(final int pasid, final int slot)
    {
        final int index = pasid >>> LEAF_SHIFT;
        int[] leaf = leaves[index];
        if (null == leaf)
        {
            leaf = new int[1 << LEAF_SHIFT];
            LEAVES.setRelease(leaves, index, leaf);
        }
        SLOTS.setRelease(leaf, pasid & LEAF_MASK, slot);
    }

    @Override
    public String toString()
    {
        return String.format("%02x:%02x.%d", (requesterId >>> 8) & 0xFF, (requesterId >>> 3) & 0x1F, requesterId & 7);
    }
}
