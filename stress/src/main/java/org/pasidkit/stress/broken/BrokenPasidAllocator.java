package org.pasidkit.stress.broken;

import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.internal.IdBitmap;
import org.pasidkit.allocator.internal.IdStateTable;

/**
 * BROKEN on purpose: a copy of {@code org.pasidkit.allocator.PasidAllocator}'s paths (allocate, the slow path with
 * inline reclaim and refill, the exhaustion scan with steal and grace accounting, reserve, free, retire, release,
 * reclaim) over the production {@link IdBitmap} and {@link IdStateTable} and the broken copies
 * {@link BrokenStripedIdCache} (rings, steal and the magazine depot) and {@link BrokenReclaimQueue}, which remove
 * the one step named by the {@link AllocatorBug}. This class itself is the production code, reduced: no sub-range
 * {@code allocate(lo, hi)} entry point other than the scan, no checked variants, no blocking allocate, no quarantine,
 * counts by state only.
 */
final class BrokenPasidAllocator
{
    static final int RECLAIM_PASS_LIMIT = 1024;
    static final int MAX_BUSY_RETRIES = 1 << 20;

    private final int minId;
    private final int maxId;
    private final IdBitmap bitmap;
    private final IdStateTable states;
    private final BrokenStripedIdCache cache;
    private final BrokenReclaimQueue reclaimQueue;
    private final BrokenReclaimQueue.Sink bitmapSink;
    private final BrokenReclaimQueue.Sink[] stripeSinks;
    private final int refillBatch;
    private final int[] directHints;
    private final AllocatorBug bug;

    /**
     * @param maxReaders reader slots of a new epoch domain, or 0 for no grace period (immediate reuse).
     */
    BrokenPasidAllocator(final int maxId, final int stripes, final int cacheCapacity, final int refillBatch,
        final int maxReaders, final AllocatorBug bug)
    {
        this.bug = bug;
        this.minId = 1;
        this.maxId = maxId;
        this.bitmap = new IdBitmap(minId, maxId);
        this.states = new IdStateTable(minId, maxId);
        this.cache = new BrokenStripedIdCache(stripes, cacheCapacity, states, bug);
        this.refillBatch = refillBatch;
        final int words = bitmap.wordCount();
        this.directHints = new int[stripes * 16];
        for (int s = 0; s < stripes; s++)
        {
            final int start = (int)((long)words * s / stripes);
            cache.hint(s, start);
            directHints[s * 16] = start;
        }
        this.reclaimQueue = 0 == maxReaders ? null :
            new BrokenReclaimQueue(minId, maxId, new EpochDomain(maxReaders), states, bug);
        this.bitmapSink = new MovingSink(-1);
        this.stripeSinks = new BrokenReclaimQueue.Sink[stripes];
        for (int s = 0; s < stripes; s++)
        {
            stripeSinks[s] = new MovingSink(s);
        }
    }

    /** Like {@code PasidAllocatorTests.tinyImmediate}: 2 stripes, rings of 4, refills of 2, no grace period. */
    static BrokenPasidAllocator tinyImmediate(final int maxId, final AllocatorBug bug)
    {
        return new BrokenPasidAllocator(maxId, 2, 4, 2, 0, bug);
    }

    /** Like {@code EpochReclaimQueueTests.tinyWithGrace}: 2 stripes, rings of 4, refills of 2, 2 reader slots. */
    static BrokenPasidAllocator tinyWithGrace(final int maxId, final AllocatorBug bug)
    {
        return new BrokenPasidAllocator(maxId, 2, 4, 2, 2, bug);
    }

    int minId()
    {
        return minId;
    }

    int maxId()
    {
        return maxId;
    }

    EpochDomain epochDomain()
    {
        return null == reclaimQueue ? null : reclaimQueue.domain();
    }

    int allocate()
    {
        final int stripe = cache.stripeOf(Thread.currentThread());
        if (stripe >= 0)
        {
            final int id = cache.pop(stripe);
            if (0 != id)
            {
                return id;
            }
        }
        return allocateSlow(stripe);
    }

