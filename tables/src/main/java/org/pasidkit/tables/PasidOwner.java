package org.pasidkit.tables;

import org.agrona.collections.IntHashSet;

/**
 * A standalone owner of PASIDs (a GPU VM context, an open file, a guest): PASIDs with no address space behind them
 * whose lifetime ends when the owner is closed (the FD-lifetime model). The object is the capability: only calls
 * that present it can free, attach or close its PASIDs. Created by {@link PasidSpace#openOwner}.
 */
public final class PasidOwner
{
    final PasidSpace space;
    final long id;
    final String name;
    final int quota;
    final IntHashSet pasids = new IntHashSet();
    volatile boolean closed;

    PasidOwner(final PasidSpace space, final long id, final String name, final int quota)
    {
        this.space = space;
        this.id = id;
        this.name = name;
        this.quota = quota;
    }

    public long id()
    {
        return id;
    }

    public String name()
    {
        return name;
    }

    public int quota()
    {
        return quota;
    }

    public boolean isClosed()
    {
        return closed;
    }

    /** Owner key as stored in PASID entries: negative for standalone owners, address-space ids are {@code >= 0}. */
    long key()
    {
        return -id;
    }

    @Override
    public String toString()
    {
        return "owner " + id + " (" + name + ")";
    }
}
