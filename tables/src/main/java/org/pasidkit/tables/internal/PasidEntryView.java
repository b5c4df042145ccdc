package org.pasidkit.tables.internal;

/** A caller-owned, reusable copy of one PASID entry, filled by {@link PasidTable#snapshot}. Not thread-safe. */
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

    void clear()
    {
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
