package org.pasidkit.allocator;

import org.pasidkit.allocator.internal.IdStateTable;

/**
 * A snapshot of an allocator's counts, filled by {@link PasidAllocator#counts(AllocatorCounts)} without stopping
 * the allocator. Under concurrent use each figure is exact for some instant of the scan; at quiescence
 * {@code free + cached + inUse + retired + held == capacity} holds exactly (nothing lost).
 */
public final class AllocatorCounts
{
    final long[] byState = new long[IdStateTable.STATE_COUNT]; // NOTE: one more than IdState: CACHING counts as in use
    long capacity;
    long free;
    long cached;
    long inUse;
    long retired;
    long held;
    long reclaimBacklog;
    long oldestWaitNs;
    long epoch;
    int readersHoldingBack;
    long reclaimPasses;

    /** An empty snapshot, to fill (and refill) with {@link PasidAllocator#counts(AllocatorCounts)}. */
    public AllocatorCounts()
    {
    }

    /** Ids in range. */
    public long capacity()
    {
        return capacity;
    }

    /** Free in the bitmap. */
    public long free()
    {
        return free;
    }

    /** Free in per-CPU caches (still allocatable by every thread). */
    public long cached()
    {
        return cached;
    }

    /** Handed out. */
    public long inUse()
    {
        return inUse;
    }

    /** Waiting out the epoch grace period (and quarantine) in the reclaim queue. */
    public long retired()
    {
        return retired;
    }

    /** Retired but waiting for outstanding holders to release them. */
    public long held()
    {
        return held;
    }

    /** Retired plus held: every id that is neither free nor in use. */
    public long inGrace()
    {
        return retired + held;
    }

    /** Entries in the reclaim queue (JCTools size estimate). */
    public long reclaimBacklog()
    {
        return reclaimBacklog;
    }

    /**
     * Age of the oldest retired id, ns: in the shared reclaim queue (sealed bags and tickets) as of the last reclaim
     * pass, or in a stripe's retire ring since its epoch began (a lower bound: an idle or dead owner's ring can hold
     * ids for long while the queue is empty; {@code PasidAllocator.reclaim()} takes every ring's aged ids), whichever
     * is older; for the allocator without caches, of the oldest RETIRED id its sweeps have seen.
     */
    public long oldestWaitNs()
    {
        return oldestWaitNs;
    }

    /** Global epoch. */
    public long epoch()
    {
        return epoch;
    }

    /** Reclaim passes run so far (inline or by an agent); 0 without a grace period. */
    public long reclaimPasses()
    {
        return reclaimPasses;
    }

    /** Readers that held the epoch back at the last failed advance. */
    public int readersHoldingBack()
    {
        return readersHoldingBack;
    }

    @Override
    public String toString()
    {
        return "capacity=" + capacity + " free=" + free + " cached=" + cached + " inUse=" + inUse +
            " retired=" + retired + " held=" + held + " backlog=" + reclaimBacklog + " oldestWaitNs=" + oldestWaitNs +
            " epoch=" + epoch + " readersHoldingBack=" + readersHoldingBack + " reclaimPasses=" + reclaimPasses;
    }
}
