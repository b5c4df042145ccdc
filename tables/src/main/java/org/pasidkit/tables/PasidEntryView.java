package org.pasidkit.tables;

import org.pasidkit.tables.internal.PasidTableDescriptor;

/**
 * A caller-owned, reusable copy of one PASID entry, filled by {@link PasidSpace#entry} (a seqlock-consistent
 * snapshot of the off-heap entry). Not thread-safe.
 */
public final class PasidEntryView
{
    int pasid;
    int state;
    int flags;
    int generation;
    long owner;
    long root;
    int bondCount;
    int firstBond;
    long retireEpoch;
    long suppressedFaults;

    /** Creates an empty view (INVALID) to pass to {@link PasidSpace#entry}. */
    public PasidEntryView()
    {
        state = PasidTableDescriptor.STATE_INVALID;
    }

    /**
     * Fills the view: called by the PASID table with the fields of one consistent read. Callers of
     * {@link PasidSpace#entry} only read the view.
     */
    public void set(final int pasid, final int state, final int flags, final int generation, final long owner,
        final long root, final int bondCount, final int firstBond, final long retireEpoch, final long suppressedFaults)
    {
        this.pasid = pasid;
        this.state = state;
        this.flags = flags;
        this.generation = generation;
        this.owner = owner;
        this.root = root;
        this.bondCount = bondCount;
        this.firstBond = firstBond;
        this.retireEpoch = retireEpoch;
        this.suppressedFaults = suppressedFaults;
    }

    /** Empties the view for {@code pasid}: an entry never used (INVALID). Called by the PASID table. */
    public void clear(final int pasid)
    {
        this.pasid = pasid;
        state = PasidTableDescriptor.STATE_INVALID;
        flags = 0;
        generation = 0;
        owner = 0;
        root = 0;
        bondCount = 0;
        firstBond = 0;
        retireEpoch = 0;
        suppressedFaults = 0;
    }

    public int pasid()
    {
        return pasid;
    }

    public int state()
    {
        return state;
    }

    public int flags()
    {
        return flags;
    }

    public int generation()
    {
        return generation;
    }

    public long owner()
    {
        return owner;
    }

    public long root()
    {
        return root;
    }

    public int bondCount()
    {
        return bondCount;
    }

    public int firstBond()
    {
        return firstBond;
    }

    public long retireEpoch()
    {
        return retireEpoch;
    }

    public long suppressedFaults()
    {
        return suppressedFaults;
    }

    public boolean faultsOn()
    {
        return 0 != (flags & PasidTableDescriptor.FLAG_FAULTS_ON);
    }

    @Override
    public String toString()
    {
        return "pasid=" + pasid + " state=" + PasidTableDescriptor.stateName(state) + " gen=" + generation +
            " flags=" + flags + " owner=" + owner + " root=" + root + " bonds=" + bondCount;
    }
}
