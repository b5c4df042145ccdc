package org.pasidkit.stress.broken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.internal.IdStateTable;

/**
 * BROKEN on purpose: a copy of {@code org.pasidkit.allocator.internal.EpochReclaimQueue} (production
 * {@link EpochDomain} and {@link IdStateTable}, the same JCTools queue) with the one step named by its
 * {@link AllocatorBug} removed: {@link AllocatorBug#ONE_EPOCH_GRACE}, {@link AllocatorBug#RECLAIM_LOCK_NOT_ATOMIC} or
 * {@link AllocatorBug#RECLAIM_PASS_NOT_A_MOVE}. Any other bug value leaves this copy correct. Reduced: no quarantine
 * time and no oldest-wait figure (the races do not use them); tickets are preallocated for the tiny ranges tested.
 */
final class BrokenReclaimQueue
{
    /** Where reclaimed ids go (the production ReclaimSink). */
    interface Sink
    {
        void reclaimed(int id);

        void beginPass();

        void endPass();
    }

    static final int BUSY = -1;

    private final MpscUnboundedXaddArrayQueue<Ticket> queue = new MpscUnboundedXaddArrayQueue<>(1024, 64);
    private final Ticket[] tickets;
    private final AtomicBoolean reclaiming = new AtomicBoolean();
    private final AtomicLong heldCount = new AtomicLong();
    private final EpochDomain domain;
    private final IdStateTable states;
    private final int minId;
    private final AllocatorBug bug;

    BrokenReclaimQueue(final int minId, final int maxId, final EpochDomain domain, final IdStateTable states,
        final AllocatorBug bug)
    {
        this.minId = minId;
        this.domain = domain;
        this.states = states;
        this.bug = bug;
        this.tickets = new Ticket[maxId - minId + 1];
        for (int i = 0; i < tickets.length; i++)
        {
            tickets[i] = new Ticket(minId + i);
        }
    }

    EpochDomain domain()
    {
        return domain;
    }

    boolean retire(final int id, final int holders)
    {
        final Ticket ticket = tickets[id - minId];
        if (0 == holders)
        {
            if (!states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.RETIRED))
            {
                return false;
            }
            enqueue(ticket);
            return true;
        }
        if (!ticket.casHolders(0, holders))
        {
            return false;
        }
        if (!states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.HELD))
        {
            ticket.casHolders(holders, 0);
            return false;
        }
        heldCount.getAndIncrement();
        return true;
    }

    int release(final int id)
    {
        if (IdStateTable.HELD != states.get(id))
        {
            return -1;
        }
        final Ticket ticket = tickets[id - minId];
        while (true)
        {
            final int holders = ticket.holdersAcquire();
            if (holders <= 0)
            {
                return -1;
            }
            if (ticket.casHolders(holders, holders - 1))
            {
                if (1 == holders)
                {
                    if (!states.compareAndSet(id, IdStateTable.HELD, IdStateTable.RETIRED))
                    {
                        throw new IllegalStateException("id " + id + " left HELD while its last holder released it");
                    }
                    enqueue(ticket);
                    heldCount.getAndDecrement();
                }
                return holders - 1;
            }
            Thread.onSpinWait();
        }
    }

    private void enqueue(final Ticket ticket)
    {
        ticket.epoch = domain.epoch();
        queue.offer(ticket);
    }

    int reclaim(final int limit, final Sink sink)
    {
        if (queue.isEmpty())
        {
            return 0;
        }
        if (AllocatorBug.RECLAIM_LOCK_NOT_ATOMIC == bug)
        {
            // BROKEN: check, then set; production takes the try-lock with reclaiming.compareAndSet(false, true).
            if (reclaiming.get())
            {
                return BUSY;
            }
            reclaiming.set(true);
        }
        else if (!reclaiming.compareAndSet(false, true))
        {
            return BUSY;
        }
        // BROKEN under ONE_EPOCH_GRACE: production needs two advances past the retire epoch.
        final long grace = AllocatorBug.ONE_EPOCH_GRACE == bug ? 1 : 2;
        // BROKEN under RECLAIM_PASS_NOT_A_MOVE: production brackets every non-empty pass with beginPass/endPass.
        final boolean announce = AllocatorBug.RECLAIM_PASS_NOT_A_MOVE != bug;
        int n = 0;
        try
        {
            domain.tryAdvance();
            final long epoch = domain.epoch();
            Ticket head;
            try
            {
                while (n < limit && null != (head = queue.relaxedPeek()))
                {
                    if (epoch - head.epoch < grace)
                    {
                        break;
                    }
                    if (0 == n && announce)
                    {
                        sink.beginPass();
                    }
                    queue.relaxedPoll();
                    sink.reclaimed(head.id);
                    n++;
                }
            }
            finally
            {
                if (n > 0 && announce)
                {
                    sink.endPass();
                }
            }
        }
        finally
        {
            reclaiming.set(false);
        }
        return n;
    }

    long heldCount()
    {
        return heldCount.get();
    }

    int backlog()
    {
        return queue.size();
    }

    /** The production RetireTicket: id, retire epoch, outstanding holders. */
    static final class Ticket
    {
        private static final VarHandle HOLDERS;

        static
        {
            try
            {
                HOLDERS = MethodHandles.lookup().findVarHandle(Ticket.class, "holders", int.class);
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new ExceptionInInitializerError(ex);
            }
        }

        final int id;
        long epoch;
        @SuppressWarnings("unused") // accessed through HOLDERS
        private volatile int holders;

        Ticket(final int id)
        {
            this.id = id;
        }

        int holdersAcquire()
        {
            return (int)HOLDERS.getAcquire(this);
        }

        boolean casHolders(final int expected, final int update)
        {
            return HOLDERS.compareAndSet(this, expected, update);
        }
    }
}
