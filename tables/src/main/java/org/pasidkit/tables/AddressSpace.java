package org.pasidkit.tables;

import java.util.Arrays;

/**
 * An address space (a process's mm) registered with a {@link PasidSpace}: the capability for its life-cycle calls.
 * Only the holder of this object binds devices to the address space ({@link PasidSpace#bind}), binds more devices
 * to its PASIDs ({@link PasidSpace#bindTo}) and ends it ({@link PasidSpace#exit}); the id names it for lookups
 * ({@link PasidSpace#pasidsOf}) but authorises nothing. Created by {@link PasidSpace#openAddressSpace}.
 * <p>
 * Threading: its fields are written under the space's control lock; {@code pasids} is copy-on-write and read
 * lock-free by {@link PasidSpace#pasidsOf} (volatile: the release of a new array, read by its acquire).
 */
public final class AddressSpace
{
    static final int[] EMPTY = new int[0];

    final PasidSpace space;
    final long mm;
    int sharedPasid;
    volatile int[] pasids = EMPTY;
    volatile boolean exited;
    /** After the exit: its PASIDs still in TEARDOWN (waiting for drivers); at 0 the id may be opened again. */
    int tearingDown;

    AddressSpace(final PasidSpace space, final long mm)
    {
        this.space = space;
        this.mm = mm;
    }

    /** The caller's id of this address space (e.g. the mm pointer); names it, authorises nothing. */
    public long id()
    {
        return mm;
    }

    /** Whether {@link PasidSpace#exit} was called: the object is then stale. */
    public boolean hasExited()
    {
        return exited;
    }

    void add(final int pasid)
    {
        final int[] next = Arrays.copyOf(pasids, pasids.length + 1);
        next[next.length - 1] = pasid;
        pasids = next;
    }

    void remove(final int pasid)
    {
        final int[] current = pasids;
        final int[] next = new int[current.length - 1];
        int n = 0;
        for (final int p : current)
        {
            if (p != pasid)
            {
                next[n++] = p;
            }
        }
        pasids = next;
    }

    boolean holds(final int pasid)
    {
        for (final int p : pasids)
        {
            if (p == pasid)
            {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString()
    {
        return "address space " + mm;
    }
}
