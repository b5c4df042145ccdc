package org.pasidkit.tables.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Per PASID, the requester ids of every device bound to it, as a copy-on-write {@code int[]}: the invalidation fan-out
 * reads one array per PASID instead of walking the PASID's bond list under the entry's seq window. Two-level on-heap
 * radix table, leaves made lazily.
 * <pre>
 *   directory: int[(maxPasid &gt;&gt;&gt; LEAF_SHIFT) + 1][][]      leaf: int[LEAF_LENGTH][] (1024 references)
 *   +-----------------------------+                         +-----------------------------------------------+
 *   | leaf for PASIDs [0, 1023]   | ----------------------&gt; | list 0 | list 1 | ...              | list 1023  |
 *   | null: none of them bound    |                         +-----------------------------------------------+
 *   +-----------------------------+
 *   list: null = no bond; otherwise an immutable int[] of the bound requester ids, newest first, never empty.
 * </pre>
 * Lists are interned: the writer takes a new list from a direct-mapped pool of lists by content (an equal list made
 * before is reused, being immutable; a different one in its pool slot is replaced), so that binds and unbinds that
 * come back to sets of devices seen before allocate nothing (0 B/op on a warmed table, as the rest of the bind path).
 * Several PASIDs may share one list.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one writer at a time ({@link #add}, {@link #remove}: the caller's control lock); readers
 *       ({@link #of}) from any thread.</li>
 *   <li>Progress: {@link #of} is wait-free (two acquire loads, no retry) and allocation-free. {@link #add} and
 *       {@link #remove} allocate only a list whose content is not in the pool (and a leaf the first time one of its
 *       PASIDs is bound).</li>
 *   <li>Publication: a list is filled completely with plain stores and then published by a release store of its
 *       leaf slot ({@link #add}, {@link #remove}), read by {@link #of} via {@code getAcquire}; a published array is
 *       never written again. A leaf is published the same way (release of the directory slot, acquire in
 *       {@link #of}).</li>
 *   <li>Linearization: {@link #add} and {@link #remove} at the release store of the new list; {@link #of} at its
 *       acquire load of the list. A reader therefore sees the list before or after a change, whole: never a
 *       half-copied array, never a mix of two lists (jcstress: {@code RequesterIdListsTests}).</li>
 * </ul>
 */
public final class RequesterIdLists
{
    public static final int LEAF_SHIFT = 10;
    public static final int LEAF_LENGTH = 1 << LEAF_SHIFT;
    public static final int LEAF_MASK = LEAF_LENGTH - 1;
    /** What {@link #of} returns for a PASID with no bond (shared, length 0). */
    public static final int[] NONE = new int[0];

    private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(int[][][].class);
    private static final VarHandle LISTS = MethodHandles.arrayElementVarHandle(int[][].class);

    /** Pool slots (a power of two): writer only. */
    private static final int POOL_LENGTH = 1 << 12;

    private final int[][][] directory;
    /** Interned lists by content hash, direct-mapped (writer only, under the caller's lock). */
    private final int[][] pool = new int[POOL_LENGTH][];
    /** The writer's scratch list (writer only); grows, never shrinks. */
    private int[] scratch = new int[16];

    /** Lists for PASIDs {@code [0, maxPasid]}, all empty. */
    public RequesterIdLists(final int maxPasid)
    {
        if (maxPasid < 0 || maxPasid > (1 << 20) - 1)
        {
            throw new IllegalArgumentException("max PASID " + maxPasid + " must be in [0, 2^20 - 1]");
        }
        directory = new int[(maxPasid >>> LEAF_SHIFT) + 1][][];
    }

    /**
     * Reader: the requester ids bound to {@code pasid} (newest first), {@link #NONE} if none or out of range. The
     * array is shared and immutable: never write to it. Wait-free, allocation-free.
     */
    public int[] of(final int pasid)
    {
        final int leafIndex = pasid >>> LEAF_SHIFT;
        if (pasid < 0 || leafIndex >= directory.length)
        {
            return NONE;
        }
        // NOTE: acquire, pairs with the setRelease of the leaf in add: the leaf's (null) slots are seen initialized.
        final int[][] leaf = (int[][])LEAVES.getAcquire(directory, leafIndex);
        if (null == leaf)
        {
            return NONE;
        }
        // NOTE: acquire, pairs with the setRelease in add/remove: the list's elements were written before it.
        final int[] list = (int[])LISTS.getAcquire(leaf, pasid & LEAF_MASK);
        return null == list ? NONE : list;
    }

    /** Writer (control lock): adds {@code requesterId} to the list of {@code pasid}, first. */
    public void add(final int pasid, final int requesterId)
    {
        final int leafIndex = pasid >>> LEAF_SHIFT;
        int[][] leaf = directory[leafIndex];
        if (null == leaf)
        {
            leaf = new int[LEAF_LENGTH][];
            // NOTE: release, read by of() via getAcquire.
            LEAVES.setRelease(directory, leafIndex, leaf);
        }
        final int[] old = leaf[pasid & LEAF_MASK];
        final int oldLength = null == old ? 0 : old.length;
        final int[] scratch = scratch(oldLength + 1);
        scratch[0] = requesterId;
        if (oldLength > 0)
        {
            System.arraycopy(old, 0, scratch, 1, oldLength);
        }
        final int[] list = intern(scratch, oldLength + 1);
        // NOTE: copy-on-write: every element of the list was written before this release store (a pooled list
        // when it was made), read by of() via getAcquire; a list is never written again.
        LISTS.setRelease(leaf, pasid & LEAF_MASK, list);
    }

    /**
     * Writer (control lock): removes {@code requesterId} from the list of {@code pasid}; the last one removed leaves
     * the PASID with no list (a reused PASID starts empty).
     *
     * @return false if it was not in the list (nothing changed).
     */
    public boolean remove(final int pasid, final int requesterId)
    {
        final int leafIndex = pasid >>> LEAF_SHIFT;
        final int[][] leaf = leafIndex < directory.length ? directory[leafIndex] : null;
        final int[] old = null == leaf ? null : leaf[pasid & LEAF_MASK];
        if (null == old)
        {
            return false;
        }
        int at = 0;
        while (at < old.length && old[at] != requesterId)
        {
            at++;
        }
        if (at == old.length)
        {
            return false;
        }
        final int[] list;
        if (1 == old.length)
        {
            list = null;
        }
        else
        {
            final int[] scratch = scratch(old.length - 1);
            System.arraycopy(old, 0, scratch, 0, at);
            System.arraycopy(old, at + 1, scratch, at, old.length - 1 - at);
            list = intern(scratch, old.length - 1);
        }
        // NOTE: copy-on-write: every element above is written before this release store, read by of() via
        // getAcquire.
        LISTS.setRelease(leaf, pasid & LEAF_MASK, list);
        return true;
    }

    private int[] scratch(final int length)
    {
        if (scratch.length < length)
        {
            scratch = new int[Math.max(length, scratch.length * 2)];
        }
        return scratch;
    }

    /** The pooled list equal to {@code list[0, length)}, made (a fresh, complete copy) and pooled if absent. */
    private int[] intern(final int[] list, final int length)
    {
        int hash = length;
        for (int i = 0; i < length; i++)
        {
            hash = 31 * hash + list[i];
        }
        hash ^= hash >>> 16;
        final int index = (hash * 0x9E3779B9) >>> (32 - Integer.numberOfTrailingZeros(POOL_LENGTH));
        final int[] pooled = pool[index];
        if (null != pooled && Arrays.equals(pooled, 0, pooled.length, list, 0, length))
        {
            return pooled;
        }
        final int[] made = Arrays.copyOf(list, length);
        pool[index] = made;
        return made;
    }
}
