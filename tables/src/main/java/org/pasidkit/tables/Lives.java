package org.pasidkit.tables;

import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.internal.PasidTable;

/**
 * A PASID's life as the table and the allocator see it: allocated and made ACTIVE, retired into the allocator's
 * reclaim queue. Counts the PASIDs ACTIVE and in TEARDOWN.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: written under the space's control lock; the counts are volatile and read by any thread.</li>
 *   <li>A PASID is retired into the table (state RETIRED, stamped with the epoch) before the allocator may hand it
 *       out again: the retire store comes first, then {@code free}/{@code release}.</li>
 * </ul>
 */
final class Lives
{
    final PasidAllocator allocator;
    final PasidTable table;
    volatile int active;
    volatile int teardown;

    Lives(final PasidAllocator allocator, final PasidTable table)
    {
        this.allocator = allocator;
        this.table = table;
    }

    /**
     * A free PASID below {@code 2^pasidBits}.
     *
     * @throws IdsExhaustedException if none is free (saying whether every other one is in its grace period).
     */
    int allocate(final int pasidBits)
    {
        final int hi = (int)Math.min(allocator.maxId(), (1L << pasidBits) - 1);
        if (hi < allocator.minId())
        {
            throw new IllegalArgumentException(pasidBits + "-bit PASIDs cannot reach the allocator's range [" +
                allocator.minId() + ", " + allocator.maxId() + "]");
        }
        int pasid = allocateBelow(hi);
        if (IdAllocator.ALL_IN_GRACE == pasid && allocator.reclaim() > 0)
        {
            // NOTE: an allocator without caches (a small space) paces the sweeps its allocations make, so a PASID
            // freed a moment ago may still be RETIRED though no reader holds it back; a bind is rare and under the
            // control lock, so it reclaims (a sweep) and asks once more rather than refuse it "in grace".
            pasid = allocateBelow(hi);
        }
        if (pasid <= 0)
        {
            throw new IdsExhaustedException("no free PASID in [" + allocator.minId() + ", " + hi + "]" +
                (IdAllocator.ALL_IN_GRACE == pasid ? ": every PASID not in use is waiting out its grace period" : ""),
                IdAllocator.ALL_IN_GRACE == pasid);
        }
        return pasid;
    }

    private int allocateBelow(final int hi)
    {
        return hi == allocator.maxId() ? allocator.allocate() : allocator.allocate(allocator.minId(), hi);
    }

    /** ACTIVE for a new life; returns its generation. */
    int activate(final int pasid, final long owner, final long root, final int flags)
    {
        final int generation = table.activate(pasid, owner, root, flags);
        active++;
        return generation;
    }

    /** An ACTIVE PASID that nobody holds any more goes to the reclaim queue. */
    void retireActive(final int pasid)
    {
        table.retire(pasid, allocator.epochDomain().epoch());
        active--;
        allocator.free(pasid);
    }

    /** A TEARDOWN PASID whose last holder let go: its last {@code release} already handed it to the reclaim queue. */
    void retireTeardown(final int pasid)
    {
        table.retire(pasid, allocator.epochDomain().epoch());
        teardown--;
    }
}
