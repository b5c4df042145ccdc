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
    final long[] refusals = new long[RefusalKind.VALUES.length];
    int stuckBonds;
    long oldestStuckWaitNs;
    long revocations;
    int pendingRevocationFlushes;
    long failedRevocationFlushes;
    long devicesRemoved;
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

    /** Life-cycle calls refused for {@code kind} (a foreign, forged, stale or revoked capability). */
    public long refusals(final RefusalKind kind)
    {
        return refusals[kind.ordinal()];
    }

    /** Life-cycle calls refused, every kind. */
    public long refusals()
    {
        long sum = 0;
        for (final long n : refusals)
        {
            sum += n;
        }
        return sum;
    }

    /** Bonds waiting for their driver's unbind after their PASID's owner went away. */
    public int stuckBonds()
    {
        return stuckBonds;
    }

    /** How long the oldest stuck bond has waited (0 if none). */
    public long oldestStuckWaitNs()
    {
        return oldestStuckWaitNs;
    }

    /** Bonds revoked (unbind deadline missed, or device removed). */
    public long revocations()
    {
        return revocations;
    }

    /** Revoked bonds whose ATC flush has not completed yet: their PASIDs stay held. */
    public int pendingRevocationFlushes()
    {
        return pendingRevocationFlushes;
    }

    /** Revocation flushes that did not complete (timeout), each retried later. */
    public long failedRevocationFlushes()
    {
        return failedRevocationFlushes;
    }

    public long devicesRemoved()
    {
        return devicesRemoved;
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
            addressSpaces + " owners=" + owners + " refusals=" + java.util.Arrays.toString(refusals) + " stuckBonds=" + stuckBonds +
            " oldestStuckWaitNs=" + oldestStuckWaitNs + " revocations=" + revocations + " pendingFlushes=" +
            pendingRevocationFlushes + " devicesRemoved=" + devicesRemoved + " suppressedFaults=" +
            suppressedFaults + " exitEvents=" + exitEvents + " tableNativeBytes=" + tableNativeBytes + " driverDataHeapBytes=" + driverDataHeapBytes +
            " allocator[" + allocator + "]";
    }
}
