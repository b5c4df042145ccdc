package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Copy of {@code org.pasidkit.tables.internal.RequesterIdLists} (one leaf, no pool) with one step removed: the new
 * list is published (still a release store) BEFORE it is filled, so a reader can get a list whose elements are still
 * 0 or only partly copied. Used by {@link BrokenRequesterIdListsTests}.
 */
public final class BrokenRequesterIdLists
{
    static final int[] NONE = new int[0];
    private static final VarHandle LISTS = MethodHandles.arrayElementVarHandle(int[][].class);

    private final int[][] leaf = new int[64][];

    public int[] of(final int pasid)
    {
        final int[] list = (int[])LISTS.getAcquire(leaf, pasid);
        return null == list ? NONE : list;
    }

    public void add(final int pasid, final int requesterId)
    {
        final int[] old = leaf[pasid];
        final int oldLength = null == old ? 0 : old.length;
        final int[] list = new int[oldLength + 1];
        // BUG: published first, filled after.
        LISTS.setRelease(leaf, pasid, list);
        if (oldLength > 0)
        {
            System.arraycopy(old, 0, list, 1, oldLength);
        }
        list[0] = requesterId;
    }

    public boolean remove(final int pasid, final int requesterId)
    {
        final int[] old = leaf[pasid];
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
        if (1 == old.length)
        {
            LISTS.setRelease(leaf, pasid, null);
            return true;
        }
        final int[] list = new int[old.length - 1];
        // BUG: published first, filled after.
        LISTS.setRelease(leaf, pasid, list);
        System.arraycopy(old, 0, list, 0, at);
        System.arraycopy(old, at + 1, list, at, old.length - 1 - at);
        return true;
    }

    @Override
    public String toString()
    {
        return Arrays.deepToString(leaf);
    }
}
