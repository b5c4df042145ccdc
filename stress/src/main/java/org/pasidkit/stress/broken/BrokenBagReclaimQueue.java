package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.internal.EpochReclaimQueue;
import org.pasidkit.allocator.internal.IdStateTable;

/**
 * BROKEN on purpose: a copy of the stripe-ring path of {@code org.pasidkit.allocator.internal.EpochReclaimQueue}
 * (retire with {@code holders == 0} into one stripe's ring, the owner's take of a full bag, the reclaimer's aged take,
 * reclaim; the production {@link EpochDomain}, {@link IdStateTable} and JCTools queue) with the one step named by its
 * {@link AllocatorBug} removed: {@link AllocatorBug#TAKE_WITHOUT_CAS} or
 * {@link AllocatorBug#AGED_TAKE_FIRST_EPOCH_ONLY}. Any other bug value leaves this copy correct. Reduced: one
 * stripe, no holders, no tickets, no quarantine, no bag pool (a take allocates its copy), reclaim moves whole bags.
 */
final class BrokenBagReclaimQueue
{
    static final int RING_CAPACITY = 2 * EpochReclaimQueue.BAG_CAPACITY;
    private static final VarHandle COUNT;
    private static final VarHandle TAKEN;

    static
    {
        try
        {
            COUNT = MethodHandles.lookup().findVarHandle(BrokenBagReclaimQueue.class, "count", long.class);
            TAKEN = MethodHandles.lookup().findVarHandle(BrokenBagReclaimQueue.class, "taken", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** A queued bag. */
    static final class Bag
    {
        final int[] ids;
        final long epoch;

        Bag(final int[] ids, final long epoch)
        {
            this.ids = ids;
            this.epoch = epoch;
        }
    }

    private final MpscUnboundedXaddArrayQueue<Bag> queue = new MpscUnboundedXaddArrayQueue<>(1024, 64);
    private final AtomicBoolean reclaiming = new AtomicBoolean();
    private final AtomicLong bagSurplus = new AtomicLong();
    private final EpochDomain domain;
    private final IdStateTable states;
    private final AllocatorBug bug;
    private final int[] ids = new int[RING_CAPACITY];
    private final long[] epochs = new long[RING_CAPACITY];
    @SuppressWarnings("unused") // accessed through COUNT
    private volatile long count;
    @SuppressWarnings("unused") // accessed through TAKEN
    private volatile long taken;

    BrokenBagReclaimQueue(final EpochDomain domain, final IdStateTable states, final AllocatorBug bug)
    {
        this.domain = domain;
        this.states = states;
        this.bug = bug;
    }

    /** Owner of the one stripe only. */
    boolean retire(final int id)
    {
        if (IdStateTable.IN_USE != states.get(id) || !states.compareAndSet(id, IdStateTable.IN_USE,
            IdStateTable.RETIRED))
        {
            return false;
        }
        final long epoch = domain.epoch();
        final long c = (long)COUNT.get(this);
        final long t = (long)TAKEN.getAcquire(this);
        if (c - t >= RING_CAPACITY)
        {
            throw new IllegalStateException("ring full");
        }
        final int slot = (int)c & (RING_CAPACITY - 1);
        ids[slot] = id;
        epochs[slot] = epoch;
        COUNT.setRelease(this, c + 1);
        if (c + 1 - t >= EpochReclaimQueue.BAG_CAPACITY)
        {
            take(t, c + 1);
        }
        return true;
    }

    private boolean take(final long t, final long c)
    {
        final int n = (int)(c - t);
        final int[] copy = new int[n];
        long epoch = Long.MIN_VALUE;
        for (int i = 0; i < n; i++)
        {
            final int slot = (int)(t + i) & (RING_CAPACITY - 1);
            copy[i] = ids[slot];
            // BROKEN under AGED_TAKE_FIRST_EPOCH_ONLY: production stamps the largest epoch of the range.
            epoch = AllocatorBug.AGED_TAKE_FIRST_EPOCH_ONLY == bug && i > 0 ? epoch : Math.max(epoch, epochs[slot]);
        }
        bagSurplus.getAndAdd(n);
        if (AllocatorBug.TAKE_WITHOUT_CAS == bug)
        {
            // BROKEN: check, then store; production claims the range with TAKEN.compareAndSet(t, c).
            if ((long)TAKEN.getAcquire(this) != t)
            {
                bagSurplus.getAndAdd(-n);
                return false;
            }
            TAKEN.setRelease(this, c);
        }
        else if (!TAKEN.compareAndSet(this, t, c))
        {
            bagSurplus.getAndAdd(-n);
            return false;
        }
        queue.offer(new Bag(copy, epoch));
        bagSurplus.getAndDecrement();
        return true;
    }

    private void takeAged(final long epoch)
    {
        final long t = (long)TAKEN.getAcquire(this);
        final long c = (long)COUNT.getAcquire(this);
        long end = t;
        if (AllocatorBug.AGED_TAKE_FIRST_EPOCH_ONLY == bug)
        {
            // BROKEN: production checks every id's epoch and takes only the aged prefix.
            if (c > t && c - t <= RING_CAPACITY && epoch - epochs[(int)t & (RING_CAPACITY - 1)] >= 2)
            {
                end = c;
            }
        }
        else
        {
            while (end < c && end - t < RING_CAPACITY && epoch - epochs[(int)end & (RING_CAPACITY - 1)] >= 2)
            {
                end++;
            }
        }
        if (end > t)
        {
            take(t, end);
        }
    }

    int reclaim(final IntConsumer sink)
    {
        if (queue.isEmpty() && (long)COUNT.getAcquire(this) == (long)TAKEN.getAcquire(this))
        {
            return 0;
        }
        if (!reclaiming.compareAndSet(false, true))
        {
            return -1;
        }
        int n = 0;
        try
        {
            domain.tryAdvance();
            final long epoch = domain.epoch();
            takeAged(epoch);
            Bag head;
            while (null != (head = queue.relaxedPeek()) && epoch - head.epoch >= 2)
            {
                queue.relaxedPoll();
                for (final int id : head.ids)
                {
                    sink.accept(id);
                }
                n += head.ids.length;
                bagSurplus.getAndAdd(1 - head.ids.length);
            }
        }
        finally
        {
            reclaiming.set(false);
        }
        return n;
    }

    int backlog()
    {
        final long t = (long)TAKEN.getAcquire(this);
        return (int)((long)COUNT.getAcquire(this) - t + queue.size() + bagSurplus.get());
    }
}
