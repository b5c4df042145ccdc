package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.NanoClock;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.pasidkit.allocator.EpochDomain;

/**
 * Holds retired ids until they are safe to hand out again: (a) every holder released the id, (b) the epoch grace
 * passed (global epoch {@code >=} retire epoch + 2), (c) the optional quarantine time passed. Reuse is FIFO: ids
 * leave the queue in the order they became eligible for the queue.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: {@link #retire} and {@link #release} from any thread (many producers). {@link #reclaim} from any
 *       thread; one reclaimer at a time drains the queue, a concurrent caller returns 0 at once (it does not
 *       wait).</li>
 *   <li>Progress: retire and release are lock-free (a JCTools XADD offer, CASes on the id's state and holders).
 *       reclaim is non-blocking: it never waits for another thread.</li>
 *   <li>Allocation: a ticket is created the first time an id is retired, and reused after; the queue pools its
 *       chunks. Steady state: 0 B per retire.</li>
 *   <li>Linearization: retire at the {@code IN_USE -> RETIRED/HELD} CAS; release at the holder-count CAS;
 *       an id's reclaim at the reclaimer's poll.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Head-of-line: reclaim stops at the first ineligible ticket. Tickets are stamped just before they are offered, so
 *   queue order is nearly epoch order; a ticket stamped e + 1 ahead of one stamped e only delays the latter.
 * - The reclaim flag is a try-lock: the loser does not spin or park, it returns. The MPSC queue needs one consumer.
 */
public final class EpochReclaimQueue
{
    /** Where reclaimed ids go: the allocator moves each one from RETIRED to its cache or bitmap. */
    @FunctionalInterface
    public interface ReclaimSink
    {
        void reclaimed(int id);

        /** Called once before the first eligible id of a pass is polled (ids are in flight from here). */
        default void beginPass()
        {
        }

        /** Called after the last id of a pass that called {@link #beginPass}. */
        default void endPass()
        {
        }
    }

    private static final int CHUNK_SHIFT = 12;
    private static final int CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;
    private static final VarHandle CHUNKS = MethodHandles.arrayElementVarHandle(RetireTicket[][].class);
    private static final VarHandle TICKETS = MethodHandles.arrayElementVarHandle(RetireTicket[].class);

    private final MpscUnboundedXaddArrayQueue<RetireTicket> queue = new MpscUnboundedXaddArrayQueue<>(1024, 64);
    private final RetireTicket[][] chunks;
    private final AtomicBoolean reclaiming = new AtomicBoolean();
    private final AtomicLong heldCount = new AtomicLong();
    private final EpochDomain domain;
    private final IdStateTable states;
    private final NanoClock clock;
    private final CachedNanoClock coarseClock = new CachedNanoClock();
    private final long quarantineNs;
    private final int minId;
    private volatile long headRetiredNs;
    private volatile boolean headPresent;

    public EpochReclaimQueue(
        final int minId,
        final int maxId,
        final EpochDomain domain,
        final IdStateTable states,
        final NanoClock clock,
        final long quarantineNs)
    {
        this.minId = minId;
        this.domain = domain;
        this.states = states;
        this.clock = clock;
        this.quarantineNs = quarantineNs;
        coarseClock.update(clock.nanoTime());
        final long range = (long)maxId - minId + 1;
        this.chunks = new RetireTicket[(int)((range + CHUNK_MASK) >>> CHUNK_SHIFT)][];
    }

    public EpochDomain domain()
    {
        return domain;
    }

    public long quarantineNs()
    {
        return quarantineNs;
    }

    /**
     * Retires an id that is {@code IN_USE}. With {@code holders == 0} it is queued at once; otherwise it waits in
     * {@code HELD} until {@link #release} was called {@code holders} times.
     *
     * @return true if retired; false if the id was not {@code IN_USE} (nothing changed).
     */
    public boolean retire(final int id, final int holders)
    {
        // NOTE: a state check before the ticket: a bad free (never allocated, double free) fails here and allocates
        // nothing. The CASes below still decide; this load only keeps the refusal cheap and allocation-free.
        if (IdStateTable.IN_USE != states.get(id))
        {
            return false;
        }
        final RetireTicket ticket = ticket(id);
        if (0 == holders)
        {
            if (!states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.RETIRED))
            {
                return false;
            }
            enqueue(ticket);
            return true;
        }
        // NOTE: holders first, then the state: a release that sees HELD also sees the count. A racing second
        // retire of the same id fails the holders CAS (it is no longer 0) and changes nothing.
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