    private int allocateSlow(final int stripe)
    {
        if (stripe >= 0)
        {
            if (null != reclaimQueue && reclaimQueue.reclaim(RECLAIM_PASS_LIMIT, stripeSinks[stripe]) > 0)
            {
                final int id = cache.pop(stripe);
                if (0 != id)
                {
                    return id;
                }
            }
            int id = cache.takeFromDepot(stripe);
            if (0 != id)
            {
                return id;
            }
            id = cache.refill(stripe, refillBatch, bitmap);
            if (0 != id)
            {
                return id;
            }
        }
        else if (null != reclaimQueue)
        {
            reclaimQueue.reclaim(RECLAIM_PASS_LIMIT, bitmapSink);
        }
        return allocateScan(minId, maxId, stripe);
    }

    private int allocateScan(final int lo, final int hi, final int stripe)
    {
        final int hintIndex = cache.homeOf(Thread.currentThread()) * 16;
        int busyRetries = 0;
        while (true)
        {
            // NOTE: magazines in the depot are seen by neither half of the scan: back to the bitmap first (a move).
            cache.drainDepot(bitmap);
            final long moves = cache.scanBegin();
            int id = claimDirect(lo, hi, hintIndex);
            if (id > 0)
            {
                return id;
            }
            id = cache.steal(lo, hi);
            if (id > 0)
            {
                return id;
            }
            final long inGrace = null == reclaimQueue ? 0 : reclaimQueue.heldCount() + reclaimQueue.backlog();
            if (!cache.scanStillValid(moves + 1))
            {
                continue;
            }
            if (0 == inGrace)
            {
                return IdAllocator.EXHAUSTED;
            }
            final boolean viaRing = stripe >= 0 && lo == minId && hi == maxId;
            final BrokenReclaimQueue.Sink sink = viaRing ? stripeSinks[stripe] : bitmapSink;
            int got = 0;
            for (int pass = 0; pass < 3 && got <= 0; pass++)
            {
                got = reclaimQueue.reclaim(RECLAIM_PASS_LIMIT, sink);
                if (BrokenReclaimQueue.BUSY == got)
                {
                    busyRetries++;
                    Thread.onSpinWait();
                    break;
                }
            }
            if (got > 0)
            {
                if (viaRing)
                {
                    id = cache.pop(stripe);
                    if (id > 0)
                    {
                        return id;
                    }
                }
                continue;
            }
            if (BrokenReclaimQueue.BUSY == got && busyRetries < MAX_BUSY_RETRIES)
            {
                continue;
            }
            return IdAllocator.ALL_IN_GRACE;
        }
    }

    private int claimDirect(final int lo, final int hi, final int hintIndex)
    {
        cache.beginMove();
        try
        {
            final int id = bitmap.claimInRange(lo, hi, directHints[hintIndex]);
            if (id > 0)
            {
                directHints[hintIndex] = bitmap.wordOf(id);
                states.putRelease(id, IdStateTable.IN_USE);
            }
            return id;
        }
        finally
        {
            cache.endMove();
        }
    }

    boolean reserve(final int id)
    {
        while (true)
        {
            cache.beginMove();
            try
            {
                if (bitmap.tryClaim(id))
                {
                    states.putRelease(id, IdStateTable.IN_USE);
                    return true;
                }
            }
            finally
            {
                cache.endMove();
            }
            final byte state = states.get(id);
            if (IdStateTable.CACHED == state)
            {
                if (states.compareAndSet(id, IdStateTable.CACHED, IdStateTable.IN_USE))
                {
                    return true;
                }
            }
            else if (IdStateTable.FREE != state)
            {
                return false;
            }
            Thread.onSpinWait();
        }
    }

