package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.jctools.queues.MpmcArrayQueue;
import org.pasidkit.allocator.internal.IdBitmap;
import org.pasidkit.allocator.internal.IdStateTable;
import org.pasidkit.allocator.internal.StripeDescriptor;

/**
 * BROKEN on purpose: a copy of {@code org.pasidkit.allocator.internal.StripedIdCache} (same
 * {@link StripeDescriptor} layout, production {@link IdBitmap} and {@link IdStateTable}) with the one step named by
 * its {@link AllocatorBug} removed: {@link AllocatorBug#POP_WITHOUT_CAS}, {@link AllocatorBug#STEAL_WITHOUT_CAS},
 * {@link AllocatorBug#REFILL_NOT_A_MOVE} or {@link AllocatorBug#DEPOT_TAKE_WITHOUT_CAS}. Any other bug value leaves
 * this copy correct. Leases of dead threads are not
 * taken over (the jcstress actors live for the whole test).
 */
final class BrokenStripedIdCache
{
    private static final VarHandle OWNERS = MethodHandles.arrayElementVarHandle(Thread[].class);

    private final UnsafeBuffer stripes;
    private final Thread[] owners;
    private final int[][] scratch;
    private final int stripeCount;
    private final int mask;
    private final int capacity;
    private final int ringMask;
    private final int stripeLength;
    private final IdStateTable states;
    private final AllocatorBug bug;
    private final AtomicLong movesStarted = new AtomicLong();
    private final AtomicLong movesFinished = new AtomicLong();
    private final MpmcArrayQueue<int[]> depot;
    private final MpmcArrayQueue<int[]> emptyMagazines;
    private final int magazineSize;

    BrokenStripedIdCache(final int stripeCount, final int capacity, final IdStateTable states, final AllocatorBug bug)
    {
        StripeDescriptor.checkCapacity(capacity);
        this.stripeCount = stripeCount;
        this.mask = stripeCount - 1;
        this.capacity = capacity;
        this.ringMask = capacity - 1;
        this.stripeLength = StripeDescriptor.stripeLength(capacity);
        this.stripes = new UnsafeBuffer(BufferUtil.allocateDirectAligned(stripeLength * stripeCount, 128));
        this.owners = new Thread[stripeCount];
        this.scratch = new int[stripeCount][64];
        this.states = states;
        this.bug = bug;
        this.magazineSize = capacity / 2;
        final int magazines = Math.max(4, 4 * stripeCount);
        this.depot = new MpmcArrayQueue<>(magazines);
        this.emptyMagazines = new MpmcArrayQueue<>(magazines);
        for (int i = 0; i < magazines; i++)
        {
            emptyMagazines.offer(new int[1 + magazineSize]); // [0] = ids in it
        }
    }

    int capacity()
    {
        return capacity;
    }

