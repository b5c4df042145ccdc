package org.pasidkit.tables;

import org.pasidkit.allocator.AllocatorCounts;

/** Counts of a {@link PasidSpace}, filled by {@link PasidSpace#counts}. */
public final class PasidSpaceCounts
{
    final AllocatorCounts allocator = new AllocatorCounts();
    int activePasids;
    int teardownPasids;
    int bonds;
    int addressSpaces;
    int owners;
    long foreignOwnerRefusals;
    long suppressedFaults;
    long exitEvents;
    long tableNativeBytes;
    int tableLeaves;
    int driverDataLeaves;
    long driverDataHeapBytes;

    /** An empty snapshot, to fill (and refill) with {@link PasidSpace#counts}. */
    public PasidSpaceCounts()
    {
    }

    public AllocatorCounts allocator()
    {
        return allocator;
    }

    /** PASIDs live (ACTIVE). */
    public int activePasids()
    {
        return activePasids;
    }

    /** PASIDs whose owner went away and that wait for drivers to unbind (a stuck driver shows here). */
    public int teardownPasids()
    {
        return teardownPasids;
    }

    public int bonds()
    {
        return bonds;
    }

    public int addressSpaces()
    {
        return addressSpaces;
    }

    public int owners()
    {
        return owners;
    }

    public long foreignOwnerRefusals()
    {
        return foreignOwnerRefusals;
    }

    public long suppressedFaults()
    {
        return suppressedFaults;
    }

    public long exitEvents()
    {
        return exitEvents;
    }

    /** Native bytes of the PASID table (directory + leaves) and the bond table. */
    public long tableNativeBytes()
    {
        return tableNativeBytes;
    }

    /** Leaves of the PASID table (4 KiB native each, 64 PASIDs). */
    public int tableLeaves()
    {
        return tableLeaves;
    }

    /** Leaves of the devices' driver-data indexes (256 references each, on-heap). */
    public int driverDataLeaves()
    {
        return driverDataLeaves;
    }

    /**
     * On-heap bytes of the devices' driver-data indexes (directories and leaves), assuming compressed references;
     * the data objects themselves are the drivers' and not counted.
     */
    public long driverDataHeapBytes()
    {
        return driverDataHeapBytes;
    }

    @Override
    public String toString()
    {
        return "active=" + activePasids + " teardown=" + teardownPasids + " bonds=" + bonds + " addressSpaces=" +
            addressSpaces + " owners=" + owners + " foreignRefusals=" + foreignOwnerRefusals + " suppressedFaults=" +
            suppressedFaults + " exitEvents=" + exitEvents + " tableNativeBytes=" + tableNativeBytes + " driverDataHeapBytes=" + driverDataHeapBytes +
            " allocator[" + allocator + "]";
    }
}