    void free(final int id)
    {
        if (null != reclaimQueue)
        {
            if (!reclaimQueue.retire(id, 0))
            {
                throw notInUse(id);
            }
        }
        else if (!returnToCache(id, IdStateTable.IN_USE))
        {
            throw notInUse(id);
        }
    }

    void retire(final int id, final int holders)
    {
        if (!reclaimQueue.retire(id, holders))
        {
            throw notInUse(id);
        }
    }

    int release(final int id)
    {
        final int left = reclaimQueue.release(id);
        if (left < 0)
        {
            throw new IllegalArgumentException("id " + id + " has no outstanding holder to release (state " +
                IdStateTable.name(states.get(id)) + ")");
        }
        return left;
    }

    int reclaim()
    {
        if (null == reclaimQueue)
        {
            return 0;
        }
        final int stripe = cache.leasedStripeOf(Thread.currentThread());
        if (stripe >= 0)
        {
            return Math.max(0, reclaimQueue.reclaim(RECLAIM_PASS_LIMIT, stripeSinks[stripe]));
        }
        return Math.max(0, reclaimQueue.reclaim(RECLAIM_PASS_LIMIT * 4, bitmapSink));
    }

    /** State byte of {@code id} (acquire); the IdState ordinal. */
    byte stateOf(final int id)
    {
        return states.get(id);
    }

    /** Ids in {@code state}, by a scan. */
    int count(final byte state)
    {
        int n = 0;
        for (int id = minId; id <= maxId; id++)
        {
            n += state == states.get(id) ? 1 : 0;
        }
        return n;
    }

    /** Ids queued and not yet reclaimed (0 without a grace period). */
    int backlog()
    {
        return null == reclaimQueue ? 0 : reclaimQueue.backlog();
    }

    private final class MovingSink implements BrokenReclaimQueue.Sink
    {
        private final int stripe;

        MovingSink(final int stripe)
        {
            this.stripe = stripe;
        }

        @Override
        public void reclaimed(final int id)
        {
            if (stripe >= 0 && cache.size(stripe) < cache.capacity() - refillBatch)
            {
                if (!returnToStripe(stripe, id, IdStateTable.RETIRED))
                {
                    throw new IllegalStateException("reclaimed id " + id + " was not RETIRED");
                }
            }
            else
            {
                if (!states.compareAndSet(id, IdStateTable.RETIRED, IdStateTable.FREE))
                {
                    throw new IllegalStateException("reclaimed id " + id + " was not RETIRED");
                }
                bitmap.clear(id);
            }
        }

        @Override
        public void beginPass()
        {
            cache.beginMove();
        }

        @Override
        public void endPass()
        {
            cache.endMove();
        }
    }

    private boolean returnToCache(final int id, final byte from)
    {
        final int stripe = cache.stripeOf(Thread.currentThread());
        if (stripe >= 0)
        {
            return returnToStripe(stripe, id, from);
        }
        cache.beginMove();
        try
        {
            if (!states.compareAndSet(id, from, IdStateTable.FREE))
            {
                return false;
            }
            bitmap.clear(id);
            return true;
        }
        finally
        {
            cache.endMove();
        }
    }

    private boolean returnToStripe(final int stripe, final int id, final byte from)
    {
        if (cache.size(stripe) >= cache.capacity())
        {
            cache.flushToDepot(stripe, bitmap);
        }
        if (AllocatorBug.FREE_WITHOUT_CAS == bug)
        {
            // BROKEN: slot first as in production, then a check and a store where production CASes from -> CACHED.
            cache.push(stripe, id);
            if (from != states.get(id))
            {
                return false;
            }
            states.putRelease(id, IdStateTable.CACHED);
            return true;
        }
        cache.push(stripe, id);
        return states.compareAndSet(id, from, IdStateTable.CACHED);
    }

    private IllegalArgumentException notInUse(final int id)
    {
        return new IllegalArgumentException("id " + id + " is not in use (state " + IdStateTable.name(states.get(id)) +
            "); nothing was changed");
    }
}
