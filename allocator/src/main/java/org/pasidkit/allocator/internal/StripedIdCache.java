package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.jctools.queues.MpmcArrayQueue;

/**
 * Per-CPU id caches: one FIFO ring of ids per stripe, each stripe leased by one thread at a time.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: a stripe's ring indices and slots are written only by the thread that holds the stripe's lease
 *       ({@link #stripeOf}). {@link #steal} may be called by any thread at any time.</li>
 *   <li>Progress: {@link #pop}, {@link #push}: wait-free except for the id CAS ({@code IdStateTable}), which fails
 *       only when another thread took that id, so lock-free. {@link #steal}: lock-free. Leasing: one CAS.</li>
 *   <li>No stranding: every {@code CACHED} id sits in at least one live slot of some ring, and a thief takes it
 *       with the same CAS the owner uses, so ids in an idle thread's ring stay allocatable by everyone.</li>
 *   <li>Linearization: a pop or steal takes effect at its successful {@code CACHED -> IN_USE} CAS; a push at the
 *       {@code -> CACHED} transition done by the caller before it.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Why the id's state byte and not the ring indices arbitrate: a Chase-Lev deque needs a StoreLoad fence in the
 *   owner's pop to stay safe against thieves; a CAS on the id's byte costs the same and also makes stale slots,
 *   duplicates and foreign ids harmless. Thieves therefore never move head or tail: they scan slots and CAS.
 * - Leases: the stripe is chosen by a per-thread probe (a mix of the thread id, as Striped64 uses its probe);
 *   when the home stripe is leased by another live thread the probe walks on to the next stripe (rehash on
 *   contention). A thread that finds every stripe leased works on the bitmap directly, which is correct, only
 *   slower. A lease held by a thread that has terminated is taken over: Thread.isAlive() returning false orders
 *   every action of that thread before the new owner's (JLS 17.4.4), so its plain head/tail are visible.
 * - Depot (after Bonwick's magazines): a ring that overflows (a thread that frees more than it allocates) hands its
 *   oldest half, as one magazine, to a shared MPMC queue; a ring that runs dry takes a whole magazine before it
 *   claims from the bitmap. Ids stay CACHED throughout, so a thread that allocates on one thread and frees on
 *   another costs one queue op per capacity / 2 ids instead of a CAS and a bit clear per id both ways. Magazines
 *   are invisible to steal, so the exhaustion scan and sub-range allocations first return the depot to the bitmap.
 * - moves: a flush (ring -> bitmap) or refill (bitmap -> ring) carries free ids through a window in which neither
 *   half of an exhaustion scan can see them (the bit is set but the id is not yet, or no longer, CACHED in a slot).
 *   Each move counts itself started before and finished after. An exhaustion scan starts only when no move is in
 *   flight (it waits a mover out: moves are short straight-line code, and only the exhaustion path ever waits)
 *   and is re-run if a move started during it, so EXHAUSTED is reported only when no id was free at some instant.
 *   Lincheck found the window when `moves` was bumped once, before the move.
 * - Who counts a move where: a stripe's owner counts its own moves (refill, flush, depot take, reclaim of its retired
 *   ids) in its stripe's header with release stores, so the hot slow path (a refill every few dozen allocations) writes
 *   no line another thread writes; moves by any other thread (direct claims, depot drains, a shared reclaim pass) go
 *   through the shared pair of atomic counters. A scan waits for, and sums, both (all counts only grow, so the sum is
 *   unchanged only if every count is).
 * - steal reads only each ring's live window [head, tail), not every slot: an exhaustion scan costs the ids cached,
 *   not the rings' capacity.
 */