    int homeOf(final Thread thread)
    {
        final long id = thread.getId();
        final int h = (int)(id ^ (id >>> 32)) * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    int stripeOf(final Thread thread)
    {
        final int home = homeOf(thread);
        if (owners[home] == thread)
        {
            return home;
        }
        for (int i = 1; i < stripeCount; i++)
        {
            final int s = (home + i) & mask;
            if (owners[s] == thread)
            {
                return s;
            }
        }
        for (int i = 0; i < stripeCount; i++)
        {
            final int s = (home + i) & mask;
            final Thread owner = (Thread)OWNERS.getAcquire(owners, s);
            if (null == owner && OWNERS.compareAndSet(owners, s, (Thread)null, thread))
            {
                return s;
            }
        }
        return -1;
    }

    int leasedStripeOf(final Thread thread)
    {
        final int home = homeOf(thread);
        for (int i = 0; i < stripeCount; i++)
        {
            final int s = (home + i) & mask;
            if (owners[s] == thread)
            {
                return s;
            }
        }
        return -1;
    }

    /** Owner only: takes the oldest cached id of the ring; 0 if none. */
    int pop(final int stripe)
    {
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        long head = stripes.getLong(base + StripeDescriptor.HEAD_OFFSET);
        int id = 0;
        while (head < tail)
        {
            final int candidate = stripes.getInt(slotOffset(base, head));
            head++;
            if (AllocatorBug.POP_WITHOUT_CAS == bug)
            {
                // BROKEN: "the ring is mine": production takes the id with CAS CACHED -> IN_USE, as thieves do.
                if (IdStateTable.CACHED == states.get(candidate))
                {
                    states.putRelease(candidate, IdStateTable.IN_USE);
                    id = candidate;
                    break;
                }
            }
            else if (states.compareAndSet(candidate, IdStateTable.CACHED, IdStateTable.IN_USE))
            {
                id = candidate;
                break;
            }
        }
        stripes.putLong(base + StripeDescriptor.HEAD_OFFSET, head);
        return id;
    }

    int size(final int stripe)
    {
        final int base = stripe * stripeLength;
        return (int)(stripes.getLong(base + StripeDescriptor.TAIL_OFFSET) -
            stripes.getLong(base + StripeDescriptor.HEAD_OFFSET));
    }

    /** Owner only: appends an id the caller has made (or is about to make) CACHED; false if the ring is full. */
    boolean push(final int stripe, final int id)
    {
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        if (tail - stripes.getLong(base + StripeDescriptor.HEAD_OFFSET) >= capacity)
        {
            return false;
        }
        stripes.putIntOpaque(slotOffset(base, tail), id);
        stripes.putLong(base + StripeDescriptor.TAIL_OFFSET, tail + 1);
        return true;
    }

    /** Owner only: returns up to {@code count} of the oldest ids of the ring to the bitmap. */
    int flushOldest(final int stripe, final int count, final IdBitmap bitmap)
    {
        movesStarted.getAndIncrement();
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        long head = stripes.getLong(base + StripeDescriptor.HEAD_OFFSET);
        int flushed = 0;
        for (int i = 0; i < count && head < tail; i++)
        {
            final int id = stripes.getInt(slotOffset(base, head));
            head++;
            if (states.compareAndSet(id, IdStateTable.CACHED, IdStateTable.FREE))
            {
                bitmap.clear(id);
                flushed++;
            }
        }
        stripes.putLong(base + StripeDescriptor.HEAD_OFFSET, head);
        movesFinished.getAndIncrement();
        return flushed;
    }

    /** Owner only: claims up to {@code max} ids with one CAS, hands the first out and caches the rest; 0 if none. */
    int refill(final int stripe, final int max, final IdBitmap bitmap)
    {
        final int base = stripe * stripeLength;
        final int words = bitmap.wordCount();
        int w = stripes.getInt(base + StripeDescriptor.HINT_OFFSET);
        if (w >= words)
        {
            w = 0;
        }
        final int room = capacity - size(stripe);
        final int batch = Math.max(1, Math.min(max, room + 1));
        final int[] ids = scratch[stripe];
        // BROKEN under REFILL_NOT_A_MOVE: production counts the refill as a move (started before the claim, finished
        // after the last push), so an exhaustion scan waits it out or re-runs.
        final boolean counted = AllocatorBug.REFILL_NOT_A_MOVE != bug;
        for (int i = 0; i < words; i++)
        {
            if (-1L != bitmap.word(w))
            {
                if (counted)
                {
                    movesStarted.getAndIncrement();
                }
                final int n = bitmap.claimBatch(w, -1L, batch, ids);
                if (0 == n)
                {
                    if (counted)
                    {
                        movesFinished.getAndIncrement();
                    }
                }
                else
                {
                    stripes.putInt(base + StripeDescriptor.HINT_OFFSET, n == batch ? w : w + 1);
                    states.putRelease(ids[0], IdStateTable.IN_USE);
                    for (int k = 1; k < n; k++)
                    {
                        states.putRelease(ids[k], IdStateTable.CACHED);
                        push(stripe, ids[k]);
                    }
                    if (counted)
                    {
                        movesFinished.getAndIncrement();
                    }
                    return ids[0];
                }
            }
            w = w + 1 == words ? 0 : w + 1;
        }
        stripes.putInt(base + StripeDescriptor.HINT_OFFSET, w);
        return 0;
    }

    /** Owner only, ring full: the oldest half of the ring into a depot magazine (production flushToDepot). */
    int flushToDepot(final int stripe, final IdBitmap bitmap)
    {
        final int[] magazine = emptyMagazines.relaxedPoll();
        if (null == magazine)
        {
            return flushOldest(stripe, magazineSize, bitmap);
        }
        movesStarted.getAndIncrement();
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        long head = stripes.getLong(base + StripeDescriptor.HEAD_OFFSET);
        int n = 0;
        while (n < magazineSize && head < tail)
        {
            // NOTE: duds (ids stolen since) are copied too; production takes every magazine id with the CAS.
            magazine[1 + n++] = stripes.getInt(slotOffset(base, head));
            head++;
        }
        magazine[0] = n;
        stripes.putLong(base + StripeDescriptor.HEAD_OFFSET, head);
        if (!depot.offer(magazine))
        {
            toBitmap(magazine, bitmap);
            emptyMagazines.offer(magazine);
        }
        movesFinished.getAndIncrement();
        return n;
    }

    /** Owner only, ring empty: a full magazine from the depot into the ring, then its oldest id (production). */
    int takeFromDepot(final int stripe)
    {
        if (depot.isEmpty())
        {
            return 0;
        }
        movesStarted.getAndIncrement();
        final int[] magazine = depot.relaxedPoll();
        int taken = 0;
        if (null != magazine)
        {
            final int n = magazine[0];
            for (int i = 1; i <= n; i++)
            {
                if (AllocatorBug.DEPOT_TAKE_WITHOUT_CAS == bug && 1 == i)
                {
                    // BROKEN: "a magazine is private to the thread that polled it": the first id is handed out with
                    // a release store of IN_USE. Production pushes it too and takes it by pop's CACHED -> IN_USE CAS,
                    // which fails for a dud (an id a thief took from the stale ring slot before the flush).
                    states.putRelease(magazine[1], IdStateTable.IN_USE);
                    taken = magazine[1];
                    continue;
                }
                if (!push(stripe, magazine[i]))
                {
                    throw new IllegalStateException("ring of stripe " + stripe + " has no room for a magazine");
                }
            }
            emptyMagazines.offer(magazine);
        }
        movesFinished.getAndIncrement();
        if (0 != taken)
        {
            return taken;
        }
        return null == magazine ? 0 : pop(stripe);
    }

    /** Any thread: every depot magazine back to the bitmap (production drainDepot). */
    boolean drainDepot(final IdBitmap bitmap)
    {
        if (depot.isEmpty())
        {
            return false;
        }
        movesStarted.getAndIncrement();
        boolean any = false;
        int[] magazine;
        while (null != (magazine = depot.relaxedPoll()))
        {
            toBitmap(magazine, bitmap);
            emptyMagazines.offer(magazine);
            any = true;
        }
        movesFinished.getAndIncrement();
        return any;
    }

    private void toBitmap(final int[] magazine, final IdBitmap bitmap)
    {
        for (int i = 1, n = magazine[0]; i <= n; i++)
        {
            final int id = magazine[i];
            if (states.compareAndSet(id, IdStateTable.CACHED, IdStateTable.FREE))
            {
                bitmap.clear(id);
            }
        }
        magazine[0] = 0;
    }


    void hint(final int stripe, final int wordIndex)
    {
        stripes.putInt(stripe * stripeLength + StripeDescriptor.HINT_OFFSET, wordIndex);
    }

    /** Any thread: takes one cached id inside {@code [lo, hi]} from any ring; 0 if none. */
    int steal(final int lo, final int hi)
    {
        for (int s = 0; s < stripeCount; s++)
        {
            final int base = s * stripeLength + StripeDescriptor.SLOTS_OFFSET;
            for (int i = 0; i < capacity; i++)
            {
                final int id = stripes.getIntOpaque(base + i * StripeDescriptor.SLOT_LENGTH);
                if (id >= lo && id <= hi && id != 0 && IdStateTable.CACHED == states.getOpaque(id))
                {
                    if (AllocatorBug.STEAL_WITHOUT_CAS == bug)
                    {
                        // BROKEN: production takes it with states.compareAndSet(id, CACHED, IN_USE).
                        states.putRelease(id, IdStateTable.IN_USE);
                        return id;
                    }
                    if (states.compareAndSet(id, IdStateTable.CACHED, IdStateTable.IN_USE))
                    {
                        return id;
                    }
                }
            }
        }
        return 0;
    }

    void beginMove()
    {
        movesStarted.getAndIncrement();
    }

    void endMove()
    {
        movesFinished.getAndIncrement();
    }

    long scanBegin()
    {
        int spins = 0;
        while (true)
        {
            final long finished = movesFinished.get();
            final long started = movesStarted.get();
            if (started == finished)
            {
                return started;
            }
            if (++spins < 1000)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    boolean scanStillValid(final long token)
    {
        return movesStarted.get() == token;
    }

    private int slotOffset(final int base, final long index)
    {
        return base + StripeDescriptor.SLOTS_OFFSET + ((int)index & ringMask) * StripeDescriptor.SLOT_LENGTH;
    }
}