    /**
     * Releases one holder of a {@code HELD} id; the last release queues it.
     *
     * @return the holders still outstanding after this release, or -1 if the id was not {@code HELD} or had no
     *     holder left (nothing changed).
     */
    public int release(final int id)
    {
        if (IdStateTable.HELD != states.get(id))
        {
            return -1;
        }
        final RetireTicket ticket = ticket(id);
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
                    // NOTE: queue first, then the held count: an exhaustion scan must never see the id in neither.
                    enqueue(ticket);
                    heldCount.getAndDecrement();
                }
                return holders - 1;
            }
            Thread.onSpinWait();
        }
    }

    /** Outstanding holders of an id (0 unless it is {@code HELD}). */
    public int holders(final int id)
    {
        final RetireTicket[] chunk = chunks[(id - minId) >>> CHUNK_SHIFT];
        final RetireTicket ticket = null == chunk ? null : chunk[(id - minId) & CHUNK_MASK];
        return null == ticket ? 0 : ticket.holdersAcquire();
    }

    private void enqueue(final RetireTicket ticket)
    {
        ticket.epoch = domain.epoch();
        // NOTE: without a quarantine the stamp only feeds the backlog's oldest-wait figure, so a coarse clock
        // (updated by every reclaim pass) saves a nanoTime() call on each retire.
        ticket.retiredNs = 0 == quarantineNs ? coarseClock.nanoTime() : clock.nanoTime();
        queue.offer(ticket);
    }

    /** Returned by {@link #reclaim} when another thread is reclaiming right now. */
    public static final int BUSY = -1;

    /**
     * Advances the epoch if it can, then moves up to {@code limit} eligible ids, oldest first, to {@code sink}.
     *
     * @return how many ids were reclaimed, or {@link #BUSY} if another thread is reclaiming right now.
     */
    public int reclaim(final int limit, final ReclaimSink sink)
    {
        if (queue.isEmpty())
        {
            return 0;
        }
        if (!reclaiming.compareAndSet(false, true))
        {
            return BUSY;
        }
        int n = 0;
        try
        {
            final long nowNs = clock.nanoTime();
            coarseClock.update(nowNs);
            domain.tryAdvance();
            final long epoch = domain.epoch();
            RetireTicket head;
            try
            {
                while (n < limit && null != (head = queue.relaxedPeek()))
                {
                    if (epoch - head.epoch < 2 || (0 != quarantineNs && nowNs - head.retiredNs < quarantineNs))
                    {
                        break;
                    }
                    if (0 == n)
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
                if (n > 0)
                {
                    sink.endPass();
                }
            }
            head = queue.relaxedPeek();
            if (null != head)
            {
                headRetiredNs = head.retiredNs;
            }
            headPresent = null != head;
        }
        finally
        {
            reclaiming.set(false);
        }
        return n;
    }

    /** Ids retired with holders still outstanding (HELD). */
    public long heldCount()
    {
        return heldCount.get();
    }

    /** Ids queued and not yet reclaimed (JCTools size estimate; exact at quiescence). */
    public int backlog()
    {
        return queue.size();
    }

    /**
     * Age of the oldest queued id as of the last reclaim pass, in ns; 0 if the queue was empty then. Without a
     * quarantine, ids are stamped with a clock that only reclaim passes update, so the figure is coarse.
     */
    public long oldestWaitNs()
    {
        return headPresent ? Math.max(0, clock.nanoTime() - headRetiredNs) : 0;
    }

    private RetireTicket ticket(final int id)
    {
        final int index = id - minId;
        final int chunkIndex = index >>> CHUNK_SHIFT;
        RetireTicket[] chunk = (RetireTicket[])CHUNKS.getAcquire(chunks, chunkIndex);
        if (null == chunk)
        {
            final RetireTicket[] fresh = new RetireTicket[1 << CHUNK_SHIFT];
            chunk = CHUNKS.compareAndSet(chunks, chunkIndex, null, fresh) ?
                fresh : (RetireTicket[])CHUNKS.getAcquire(chunks, chunkIndex);
        }
        RetireTicket ticket = (RetireTicket)TICKETS.getAcquire(chunk, index & CHUNK_MASK);
        if (null == ticket)
        {
            final RetireTicket fresh = new RetireTicket(id);
            ticket = TICKETS.compareAndSet(chunk, index & CHUNK_MASK, null, fresh) ?
                fresh : (RetireTicket)TICKETS.getAcquire(chunk, index & CHUNK_MASK);
        }
        return ticket;
    }
}
