package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.internal.EpochReclaimQueue;
import org.pasidkit.allocator.internal.IdStateTable;

/**
 * BROKEN on purpose: a copy of the stripe-bag path of {@code org.pasidkit.allocator.internal.EpochReclaimQueue}
 * (retire with {@code holders == 0} into one stripe's bag, sealing, the reclaimer's aged-bag steal, reclaim; the
 * production {@link EpochDomain}, {@link IdStateTable} and JCTools queue) with the one step named by its
 * {@link AllocatorBug} removed: {@link AllocatorBug#BAG_APPEND_WITHOUT_CAS} or {@link AllocatorBug#BAG_NO_EPOCH_SEAL}.
 * Any other bug value leaves this copy correct. Reduced: one stripe, no holders, no quarantine, no bag pool (a seal
 * allocates its copy), tickets preallocated for the tiny ranges tested.
 */
final class BrokenBagReclaimQueue
{
    static final int SEALED = 1 << 30;
    static final int COUNT_MASK = SEALED - 1;
    private static final VarHandle WORD;

    static
    {
        try
        {
            WORD = MethodHandles.lookup().findVarHandle(BrokenBagReclaimQueue.class, "word", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** The queue's record: a ticket ({@code ids.length == 1}) or a sealed bag. */
    static final class Record
    {
        final int[] ids;
        final int count;
        final long epoch;

        Record(final int[] ids, final int count, final long epoch)
        {
            this.ids = ids;
            this.count = count;
            this.epoch = epoch;
        }
    }

    private final MpscUnboundedXaddArrayQueue<Record> queue = new MpscUnboundedXaddArrayQueue<>(1024, 64);
    private final AtomicBoolean reclaiming = new AtomicBoolean();
    private final AtomicLong bagSurplus = new AtomicLong();
    private final EpochDomain domain;
    private final IdStateTable states;
    private final AllocatorBug bug;
    private final int[] bagIds = new int[EpochReclaimQueue.BAG_CAPACITY];
    @SuppressWarnings("unused") // accessed through WORD
    private volatile int word;
    private long openEpoch;

    BrokenBagReclaimQueue(final EpochDomain domain, final IdStateTable states, final AllocatorBug bug)
    {
        this.domain = domain;
        this.states = states;
        this.bug = bug;
    }

    /** Owner of the one stripe only. */
    boolean retire(final int id)
    {
        if (IdStateTable.IN_USE != states.get(id))
        {
            return false;
        }
        if (!states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.RETIRED))
        {
            return false;
        }
        final long epoch = domain.epoch();
        if (!appendToBag(id, epoch))
        {
            queue.offer(new Record(new int[] {id}, 1, epoch));
        }
        return true;
    }

    private boolean appendToBag(final int id, final long epoch)
    {
        int w = (int)WORD.getAcquire(this);
        if (0 != (w & SEALED))
        {
            return false;
        }
        // BROKEN under BAG_NO_EPOCH_SEAL: production seals a bag of an older epoch before appending to it.
        if (0 != w && epoch != openEpoch && AllocatorBug.BAG_NO_EPOCH_SEAL != bug)
        {
            if (!seal(w))
            {
                return false;
            }
            w = 0;
        }
        bagIds[w] = id;
        if (0 == w)
        {
            openEpoch = epoch;
        }
        if (AllocatorBug.BAG_APPEND_WITHOUT_CAS == bug)
        {
            // BROKEN: production CASes the word w -> w + 1, which fails if a reclaimer sealed the bag meanwhile.
            WORD.setRelease(this, w + 1);
        }
        else if (!WORD.compareAndSet(this, w, w + 1))
        {
            return false;
        }
        if (EpochReclaimQueue.BAG_CAPACITY == w + 1)
        {
            seal(EpochReclaimQueue.BAG_CAPACITY);
        }
        return true;
    }

    private boolean seal(final int count)
    {
        if (!WORD.compareAndSet(this, count, count | SEALED))
        {
            return false;
        }
        final int[] copy = new int[count];
        System.arraycopy(bagIds, 0, copy, 0, count);
        if (count > 1)
        {
            bagSurplus.getAndAdd(count - 1);
        }
        queue.offer(new Record(copy, count, openEpoch));
        WORD.setRelease(this, 0);
        return true;
    }

    int reclaim(final int limit, final java.util.function.IntConsumer sink)
    {
        if (queue.isEmpty() && 0 == (int)WORD.getAcquire(this))
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
            final int w = (int)WORD.getAcquire(this);
            if (0 != w && 0 == (w & SEALED) && epoch - openEpoch >= 2)
            {
                seal(w);
            }
            Record head;
            int fromBags = 0;
            int bagsPolled = 0;
            while (n < limit && null != (head = queue.relaxedPeek()))
            {
                if (epoch - head.epoch < 2 || head.count > limit - n)
                {
                    break;
                }
                queue.relaxedPoll();
                for (int i = 0; i < head.count; i++)
                {
                    sink.accept(head.ids[i]);
                }
                n += head.count;
                fromBags += head.count;
                bagsPolled++;
            }
            if (fromBags != bagsPolled)
            {
                bagSurplus.getAndAdd(bagsPolled - fromBags);
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
        final long ids = (((int)WORD.getAcquire(this)) & COUNT_MASK) + queue.size() + bagSurplus.get();
        return (int)ids;
    }
}
