package org.pasidkit.tables.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One device's driver-data index: PASID -&gt; the driver's data object of the bond (PASID, that device), as a
 * two-level on-heap radix table of object references (objects cannot live off-heap). Static methods over a raw
 * {@code Object[][]} directory, so the lookup is two dependent array loads from the directory and nothing else.
 * <pre>
 *   directory: Object[(maxPasid &gt;&gt;&gt; LEAF_SHIFT) + 1]       leaf: Object[LEAF_LENGTH] (256 references)
 *   +-----------------------------+                         +-----------------------------------------------+
 *   | leaf for PASIDs [0, 255]    | ----------------------&gt; | cell 0 | cell 1 | ...               | cell 255  |
 *   | null: none of them bound    |                         +-----------------------------------------------+
 *   +-----------------------------+
 *   cell: null = no bond; NULL_DRVDATA = bound with a null data object; anything else = the bond's data object.
 * </pre>
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one writer at a time (the caller's control lock); readers from any thread.</li>
 *   <li>Progress: {@link #cell} is wait-free (two acquire loads, no retry) and allocation-free. Writers allocate a
 *       leaf the first time one of its PASIDs is bound on the device and keep it after.</li>
 *   <li>Publication: a leaf is published by a release store of its directory slot, read by {@link #cell} via
 *       {@code getAcquire}; a cell is written with a release store ({@link #publish}, {@link #clear}), read by
 *       {@link #cell} via {@code getAcquire}: a reader that sees a data object sees everything the writer did
 *       before publishing it (the object's fields, and in {@code PasidSpace} the entry's activation).</li>
 *   <li>Invariant: a cell holds the data of the bond (PASID, device) that exists now, or null. A cell is one
 *       reference, so a read is atomic and linearizes at its load: it can never mix two bonds.</li>
 * </ul>
 */
public final class DriverDataCells
{
    public static final int LEAF_SHIFT = 8;
    public static final int LEAF_LENGTH = 1 << LEAF_SHIFT;
    public static final int LEAF_MASK = LEAF_LENGTH - 1;

    /** What a cell holds for a bond made with a null data object (so that "bound" and "not bound" differ). */
    public static final Object NULL_DRVDATA = new Object()
    {
        @Override
        public String toString()
        {
            return "NULL_DRVDATA";
        }
    };

    private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(Object[][].class);
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(Object[].class);

    private DriverDataCells()
    {
    }

    /** A directory for PASIDs {@code [0, maxPasid]}, every leaf absent. */
    public static Object[][] newDirectory(final int maxPasid)
    {
        if (maxPasid < 0)
        {
            throw new IllegalArgumentException("max PASID " + maxPasid + " must be >= 0");
        }
        return new Object[(maxPasid >>> LEAF_SHIFT) + 1][];
    }

    /**
     * Reader: the raw cell of {@code pasid}: null (no bond), {@link #NULL_DRVDATA} (bound with null data), or the
     * data object. Any int is accepted: a negative or too large PASID has no bond. Wait-free, allocation-free.
     */
    public static Object cell(final Object[][] directory, final int pasid)
    {
        // NOTE: >>> makes a negative PASID huge, so one unsigned bound check covers both ends.
        final int index = pasid >>> LEAF_SHIFT;
        if (index >= directory.length)
        {
            return null;
        }
        final Object[] leaf = (Object[])LEAVES.getAcquire(directory, index);
        return null == leaf ? null : CELLS.getAcquire(leaf, pasid & LEAF_MASK);
    }

    /** Reader: the data object of the cell's bond, null if none (or bound with null data). */
    public static Object unwrap(final Object cell)
    {
        return NULL_DRVDATA == cell ? null : cell;
    }

    /**
     * Writer: records the bond's data object ({@code null} is recorded as {@link #NULL_DRVDATA}).
     *
     * @return true if this allocated a new leaf.
     */
    public static boolean publish(final Object[][] directory, final int pasid, final Object drvdata)
    {
        final int index = pasid >>> LEAF_SHIFT;
        Object[] leaf = directory[index];
        boolean allocated = false;
        if (null == leaf)
        {
            leaf = new Object[LEAF_LENGTH];
            // NOTE: release, read by cell() via getAcquire: the zeroed leaf is seen whole.
            LEAVES.setRelease(directory, index, leaf);
            allocated = true;
        }
        // NOTE: release, read by cell() via getAcquire: the data object and every store before are seen with it.
        CELLS.setRelease(leaf, pasid & LEAF_MASK, null == drvdata ? NULL_DRVDATA : drvdata);
        return allocated;
    }

    /** Writer: the bond is gone; the leaf stays. */
    public static void clear(final Object[][] directory, final int pasid)
    {
        final Object[] leaf = directory[pasid >>> LEAF_SHIFT];
        if (null != leaf)
        {
            // NOTE: release, read by cell() via getAcquire.
            CELLS.setRelease(leaf, pasid & LEAF_MASK, (Object)null);
        }
    }

    /**
     * Heap bytes of {@code directorySlots} directory references and {@code leaves} leaves, assuming compressed
     * references (4 bytes) and a 16-byte array header (the default 64-bit HotSpot layout below 32 GiB of heap).
     */
    public static long heapBytes(final long directorySlots, final long leaves)
    {
        return directorySlots * 4 + leaves * (16 + 4L * LEAF_LENGTH);
    }

    /** Writer-side: whether {@code pasid} has a bond in this directory. */
    public static boolean isBound(final Object[][] directory, final int pasid)
    {
        final int index = pasid >>> LEAF_SHIFT;
        if (index >= directory.length)
        {
            return false;
        }
        final Object[] leaf = directory[index];
        return null != leaf && null != leaf[pasid & LEAF_MASK];
    }
}
