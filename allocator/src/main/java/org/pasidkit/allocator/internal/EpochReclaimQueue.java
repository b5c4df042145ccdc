package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.NanoClock;
import org.jctools.queues.MpmcArrayQueue;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.pasidkit.allocator.EpochDomain;

/**
 * Holds retired ids until they are safe to hand out again: (a) every holder released the id, (b) the epoch grace
 * passed (global epoch {@code >=} retire epoch + 2), (c) the optional quarantine time passed. Reuse is FIFO at batch
 * granularity: ids leave the queue in the order their batch (or ticket) was queued; within a stripe that is the
 * order they were retired in.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: {@link #retire} and {@link #release} from any thread (many producers). A caller passing a
 *       {@code stripe >= 0} must hold that cache stripe's lease (it is the only thread appending to the stripe's
 *       bag). {@link #reclaim} from any thread; one reclaimer at a time drains the queue, a concurrent caller returns
 *       {@link #BUSY} at once (it does not wait).</li>
 *   <li>Progress: retire and release are lock-free: CASes on the id's state, its holders and the stripe bag's word;
 *       a JCTools XADD offer per sealed bag or per ticket. reclaim is non-blocking: it never waits for another
 *       thread.</li>
 *   <li>Allocation: a ticket is created the first time an id is retired outside a bag (or with holders), and reused
 *       after; bags are pooled; the queue pools its chunks. Steady state: 0 B per retire.</li>
 *   <li>Linearization: retire at the {@code IN_USE -> RETIRED/HELD} CAS; release at the holder-count CAS;
 *       an id's reclaim at the reclaimer's poll (ticket) or its read of the id from a peeked bag.</li>
 *   <li>Nothing stranded: an id in a stripe's open bag is counted in {@link #backlog}, and a reclaim pass seals every
 *       open bag whose ids are past their grace (opened two epochs ago), so an idle owner's bag is reclaimed too.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Head-of-line: reclaim stops at the first ineligible ticket. Tickets are stamped just before they are offered, so
 *   queue order is nearly epoch order; a ticket stamped e + 1 ahead of one stamped e only delays the latter.
 * - The reclaim flag is a try-lock: the loser does not spin or park, it returns. The MPSC queue needs one consumer.
 * - Batching (crossbeam-epoch's bag, DEBRA's limbo bag; per cache stripe, as the id caches are): a retire with a stripe
 *   does the state CAS, reads the epoch and CASes the id into the stripe's open bag; one queue offer per bag. A bag
 *   holds ids of one epoch only (the owner seals it when it retires in a newer one), so its stamp is exact: an id
 *   waits exactly the two advances it waited as a ticket. Sealing copies the ids into a pooled RetireBag (see
 *   StripeRetireBag for why a copy). A reclaimer seals (steals) a bag opened two or more epochs ago: past its grace,
 *   so waiting for its owner would only strand it.
 * - FIFO at batch granularity: a stolen bag is queued behind younger bags of other stripes, which can delay it by the
 *   head-of-line rule (one more advance), never make it early.
 * - Backlog = ids in open bags + queued records + (ids - 1) of every queued bag (bagSurplus), exact at quiescence.
 *   Counting order for an exhaustion scan: it reads the open bags before the queue, and a sealer queues (offer and
 *   bagSurplus) before it resets the bag's word with a release store, so an id being sealed is seen in one or both.
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

    /** Ids a stripe's bag holds before it is sealed. */
    public static final int BAG_CAPACITY = 64;
    /** Drained bags kept for reuse (a power of two); beyond it a drained bag is left to the GC. */
    private static final int BAG_POOL_CAPACITY = 1024;

    private final MpscUnboundedXaddArrayQueue<RetireRecord> queue = new MpscUnboundedXaddArrayQueue<>(1024, 64);
    private final RetireTicket[][] chunks;
    private final StripeRetireBag[] stripeBags;
    private final MpmcArrayQueue<RetireBag> bagPool = new MpmcArrayQueue<>(BAG_POOL_CAPACITY);
    private final AtomicBoolean reclaiming = new AtomicBoolean();
    private final AtomicLong heldCount = new AtomicLong();
    /** Sum over queued bags of (ids not yet reclaimed - 1): queue.size() counts each bag once. */
    private final AtomicLong bagSurplus = new AtomicLong();
    private final EpochDomain domain;
    private final IdStateTable states;
    private final NanoClock clock;
    private final CachedNanoClock coarseClock = new CachedNanoClock();
    private final long quarantineNs;
    private final int minId;
    private volatile long headRetiredNs;
    private volatile boolean headPresent;

    /** A queue without stripe bags: every id is queued as a ticket. */
    public EpochReclaimQueue(
        final int minId,
        final int maxId,
        final EpochDomain domain,
        final IdStateTable states,
        final NanoClock clock,
        final long quarantineNs)
    {
        this(minId, maxId, domain, states, clock, quarantineNs, 0);
    }

    /**
     * @param stripes cache stripes: one open bag each; callers pass their leased stripe to {@link #retire} and
     *     {@link #release}. 0: no bags.
     */
    public EpochReclaimQueue(
        final int minId,
        final int maxId,
        final EpochDomain domain,
        final IdStateTable states,
        final NanoClock clock,
        final long quarantineNs,
        final int stripes)
    {
        this.stripeBags = new StripeRetireBag[stripes];
        for (int s = 0; s < stripes; s++)
        {
            stripeBags[s] = new StripeRetireBag(BAG_CAPACITY);
        }
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

    /** {@link #retire(int, int, int)} without a stripe: the id is queued as a ticket. */
    public boolean retire(final int id, final int holders)
    {
        return retire(id, holders, -1);
    }

    /**
     * Retires an id that is {@code IN_USE}. With {@code holders == 0} it is queued at once (into the stripe's bag if
     * {@code stripe >= 0}); otherwise it waits in {@code HELD} until {@link #release} was called {@code holders}
     * times.
     *
     * @param stripe the cache stripe the calling thread leases, or -1.
     * @return true if retired; false if the id was not {@code IN_USE} (nothing changed).
     */
    public boolean retire(final int id, final int holders, final int stripe)
    {
        // NOTE: a state check first: a bad free (never allocated, double free) fails here and allocates nothing.
        // The CASes below still decide; this load only keeps the refusal cheap and allocation-free.
        if (IdStateTable.IN_USE != states.get(id))
        {
            return false;
        }
        if (0 == holders)
        {
            if (!states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.RETIRED))
            {
                return false;
            }
            queueRetired(id, stripe);
            return true;
        }
        final RetireTicket ticket = ticket(id);
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

    /** {@link #release(int, int)} without a stripe. */
    public int release(final int id)
    {
        return release(id, -1);
    }

    /**
     * Releases one holder of a {@code HELD} id; the last release queues it (into the stripe's bag if
     * {@code stripe >= 0}).
     *
     * @param stripe the cache stripe the calling thread leases, or -1.
     * @return the holders still outstanding after this release, or -1 if the id was not {@code HELD} or had no
     *     holder left (nothing changed).
     */
    public int release(final int id, final int stripe)
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
                    queueRetired(id, stripe);
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

    /**
     * Queues an id the caller has just made {@code RETIRED} (its CAS won): into the stripe's open bag, or as a ticket.
     */
    private void queueRetired(final int id, final int stripe)
    {
        // NOTE: the epoch is read after the caller's state CAS (a full fence), so after the caller's unlink of the id:
        // a reader pinned at an epoch older than this one may have seen the id, none pinned later can. Read once and
        // used for the bag check and the ticket alike.
        final long epoch = domain.epoch();
        if (stripe < 0 || !appendToBag(stripeBags[stripe], id, epoch))
        {
            enqueue(ticket(id), epoch);
        }
    }

    /**
     * Owner of the stripe only: appends a retired id to the stripe's open bag, sealing the bag first if it holds ids
     * of an older epoch, and after if it is now full.
     *
     * @return false if a reclaimer sealed the bag under the owner: the caller queues the id as a ticket.
     */
    private boolean appendToBag(final StripeRetireBag bag, final int id, final long epoch)
    {
        int word = bag.wordAcquire();
        if (0 != (word & StripeRetireBag.SEALED))
        {
            return false; // a reclaimer is copying it; it resets the word when done
        }
        if (0 != word && epoch != bag.openEpoch)
        {
            // NOTE: one epoch a bag, so the bag's stamp is every id's own: seal the older ids before adding this one.
            if (!seal(bag, word))
            {
                return false;
            }
            word = 0;
        }
        // NOTE: plain stores, published by the CAS below (volatile); read by a sealer after its sealing CAS. A slot at
        // index `word` is outside every copy a sealer can make while the word is `word` or sealed at `word`.
        bag.ids[word] = id;
        if (0 == word)
        {
            bag.openEpoch = epoch;
        }
        if (!bag.casWord(word, word + 1))
        {
            return false; // sealed at `word` ids by a reclaimer: this id is not in its copy
        }
        if (BAG_CAPACITY == word + 1)
        {
            seal(bag, BAG_CAPACITY); // a reclaimer may have sealed it first: then it queues it
        }
        return true;
    }

    /**
     * Seals a stripe's bag holding {@code count} ids: copies them into a pooled {@link RetireBag}, stamps it with the
     * bag's epoch and queues it, then reopens the stripe's bag empty. Called by the stripe's owner or by the reclaimer
     * (under the reclaim try-lock).
     *
     * @return false if the word was no longer {@code count} unsealed (another sealer won, or the owner appended).
     */
    private boolean seal(final StripeRetireBag bag, final int count)
    {
        if (!bag.casWord(count, count | StripeRetireBag.SEALED))
        {
            return false;
        }
        RetireBag sealed = bagPool.relaxedPoll();
        if (null == sealed)
        {
            sealed = new RetireBag(BAG_CAPACITY); // warm-up only: drained bags return to the pool
        }
        System.arraycopy(bag.ids, 0, sealed.ids, 0, count);
        sealed.count = count;
        sealed.next = 0;
        // NOTE: openEpoch read after the sealing CAS: the owner wrote it before its CAS of the word 0 -> 1, and does
        // not write it again until this sealer resets the word.
        sealed.epoch = bag.openEpoch;
        // NOTE: stamped at the seal, after every id's retirement: a quarantine can only be longer, never shorter.
        sealed.retiredNs = 0 == quarantineNs ? coarseClock.nanoTime() : clock.nanoTime();
        if (count > 1)
        {
            bagSurplus.getAndAdd(count - 1);
        }
        queue.offer(sealed);
        // NOTE: the reset is last, a release store read by the owner's wordAcquire (its next slot writes follow the
        // copy above) and by backlog's scan (the bag is counted in the queue by then).
        bag.wordRelease(0);
        return true;
    }

    /** Reclaimer only: seals every open bag opened two or more epochs before {@code epoch} (its ids are eligible). */
    private void sealAgedBags(final long epoch)
    {
        for (final StripeRetireBag bag : stripeBags)
        {
            final int word = bag.wordAcquire();
            // NOTE: openEpoch may be a newer bag's if the owner sealed and reopened since the load: then the CAS
            // fails, or it succeeds on the newer bag, which seal stamps with its own epoch (early sealing is safe).
            if (0 != word && 0 == (word & StripeRetireBag.SEALED) && epoch - bag.openEpoch >= 2)
            {
                seal(bag, word);
            }
        }
    }

    private boolean openBagsEmpty()
    {
        for (final StripeRetireBag bag : stripeBags)
        {
            if (0 != bag.wordAcquire())
            {
                return false;
            }
        }
        return true;
    }

    private void enqueue(final RetireTicket ticket, final long epoch)
    {
        ticket.epoch = epoch;
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
        if (queue.isEmpty() && openBagsEmpty())
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
            sealAgedBags(epoch);
            RetireRecord head;
            int fromBags = 0;
            int bagsPolled = 0;
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
                    if (head instanceof RetireBag)
                    {
                        final RetireBag bag = (RetireBag)head;
                        final int[] ids = bag.ids;
                        final int count = bag.count;
                        int next = bag.next;
                        while (next < count && n < limit)
                        {
                            final int id = ids[next++];
                            bag.next = next; // NOTE: before the sink: a sink that throws leaves the cursor past it
                            fromBags++;
                            n++;
                            sink.reclaimed(id);
                        }
                        if (next < count)
                        {
                            break; // limit reached mid-bag: the next pass resumes at bag.next
                        }
                        queue.relaxedPoll();
                        bagsPolled++;
                        bag.count = 0;
                        bagPool.relaxedOffer(bag); // NOTE: a full pool drops the bag (left to the GC)
                    }
                    else
                    {
                        queue.relaxedPoll();
                        n++;
                        sink.reclaimed(((RetireTicket)head).id);
                    }
                }
            }
            finally
            {
                // NOTE: before endPass: the pass is a move, so a scan that overlapped it re-runs and reads this.
                if (fromBags != bagsPolled)
                {
                    bagSurplus.getAndAdd(bagsPolled - fromBags);
                }
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

    /**
     * Ids retired (not held) and not yet reclaimed: in stripes' open bags and in the queue (an estimate while
     * threads retire or reclaim; exact at quiescence). Scans the stripes' bags.
     */
    public int backlog()
    {
        long ids = 0;
        // NOTE: open bags before the queue: a sealer queues before it resets the bag (see the design notes).
        for (final StripeRetireBag bag : stripeBags)
        {
            ids += StripeRetireBag.count(bag.wordAcquire());
        }
        ids += queue.size() + bagSurplus.get();
        return (int)Math.min(Integer.MAX_VALUE, Math.max(0, ids));
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