public final class StripedIdCache
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
    private final AtomicLong movesStarted = new AtomicLong();
    private final AtomicLong movesFinished = new AtomicLong();
    /** Full magazines: halves of rings that overflowed, waiting for a thread whose ring ran dry. */
    private final MpmcArrayQueue<int[]> depot;
    /** Empty magazines, preallocated: the depot allocates nothing in steady state. */
    private final MpmcArrayQueue<int[]> emptyMagazines;
    private final int magazineSize;

    public StripedIdCache(final int stripeCount, final int capacity, final IdStateTable states)
    {
        if (stripeCount < 1 || stripeCount > 1024 || !BitUtil.isPowerOfTwo(stripeCount))
        {
            throw new IllegalArgumentException("stripes " + stripeCount + " must be a power of two in [1, 1024]");
        }
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
        this.magazineSize = capacity / 2;
        final int magazines = Math.max(4, 4 * stripeCount);
        this.depot = new MpmcArrayQueue<>(magazines);
        this.emptyMagazines = new MpmcArrayQueue<>(magazines);
        for (int i = 0; i < magazines; i++)
        {
            emptyMagazines.offer(new int[1 + magazineSize]); // [0] = ids in it
        }
    }

    public int stripeCount()
    {
        return stripeCount;
    }

    public int capacity()
    {
        return capacity;
    }

    /** Home stripe of a thread: a mixed thread id (the probe). */
    public int homeOf(final Thread thread)
    {
        final long id = thread.getId();
        final int h = (int)(id ^ (id >>> 32)) * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    /**
     * The stripe this thread holds a lease on, leasing one if it has none and one is free.
     *
     * @return the stripe index, or -1 if every stripe is leased by another live thread.
     */
    public int stripeOf(final Thread thread)
    {
        final int home = homeOf(thread);
        if (owners[home] == thread)
        {
            return home;
        }
        return stripeOfSlow(thread, home);
    }

    private int stripeOfSlow(final Thread thread, final int home)
    {
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
            if ((null == owner || !owner.isAlive()) && OWNERS.compareAndSet(owners, s, owner, thread))
            {
                return s;
            }
        }
        return -1;
    }

    /** The stripe this thread holds a lease on, without leasing one: -1 if none. */
    public int leasedStripeOf(final Thread thread)
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

    /** Gives up a lease (owner only); its ring must have been emptied by the caller first. */
    public void unlease(final int stripe)
    {
        // NOTE: release store, read by stripeOfSlow's getAcquire before it CASes: orders the ring's plain writes
        // before the next owner's reads.
        OWNERS.setRelease(owners, stripe, (Thread)null);
    }

    /**
     * Owner only: takes the oldest cached id of the ring.
     *
     * @return an id now {@code IN_USE}, or 0 if the ring held none that could be taken.
     */
    public int pop(final int stripe)
    {
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        long head = stripes.getLong(base + StripeDescriptor.HEAD_OFFSET);
        int id = 0;
        while (head < tail)
        {
            final int candidate = stripes.getInt(slotOffset(base, head));
            head++;
            if (states.compareAndSet(candidate, IdStateTable.CACHED, IdStateTable.IN_USE))
            {
                id = candidate;
                break;
            }
        }
        stripes.putLong(base + StripeDescriptor.HEAD_OFFSET, head);
        return id;
    }

    /** Owner only: ids in the ring (an upper bound: some may have been stolen). */
    public int size(final int stripe)
    {
        final int base = stripe * stripeLength;
        return (int)(stripes.getLong(base + StripeDescriptor.TAIL_OFFSET) -
            stripes.getLong(base + StripeDescriptor.HEAD_OFFSET));
    }

    /**
     * Owner only: appends an id the caller has just made {@code CACHED}.
     *
     * @return false if the ring is full (call {@link #flushOldest} first).
     */
    public boolean push(final int stripe, final int id)
    {
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        if (tail - stripes.getLong(base + StripeDescriptor.HEAD_OFFSET) >= capacity)
        {
            return false;
        }
        // NOTE: an opaque store so a concurrent thief reads either the old or the new id, never a torn one;
        // which one it reads does not matter, the id's state byte decides.
        stripes.putIntOpaque(slotOffset(base, tail), id);
        // NOTE: a plain store, as before steal read windows: a thief that reads this tail with a stale slot, or the old
        // tail, misses at most the id being pushed now. Pushes of free ids (refill, depot, reclaim) are owner moves,
        // which a scan waits out and re-runs after; any other push is a concurrent free, which a scan may miss as it
        // always could (it read the slot before the store).
        stripes.putLong(base + StripeDescriptor.TAIL_OFFSET, tail + 1);
        return true;
    }

    /**
     * Owner only: returns up to {@code count} of the oldest ids of the ring to the bitmap.
     *
     * @return how many ids went back to the bitmap (stolen ones are skipped).
     */
    public int flushOldest(final int stripe, final int count, final IdBitmap bitmap)
    {
        beginOwnerMove(stripe);
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
        // NOTE: release store, read by steal's getLongAcquire: a thief that sees the ids out of the window also sees
        // this move started (scanStillValid then fails).
        stripes.putLongRelease(base + StripeDescriptor.HEAD_OFFSET, head);
        endOwnerMove(stripe);
        return flushed;
    }

    /**
     * Owner only: claims up to {@code max} ids from the bitmap with one CAS, starting the search at the stripe's
     * hint, hands the first out ({@code IN_USE}) and caches the rest.
     *
     * @return the id handed out, or 0 if the bitmap had no clear bit.
     */
    public int refill(final int stripe, final int max, final IdBitmap bitmap)
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
        for (int i = 0; i < words; i++)
        {
            if (-1L != bitmap.word(w))
            {
                beginOwnerMove(stripe);
                final int n = bitmap.claimBatch(w, -1L, batch, ids);
                if (0 == n)
                {
                    endOwnerMove(stripe);
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
                    endOwnerMove(stripe);
                    return ids[0];
                }
            }
            w = w + 1 == words ? 0 : w + 1;
        }
        stripes.putInt(base + StripeDescriptor.HINT_OFFSET, w);
        return 0;
    }

    /**
     * Owner only, ring full: moves the oldest half of the ring into a magazine in the depot, where a thread whose ring
     * ran dry takes it whole (one queue op per {@code capacity / 2} ids, instead of a state CAS and a bit clear per
     * id into the bitmap and a bitmap claim back). The ids stay {@code CACHED} all the way. Falls back to
     * {@link #flushOldest} when no empty magazine is left or the depot is full.
     *
     * @return ids moved out of the ring.
     */
    public int flushToDepot(final int stripe, final IdBitmap bitmap)
    {
        final int[] magazine = emptyMagazines.relaxedPoll();
        if (null == magazine)
        {
            return flushOldest(stripe, magazineSize, bitmap);
        }
        // NOTE: a move: between the head store below and the offer, the ids sit in neither a ring nor the depot.
        beginOwnerMove(stripe);
        final int base = stripe * stripeLength;
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        long head = stripes.getLong(base + StripeDescriptor.HEAD_OFFSET);
        int n = 0;
        while (n < magazineSize && head < tail)
        {
            // NOTE: duds (ids stolen since, or a failed double free's slot) are copied too: whoever pops them later
            // takes them with the CACHED -> IN_USE CAS, which fails for them, as pop and steal already skip them.
            magazine[1 + n++] = stripes.getInt(slotOffset(base, head));
            head++;
        }
        magazine[0] = n;
        stripes.putLongRelease(base + StripeDescriptor.HEAD_OFFSET, head); // NOTE: read by steal, as in flushOldest
        if (!depot.offer(magazine)) // NOTE: release: the magazine's plain writes are read after the poll's acquire
        {
            toBitmap(magazine, bitmap);
            emptyMagazines.offer(magazine);
        }
        endOwnerMove(stripe);
        return n;
    }

    /**
     * Owner only, ring empty: takes a full magazine from the depot into the ring and pops the oldest id.
     *
     * @return an id now {@code IN_USE}, or 0 if the depot was empty or held only ids taken since.
     */
    public int takeFromDepot(final int stripe)
    {
        if (depot.isEmpty())
        {
            return 0;
        }
        beginOwnerMove(stripe);
        final int[] magazine = depot.relaxedPoll();
        if (null != magazine)
        {
            final int n = magazine[0];
            for (int i = 1; i <= n; i++)
            {
                if (!push(stripe, magazine[i]))
                {
                    throw new IllegalStateException("ring of stripe " + stripe + " has no room for a magazine");
                }
            }
            emptyMagazines.offer(magazine);
        }
        endOwnerMove(stripe);
        return null == magazine ? 0 : pop(stripe);
    }

    /**
     * Any thread: returns every magazine in the depot to the bitmap (the exhaustion path and sub-range allocations,
     * which search the bitmap and the rings only).
     *
     * @return true if the depot held a magazine.
     */
    public boolean drainDepot(final IdBitmap bitmap)
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

    /** Sets the stripe's bitmap search hint (owner only, or before the stripe is used). */
    public void hint(final int stripe, final int wordIndex)
    {
        stripes.putInt(stripe * stripeLength + StripeDescriptor.HINT_OFFSET, wordIndex);
    }

    /**
     * Any thread: takes one cached id inside {@code [lo, hi]} from any ring.
     *
     * @return the id, now {@code IN_USE}, or 0 if no ring held one.
     */
    public int steal(final int lo, final int hi)
    {
        for (int s = 0; s < stripeCount; s++)
        {
            final int base = s * stripeLength;
            // NOTE: the live window [head, tail) only, not every slot: a CACHED id always sits in a live slot of some
            // ring (push writes the slot, then tail, then the caller makes the id CACHED), and ids leave the window
            // only by a pop (IN_USE, not free) or a flush (an owner move, release store of head). head is read first:
            // a stale head only widens the window; the window is capped at the capacity ending at tail, which still
            // holds every live slot (tail - head <= capacity at every instant).
            final long head = stripes.getLongAcquire(base + StripeDescriptor.HEAD_OFFSET);
            final long tail = stripes.getLongAcquire(base + StripeDescriptor.TAIL_OFFSET);
            for (long i = Math.max(head, tail - capacity); i < tail; i++)
            {
                final int id = stripes.getIntOpaque(slotOffset(base, i));
                if (id >= lo && id <= hi && id != 0 &&
                    IdStateTable.CACHED == states.getOpaque(id) &&
                    states.compareAndSet(id, IdStateTable.CACHED, IdStateTable.IN_USE))
                {
                    return id;
                }
            }
        }
        return 0;
    }

    /**
     * Owner only: marks the start of a move of free ids out of sight of an exhaustion scan (refill, flush, a reclaim of
     * the stripe's own retired ids). A release store of the stripe's own counter: no write another thread shares.
     * NOTE: the move's first effect is a CAS or a release store, so a scan that sees any of its effects (acquire)
     * also sees this count; read by {@link #scanBegin} and {@link #scanStillValid}.
     */
    public void beginOwnerMove(final int stripe)
    {
        final int offset = stripe * stripeLength + StripeDescriptor.MOVES_STARTED_OFFSET;
        stripes.putLongRelease(offset, stripes.getLong(offset) + 1);
    }

    /**
     * Owner only: marks the end of a move started with {@link #beginOwnerMove}. Release store: the move's effects
     * happen before a scan's acquire of this count.
     */
    public void endOwnerMove(final int stripe)
    {
        final int offset = stripe * stripeLength + StripeDescriptor.MOVES_FINISHED_OFFSET;
        stripes.putLongRelease(offset, stripes.getLong(offset) + 1);
    }

    /** Marks the start of a move of free ids that a scan could miss in flight (e.g. reclaim into ring or bitmap). */
    public void beginMove()
    {
        movesStarted.getAndIncrement();
    }

    /** Marks the end of a move started with {@link #beginMove}. */
    public void endMove()
    {
        movesFinished.getAndIncrement();
    }

    /**
     * Starts an exhaustion scan: waits until no refill or flush is in flight (each is a few hundred ns of straight-line
     * code on another thread), then returns the token to pass to {@link #scanStillValid}.
     */
    public long scanBegin()
    {
        int spins = 0;
        while (true)
        {
            final long finished = movesFinished.get();
            long started = movesStarted.get();
            boolean idle = started == finished;
            for (int s = 0; s < stripeCount; s++)
            {
                final int base = s * stripeLength;
                final long ownerFinished = stripes.getLongAcquire(base + StripeDescriptor.MOVES_FINISHED_OFFSET);
                final long ownerStarted = stripes.getLongAcquire(base + StripeDescriptor.MOVES_STARTED_OFFSET);
                idle &= ownerStarted == ownerFinished;
                started += ownerStarted;
            }
            if (idle)
            {
                return started;
            }
            if (++spins < 1000)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield(); // NOTE: the mover was preempted mid-move; give it the CPU back
            }
        }
    }

    /**
     * True if no refill or flush started since {@link #scanBegin} returned {@code token}: the sum of the started
     * counts (the shared one and every stripe's own), each of which only grows.
     */
    public boolean scanStillValid(final long token)
    {
        long started = movesStarted.get();
        for (int s = 0; s < stripeCount; s++)
        {
            started += stripes.getLongAcquire(s * stripeLength + StripeDescriptor.MOVES_STARTED_OFFSET);
        }
        return started == token;
    }

    private int slotOffset(final int base, final long index)
    {
        return base + StripeDescriptor.SLOTS_OFFSET + ((int)index & ringMask) * StripeDescriptor.SLOT_LENGTH;
    }

    public long nativeBytes()
    {
        return stripes.capacity();
    }
}
