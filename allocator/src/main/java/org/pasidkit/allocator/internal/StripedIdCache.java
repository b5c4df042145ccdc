package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.jctools.queues.MpmcArrayQueue;
import org.pasidkit.allocator.AsymmetricFence;

/**
 * Per-CPU id caches: one FIFO ring of ids per stripe, each stripe leased by one thread at a time.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: a stripe's ring (indices and slots) is touched only by whoever holds it: its owner (the thread
 *       holding the stripe's lease, {@link #stripeOf}) between {@link #enter} and {@link #exit}, or a thief
 *       ({@link #steal}, {@link #takeCached}; any thread) that holds the stripe's stop flag while the owner is outside
 *       an operation. The owner-only methods below must be called between a successful {@link #enter} and
 *       {@link #exit}. A thread must not steal while it is inside an operation on its own ring.</li>
 *   <li>Exclusion (an asymmetric Dekker pair per stripe): the owner stores busy = 1, calls
 *       {@code AsymmetricFence.light()} and reads stop; a thief CASes stop 0 -> 1, calls
 *       {@code AsymmetricFence.heavy()} and reads busy. At least one sees the other: the owner then leaves the ring
 *       alone for this operation ({@link #enter} returns false; the caller goes around the cache), or the thief waits
 *       until busy is 0. So the owner's operations are plain loads and stores: an owner's allocation from its ring
 *       (a cache hit) takes no CAS, and with {@code AsymmetricFence.Mode#MEMBARRIER} no store-load fence either.</li>
 *   <li>Progress: {@link #enter}, {@link #exit}, {@link #pop}, {@link #push}: wait-free. Refill, flush and depot
 *       moves: lock-free (a bitmap CAS, a queue op). {@link #steal} and {@link #takeCached}: blocking, by design and
 *       only there: a thief waits for another thief on the same stripe, and for an owner inside an operation; an
 *       operation is straight-line code, so the wait is nanoseconds unless the owner was preempted inside it, when
 *       the thief spins, then yields, until the owner runs again and leaves (it does not skip the ring: an exhaustion
 *       answer must not be given while that ring may hold a free id). A thief pays one heavy barrier per stripe it
 *       takes from, none when its read-only pre-scan finds no candidate.</li>
 *   <li>Invariant: every slot of a ring's live window {@code [head, tail)} holds a {@code CACHED} id, and no id
 *       sits in two slots or in a slot and a depot magazine. Only the holder of a ring changes a {@code CACHED}
 *       id of it; free's {@code IN_USE -> CACHING} CAS comes before the push, so a failed double free leaves no
 *       slot behind.</li>
 *   <li>No stranding: every {@code CACHED} id sits in a live slot of some ring or in a depot magazine; the exhaustion
 *       scan returns the depot to the bitmap and steals from the rings, so ids in an idle thread's ring stay
 *       allocatable by everyone.</li>
 *   <li>Linearization: a pop at its read of the slot inside an operation that {@link #enter} admitted; a steal at
 *       its {@code CACHED -> IN_USE} CAS while it holds the ring; a push at the free's {@code -> CACHED} CAS.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Why not a CAS per pop any more: the state-byte CAS made stale slots and duplicate ids harmless, but it cost one
 *   atomic (~7 ns here) on every cache hit, the other half of the pair's cost beside free's CAS. With the busy/stop
 *   handshake the owner and a thief never touch a ring at the same time, so the ring can be kept exact (no stale
 *   slots: a thief removes the id it takes, moving the head id into its slot) and the owner's pop is plain. A free
 *   announces busy, CASes the id IN_USE -> CACHING, then checks stop (enterPush: the CAS is the fenced mode's
 *   store-load fence, so the handshake adds no fence to a free in either mode), pushes, and stores CACHED. The
 *   thief is rare (exhaustion scans, sub-range allocations, reserve of an id another thread caches) and pays the
 *   heavy barrier. Free keeps its CAS: two racing frees are two frequent sides, which no asymmetric fence arbitrates.
 * - Why a thief waits for a busy owner instead of skipping its ring: "exhausted only when nothing is free" must stay
 *   true, and the ring may hold free ids. The owner's operations are short; a preempted one is waited for
 *   (spin, then yield), as the exhaustion scan already waits for a move in flight (scanBegin).
 * - Leases: the stripe is chosen by a per-thread probe (the thread id modulo the stripe count: ids come from a
 *   counter, so threads started together get different stripes, as Striped64 spreads its probes); when the home
 *   stripe is leased by another live thread the probe walks on to the next stripe (rehash on contention). A thread
 *   that owns its home finds it without a table (the id, a mask, owners[] compared). The stripe a thread leased away
 *   from home is remembered in a home table indexed by its id (a plain int array, written on a lease, read when the
 *   home is not the thread's and checked against owners[]), so such a thread finds its stripe in two more loads
 *   instead of a probe walk on every call (pairT2 swung 10.5 to 13.7 ns between
 *   forks with the walk, as the two benchmark threads' homes collided or not). A thread that finds every stripe
 *   leased works on the bitmap directly, which is correct, only slower; it tries to lease again only every
 *   LEASE_RETRY calls (an attempt asks every owner whether it is alive). A lease held by a thread that has terminated is taken over: Thread.isAlive() returning false orders
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
 *   Lincheck found the window when `moves` was bumped once, before the move. A thief's removal of an id from the
 *   middle of a ring moves the head id into the freed slot: a move too (another scanner's pre-scan could miss it).
 * - Who counts a move where: a stripe's owner counts its own moves (refill, flush, depot take, reclaim of its retired
 *   ids) in its stripe's header with release stores, so the hot slow path (a refill every few dozen allocations) writes
 *   no line another thread writes; moves by any other thread (direct claims, depot drains, a shared reclaim pass, a
 *   thief's slot move) go through the shared pair of atomic counters. A scan waits for, and sums, both (all counts
 *   only grow, so the sum is unchanged only if every count is).
 * - A pre-scan reads only each ring's live window [head, tail), not every slot: an exhaustion scan costs the ids
 *   cached, not the rings' capacity; it takes nothing, so it needs neither the handshake nor the heavy barrier.
 */
public final class StripedIdCache
{
    private static final VarHandle OWNERS = MethodHandles.arrayElementVarHandle(Thread[].class);
    private static final long INT_ARRAY_BASE = UnsafeApi.arrayBaseOffset(int[].class);
    private static final long REF_ARRAY_BASE = UnsafeApi.arrayBaseOffset(Thread[].class);
    private static final long REF_ARRAY_SCALE = UnsafeApi.arrayIndexScale(Thread[].class);

    /** {@link #enterPop}: a thief holds the ring; no operation was started. */
    public static final int NOT_ADMITTED = -1;
    /** {@link #enterPush}: the id is {@code CACHED} in the ring; the operation has ended. */
    public static final int PUSHED = 1;
    /** {@link #enterPush}: the id was not in the state expected; nothing changed; no operation is going on. */
    public static final int NOT_IN_STATE = 0;
    /** {@link #enterPush}, fenced mode: the id is {@code CACHING}; a thief holds the ring: no operation is going on. */
    public static final int PUSH_REFUSED = -1;
    /** {@link #enterPush}: the id is {@code CACHING}; the ring is full; the operation goes on (flush, push, exit). */
    public static final int PUSH_FULL = -2;
    /**
     * {@link #enterPush}, membarrier mode only: a thief holds the ring; the id's state is unchanged (its CAS was not
     * tried); no operation is going on.
     */
    public static final int PUSH_NOT_ADMITTED = -3;

    private final UnsafeBuffer stripes;
    /** The stripes' native address: the fast paths address the buffer directly (locals survive the barriers). */
    private final long stripesAddress;
    private final Thread[] owners;
    /**
     * Home table: a thread's slot (its mixed id) names the stripe it leased, or (below 0) how many more calls a thread
     * that found no free stripe waits before it tries again. Written rarely (on a lease), read on every operation.
     */
    private final int[] homes;
    private final int homeMask;
    /** Calls a stripe-less thread makes before it tries to lease a stripe again. */
    private static final int LEASE_RETRY = 64;
    private final int[][] scratch;
    private final int stripeCount;
    private final int mask;
    private final int capacity;
    private final int ringMask;
    private final int stripeLength;
    private final IdStateTable states;
    /** Read-mostly flags on a line of their own: {@link #SCARCE_OFFSET}. */
    private final UnsafeBuffer shared = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 128));
    private static final int SCARCE_OFFSET = 128;
    /**
     * The scarce flag's native address: {@link #scarce()} is on every free's path, and a load through {@link #shared}
     * first loads the buffer's address from the buffer object (a dependent load; with bounds checks on, its
     * capacity too).
     */
    private final long scarceAddress = shared.addressOffset() + SCARCE_OFFSET;
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
        this.stripesAddress = stripes.addressOffset();
        this.owners = new Thread[stripeCount];
        this.homes = new int[Math.max(256, 16 * stripeCount)];
        this.homeMask = homes.length - 1;
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

    /**
     * Whether ids are scarce: an allocation found the whole bitmap empty and went stealing, and no refill has found a
     * word with a full batch free since. A hint (opaque load): frees then bypass the rings, refills take one id.
     */
    public boolean scarce()
    {
        return 0 != UnsafeApi.getIntOpaque(null, scarceAddress);
    }

    /** Marks ids scarce; writes only on a change, so threads that read the flag keep the line shared. */
    public void markScarce()
    {
        if (!scarce())
        {
            UnsafeApi.putIntOpaque(null, scarceAddress, 1);
        }
    }

    /** Free ids in one bitmap word from which ids count as plentiful again (ends scarcity): half a word. */
    public static final int PLENTY_FREE_BITS = 32;

    /** Ends scarcity (a search found a word with {@link #PLENTY_FREE_BITS} free); writes only on a change. */
    public void clearScarce()
    {
        if (scarce())
        {
            UnsafeApi.putIntOpaque(null, scarceAddress, 0);
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

    /**
     * Home stripe of a thread: its id modulo the stripe count. Thread ids come from a counter, so threads started one
     * after another get different homes, as Striped64's probe spreads them; a thread whose home is leased walks on.
     */
    public int homeOf(final Thread thread)
    {
        return (int)thread.getId() & mask;
    }

    /**
     * The stripe this thread holds a lease on, leasing one if it has none and one is free. Fast path: the thread's
     * home stripe is owned by this thread (the thread id's load, a mask, a load of owners[] to compare); a thread whose
     * home was taken finds its stripe in the home table ({@link #stripeOfHome}).
     *
     * @return the stripe index, or -1 if every stripe is leased by another live thread.
     */
    public int stripeOf(final Thread thread)
    {
        // NOTE: the stripe is computed from the thread id alone, so the ring's base address (and every ring load of
        // the operation) waits on one load less than through the home table: the stripe's comparison with owners[]
        // is a predicted branch, off that chain. Immediate pair (pairT1) 8.57 / 8.65 -> 8.31 / 8.21 ns (single
        // forks, interleaved; bench/results/stripe-direct-20261205.txt). Unchecked load (Unsafe): the index is
        // masked by stripeCount - 1.
        final int home = homeOf(thread);
        if (UnsafeApi.getReference(owners, REF_ARRAY_BASE + (long)home * REF_ARRAY_SCALE) == thread)
        {
            return home;
        }
        return stripeOfHome(thread);
    }

    /** {@link #stripeOf} for a thread that does not own its home stripe: the home table, then a lease. */
    private int stripeOfHome(final Thread thread)
    {
        final int slot = slotOf(thread);
        // NOTE: unchecked array loads (Unsafe): slot is masked by homeMask (homes.length - 1), and homes holds only
        // stripes in [0, stripeCount) or negative hints (stripeOfSlow writes nothing else), so s >= 0 indexes owners.
        final int s = UnsafeApi.getInt(homes, INT_ARRAY_BASE + ((long)slot << 2));
        if (s >= 0 && UnsafeApi.getReference(owners, REF_ARRAY_BASE + (long)s * REF_ARRAY_SCALE) == thread)
        {
            return s;
        }
        return stripeOfSlow(thread, slot, s);
    }

    private int slotOf(final Thread thread)
    {
        // NOTE: thread ids come from a counter, so their low bits already spread live threads over the table; a
        // collision only costs the slow path (every stripe read from the table is checked against owners[]).
        return (int)thread.getId() & homeMask;
    }

    private int stripeOfSlow(final Thread thread, final int slot, final int hint)
    {
        // NOTE: a thread that found every stripe leased tries again only every LEASE_RETRY calls: a lease attempt reads
        // every owner and asks each whether it is alive (a native call), which cost a stripe-less thread ~370 ns per
        // pair (pairT4 on 2 stripes). Plain stores to a table other threads share: hints, any value is safe (every
        // stripe read from it is checked against owners[] first).
        if (hint < -1)
        {
            homes[slot] = hint + 1;
            return -1;
        }
        for (int s = 0; s < stripeCount; s++)
        {
            if (owners[s] == thread)
            {
                homes[slot] = s;
                return s;
            }
        }
        final int home = homeOf(thread);
        for (int i = 0; i < stripeCount; i++)
        {
            final int s = (home + i) & mask;
            final Thread owner = (Thread)OWNERS.getAcquire(owners, s);
            if ((null == owner || !owner.isAlive()) && OWNERS.compareAndSet(owners, s, owner, thread))
            {
                // NOTE: a dead owner leaves busy at 0 unless an Error ended it inside an operation; the ring is ours now.
                stripes.putIntRelease(s * stripeLength + StripeDescriptor.BUSY_OFFSET, 0);
                homes[slot] = s;
                return s;
            }
        }
        homes[slot] = -LEASE_RETRY;
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
     * Owner only: starts an operation on the ring, the light side of the Dekker pair with a thief: an opaque store of
     * busy, {@link AsymmetricFence#light()}, an acquire load of stop. Wait-free, 0 B.
     *
     * @return true if the ring is the owner's until {@link #exit}; false if a thief holds it (busy is already back to 0:
     *     leave the ring alone and go around the cache this time).
     */
    public boolean enter(final int stripe)
    {
        return enterAt(baseOf(stripe));
    }

    /**
     * Owner only: ends the operation {@link #enter} started. A release store of busy, read by the thief's acquire load:
     * the operation's ring writes happen before whatever the thief does with the ring.
     */
    public void exit(final int stripe)
    {
        exitAt(baseOf(stripe));
    }

    /**
     * Owner only, inside an operation: takes the oldest cached id of the ring. Plain loads and stores: no thief touches
     * the ring meanwhile, and every id of the live window is {@code CACHED} and in no other slot.
     *
     * @return an id now {@code IN_USE}, or 0 if the ring is empty.
     */
    public int pop(final int stripe)
    {
        return popAt(baseOf(stripe), ringMask, states);
    }

    /**
     * Owner only: a cache-hit allocation whole, {@link #enter} then {@link #pop} then {@link #exit}, with the stripe's
     * address and the fields it needs read once, before its first barrier (a non-plain access is a compiler barrier
     * after which C2 reloads every field it needs again; a local survives it). Wait-free, 0 B.
     *
     * @return an id now {@code IN_USE} (the operation has ended); 0 if the ring is empty (the operation goes on: the
     *     caller refills and calls {@link #exit}); {@link #NOT_ADMITTED} if a thief holds the ring (no operation).
     */
    public int enterPop(final int stripe)
    {
        final long base = baseOf(stripe);
        final int ringMask = this.ringMask;
        final IdStateTable states = this.states;
        if (!enterAt(base))
        {
            return NOT_ADMITTED;
        }
        final int id = popAt(base, ringMask, states);
        if (0 != id)
        {
            exitAt(base);
        }
        return id;
    }

    /**
     * Owner only: a sub-range allocation's cache hit, whole: {@link #enter}, then the ring's oldest id if it lies in
     * {@code [lo, hi]}, popped as {@link #pop} pops it, then {@link #exit}. A thread that allocates for a narrow device
     * and frees what it allocated finds its own frees at the head of its FIFO ring; the head only, so the ring stays
     * exact without the thief's slot move. Wait-free, 0 B, no atomic (the membarrier mode) as {@link #enterPop}.
     *
     * @return an id of {@code [lo, hi]} now {@code IN_USE}; 0 if the ring is empty or its oldest id lies outside
     *     {@code [lo, hi]} (nothing changed, the operation has ended); {@link #NOT_ADMITTED} if a thief holds the ring.
     */
    public int enterPopIn(final int stripe, final int lo, final int hi)
    {
        final long base = baseOf(stripe);
        final int ringMask = this.ringMask;
        final IdStateTable states = this.states;
        if (!enterAt(base))
        {
            return NOT_ADMITTED;
        }
        int id = 0;
        final long head = UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET);
        if (head < UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET))
        {
            final int oldest = UnsafeApi.getInt(null, slotAddress(base, head, ringMask));
            if (oldest >= lo && oldest <= hi)
            {
                id = popAt(base, ringMask, states);
            }
        }
        exitAt(base);
        return id;
    }

    /**
     * Owner only: a free into the ring whole, with the fields read once as in {@link #enterPop}. One atomic, the state
     * CAS {@code from -> CACHING}, in both modes; the order differs:
     * <ul>
     *   <li>membarrier mode: an opaque store of busy, {@link AsymmetricFence#light()}, an acquire load of stop, the
     *       ring's head and tail, then the CAS, then only stores (the slot, the tail, a release store of
     *       {@code CACHED}, {@link #exit}). Nothing after the CAS waits for it: a free of a random id, whose state line
     *       misses, paid the loads behind it (held set at 50%: medians 14.58 -> 14.00 ns over five interleaved single
     *       forks each, bench/RESULTS.md).</li>
     *   <li>fenced mode: an opaque store of busy, the CAS, then the acquire load of stop, then the ring. The CAS is the
     *       store-load fence between busy and stop: a full fence on every HotSpot platform (x86: a lock-prefixed
     *       instruction; AArch64: an acquire-release exclusive pair or LSE casal, after which an acquire load cannot
     *       move up), so it orders busy before stop, and only a compiler barrier ({@code VarHandle.acquireFence()})
     *       is added.</li>
     * </ul>
     * 0 B.
     *
     * @return {@link #PUSHED}; {@link #NOT_IN_STATE} (the CAS failed: nothing changed); {@link #PUSH_NOT_ADMITTED}
     *     (membarrier mode: a thief holds the ring; the CAS was not tried, the state is unchanged: the caller frees the
     *     id elsewhere from {@code from}); {@link #PUSH_REFUSED} (fenced mode: the id is {@code CACHING} and a thief
     *     holds the ring: the caller frees it elsewhere from {@code CACHING}); {@link #PUSH_FULL} (the id is
     *     {@code CACHING}, the ring is full and the operation goes on: the caller makes room, pushes, exits).
     */
    public int enterPush(final int stripe, final int id, final byte from)
    {
        final long base = baseOf(stripe);
        final int ringMask = this.ringMask;
        final int capacity = this.capacity;
        final long state = states.addressOfHeld(id);
        final boolean asymmetric = AsymmetricFence.isAsymmetric();
        long tail = 0;
        long head = 0;
        UnsafeApi.putIntOpaque(null, base + StripeDescriptor.BUSY_OFFSET, 1);
        if (asymmetric)
        {
            // NOTE: the membarrier mode: busy, light(), stop, then the ring's head and tail, all before the CAS, so
            // that nothing after the CAS (which may wait on a missed line: a free of a random id) is a load.
            AsymmetricFence.light();
            if (!admittedAt(base))
            {
                return PUSH_NOT_ADMITTED;
            }
            tail = UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET);
            head = UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET);
        }
        // NOTE: the one atomic of a free, in both modes; in the fenced mode it comes between busy and the check of
        // stop (admittedAt, below), as the store-load fence. The id is CACHING (taken by nobody, counted in use) until
        // it sits in a slot.
        if (!UnsafeApi.compareAndSetByte(null, state, from, IdStateTable.CACHING))
        {
            exitAt(base);
            return NOT_IN_STATE;
        }
        if (!asymmetric)
        {
            VarHandle.acquireFence();
            if (!admittedAt(base))
            {
                return PUSH_REFUSED;
            }
            tail = UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET);
            head = UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET);
        }
        if (tail - head >= capacity)
        {
            return PUSH_FULL;
        }
        UnsafeApi.putIntOpaque(null, slotAddress(base, tail, ringMask), id);
        UnsafeApi.putLong(null, base + StripeDescriptor.TAIL_OFFSET, tail + 1);
        // NOTE: slot first, then CACHED (release): the id becomes CACHED only once it sits in the live window, so a
        // thread that sees it CACHED and then scans finds it (jcstress NoFalseExhausted).
        UnsafeApi.putByteRelease(null, state, IdStateTable.CACHED);
        exitAt(base);
        return PUSHED;
    }

    /** Tests only: sets a stripe's stop word, as a thief holding the ring does (release store). */
    void putStopForTest(final int stripe, final int stop)
    {
        stripes.putIntRelease(stripe * stripeLength + StripeDescriptor.STOP_OFFSET, stop);
    }

    private long baseOf(final int stripe)
    {
        return stripesAddress + (long)stripe * stripeLength;
    }

    private static boolean enterAt(final long base)
    {
        UnsafeApi.putIntOpaque(null, base + StripeDescriptor.BUSY_OFFSET, 1);
        AsymmetricFence.light();
        return admittedAt(base);
    }

    private static boolean admittedAt(final long base)
    {
        // NOTE: store busy, then light() (or an atomic), then load stop: the order the thief's heavy() relies on (see
        // AsymmetricFence's design notes for why the JIT keeps it). stop's acquire pairs with the thief's release
        // store of 0, so the ring as the thief left it is what the owner reads next.
        if (0 == UnsafeApi.getIntAcquire(null, base + StripeDescriptor.STOP_OFFSET))
        {
            return true;
        }
        UnsafeApi.putIntRelease(null, base + StripeDescriptor.BUSY_OFFSET, 0);
        return false;
    }

    private static void exitAt(final long base)
    {
        UnsafeApi.putIntRelease(null, base + StripeDescriptor.BUSY_OFFSET, 0);
    }

    private static int popAt(final long base, final int ringMask, final IdStateTable states)
    {
        final long head = UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET);
        if (head >= UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET))
        {
            return 0;
        }
        final int id = UnsafeApi.getInt(null, slotAddress(base, head, ringMask));
        // NOTE: the state first, then the head. A plain store, not a CAS: only the ring's holder changes a CACHED id
        // of the ring (class invariant); the release stores of head and busy that follow publish it: a pre-scan that
        // sees the new head (acquire; the id out of the window) also sees it IN_USE, so a scan that found nothing and
        // answered EXHAUSTED cannot then see the id still CACHED (Lincheck stress found that: EXHAUSTED for [2, 3],
        // then free(2) refused as not in use, when the head was stored first).
        states.putPlainHeld(id, IdStateTable.IN_USE);
        UnsafeApi.putLongRelease(null, base + StripeDescriptor.HEAD_OFFSET, head + 1);
        return id;
    }

    private static boolean pushAt(final long base, final int id, final int ringMask, final int capacity)
    {
        final long tail = UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET);
        if (tail - UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET) >= capacity)
        {
            return false;
        }
        // NOTE: an opaque store so a concurrent pre-scan reads either the old or the new id, never a torn one.
        UnsafeApi.putIntOpaque(null, slotAddress(base, tail, ringMask), id);
        // NOTE: a plain store: a pre-scan that reads this tail with a stale slot, or the old tail, misses at most the
        // id being pushed now. Pushes of free ids (refill, depot, reclaim) are owner moves, which a scan waits out and
        // re-runs after; any other push is a concurrent free, which a scan may miss as it always could.
        UnsafeApi.putLong(null, base + StripeDescriptor.TAIL_OFFSET, tail + 1);
        return true;
    }

    private static long slotAddress(final long base, final long index, final int ringMask)
    {
        return base + StripeDescriptor.SLOTS_OFFSET + (long)((int)index & ringMask) * StripeDescriptor.SLOT_LENGTH;
    }

    /** Owner only: ids in the ring (an upper bound: some may have been stolen). */
    public int size(final int stripe)
    {
        final long base = baseOf(stripe);
        return (int)(UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET) -
            UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET));
    }

    /**
     * Owner only, inside an operation: appends an id the caller has just made {@code CACHED} (or makes so before
     * {@link #exit}).
     *
     * @return false if the ring is full (call {@link #flushOldest} first).
     */
    public boolean push(final int stripe, final int id)
    {
        return pushAt(baseOf(stripe), id, ringMask, capacity);
    }

    /**
     * Owner only, inside an owner move ({@link #beginOwnerMove}): appends {@code ids[from & mask .. to & mask)} in
     * order, as {@link #push} of each would, with one load and one store of the tail for the whole batch (the
     * reclaim of an owner's own retired ids moves a refill's worth at once). The caller makes each id {@code CACHED}
     * afterwards (slot first, then the state, as after push).
     *
     * @return false if the batch does not fit in the ring's free slots (nothing pushed).
     * @throws IllegalArgumentException if {@code mask} is not {@code ids.length - 1} of a power-of-two length (the
     *     copy reads {@code ids} by address, so a wider mask would read past the array); nothing pushed then.
     */
    public boolean pushAll(final int stripe, final int[] ids, final long from, final long to, final int mask)
    {
        final long base = baseOf(stripe);
        final int ringMask = this.ringMask;
        final long tail = UnsafeApi.getLong(null, base + StripeDescriptor.TAIL_OFFSET);
        final long n = to - from;
        if (tail - UnsafeApi.getLong(null, base + StripeDescriptor.HEAD_OFFSET) + n > capacity)
        {
            return false;
        }
        if (mask >= ids.length || 0 != (mask & (mask + 1)))
        {
            throw new IllegalArgumentException("mask " + mask + " must be ids.length - 1 (" + ids.length +
                ", a power of two): the copy reads ids[0 .. mask]");
        }
        final long slots = base + StripeDescriptor.SLOTS_OFFSET;
        // NOTE: copied in runs that wrap neither ring (at most three), each one Unsafe.copyMemory from the retire
        // ring's int[] to the slots: plain stores in int units (4-aligned addresses and lengths: "coherent (atomic)
        // units" per Unsafe.copyMemory, so a pre-scan reading a slot (opaque) sees the old or the new id, never a torn
        // one, as an aligned int store, JLS 17.7); it misses at most ids being pushed, and an owner move is waited out
        // and re-run by a scan (push's notes). The caller's release fence then orders them before the ids' CACHED
        // stores.
        int src = (int)from & mask;
        int dst = (int)tail & ringMask;
        for (long left = n; left > 0; )
        {
            final int run = (int)Math.min(left, Math.min(mask + 1 - src, ringMask + 1 - dst));
            UnsafeApi.copyMemory(ids, INT_ARRAY_BASE + ((long)src << 2), null,
                slots + (long)dst * StripeDescriptor.SLOT_LENGTH, (long)run << 2);
            left -= run;
            src = (src + run) & mask;
            dst = (dst + run) & ringMask;
        }
        UnsafeApi.putLong(null, base + StripeDescriptor.TAIL_OFFSET, tail + n);
        return true;
    }

    /**
     * Owner only, inside an operation: returns up to {@code count} of the oldest ids of the ring to the bitmap.
     *
     * @return how many ids went back to the bitmap.
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
     * Owner only, inside an operation: claims up to {@code max} ids from the bitmap with one CAS, starting the search at the stripe's
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
            final long word = bitmap.word(w);
            if (-1L != word)
            {
                if (Long.bitCount(~word) >= PLENTY_FREE_BITS)
                {
                    clearScarce(); // NOTE: a word with half its ids free: plenty again, the rings may cache
                }
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
     * Owner only, inside an operation, ring full: moves the oldest half of the ring into a magazine in the depot, where a thread whose ring
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
            // NOTE: every id of the live window is CACHED and in no other slot (class invariant): the magazine
            // takes them over, and whoever pops them later owns them alone.
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
     * Owner only, inside an operation, ring empty: takes a full magazine from the depot into the ring and pops the oldest id.
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
     * Any thread not inside an operation on its own ring: takes one cached id inside {@code [lo, hi]} from any ring.
     * A read-only pre-scan finds a ring that holds one (loads only: no candidate, no barrier); the thief then holds that
     * ring ({@link #stealFrom}: stop, one heavy barrier, a wait for its owner to leave an operation) and takes the id.
     * Blocking while an owner is inside an operation (see the class notes); 0 B.
     *
     * @return the id, now {@code IN_USE}, or 0 if no ring held one.
     */
    public int steal(final int lo, final int hi)
    {
        for (int s = 0; s < stripeCount; s++)
        {
            if (holdsCandidate(s, lo, hi))
            {
                final int id = stealFrom(s, lo, hi);
                if (0 != id)
                {
                    return id;
                }
            }
        }
        return 0;
    }

    /**
     * Any thread not inside an operation on its own ring: takes exactly {@code id} if some ring caches it
     * ({@code reserve}). The ring of {@code ownStripe} (the caller's, or -1) is tried first as its owner (no barrier).
     *
     * @return true if {@code id} was cached and is now {@code IN_USE}.
     */
    public boolean takeCached(final int id, final int ownStripe)
    {
        if (ownStripe >= 0 && enter(ownStripe))
        {
            final boolean taken;
            try
            {
                taken = 0 != takeHeld(ownStripe, id, id);
            }
            finally
            {
                exit(ownStripe);
            }
            if (taken)
            {
                return true;
            }
        }
        for (int s = 0; s < stripeCount; s++)
        {
            if (s != ownStripe && holdsCandidate(s, id, id) && 0 != stealFrom(s, id, id))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Read-only: whether the live window of stripe {@code s} shows a {@code CACHED} id in {@code [lo, hi]}. Racy by
     * design (a hint for which ring to hold): a stale head only widens the window (capped at the capacity ending at
     * tail, which still holds every live slot); an id pushed meanwhile is a concurrent free (which a scan may miss) or
     * part of an owner move (which makes the scan re-run).
     */
    private boolean holdsCandidate(final int s, final int lo, final int hi)
    {
        final int base = s * stripeLength;
        final long head = stripes.getLongAcquire(base + StripeDescriptor.HEAD_OFFSET);
        final long tail = stripes.getLongAcquire(base + StripeDescriptor.TAIL_OFFSET);
        for (long i = Math.max(head, tail - capacity); i < tail; i++)
        {
            final int id = stripes.getIntOpaque(slotOffset(base, i));
            if (id >= lo && id <= hi && IdStateTable.CACHED == states.getOpaque(id))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Holds stripe {@code s} as a thief and takes one id in {@code [lo, hi]} from its ring: stop (CAS 0 -> 1; another
     * thief on it is waited for), {@link AsymmetricFence#heavy()}, a wait for busy 0 (acquire), the take, stop back to
     * 0 (release store, read by the owner's {@link #enter}).
     */
    private int stealFrom(final int s, final int lo, final int hi)
    {
        final int base = s * stripeLength;
        final int stopOffset = base + StripeDescriptor.STOP_OFFSET;
        int spins = 0;
        while (!stripes.compareAndSetInt(stopOffset, 0, 1))
        {
            spins = backOff(spins); // another thief holds the ring: straight-line work, unless it was preempted
        }
        try
        {
            // NOTE: stop (the CAS above) then heavy() then load busy: the heavy side of the pair in enter().
            AsymmetricFence.heavy();
            spins = 0;
            while (0 != stripes.getIntAcquire(base + StripeDescriptor.BUSY_OFFSET))
            {
                final Thread owner = (Thread)OWNERS.getAcquire(owners, s);
                if (null != owner && !owner.isAlive())
                {
                    break; // an Error ended the owner inside an operation; nobody will touch the ring again
                }
                spins = backOff(spins); // the owner is inside an operation, maybe preempted in it
            }
            return takeHeld(s, lo, hi);
        }
        finally
        {
            stripes.putIntRelease(stopOffset, 0);
        }
    }

    /**
     * The holder of stripe {@code s} (its owner inside an operation, or a thief holding stop) takes the oldest id in
     * {@code [lo, hi]} from the ring; an id from the middle is replaced by the head id (a move: counted, since another
     * scanner's pre-scan could miss the head id in flight).
     */
    private int takeHeld(final int s, final int lo, final int hi)
    {
        final int base = s * stripeLength;
        final long head = stripes.getLong(base + StripeDescriptor.HEAD_OFFSET);
        final long tail = stripes.getLong(base + StripeDescriptor.TAIL_OFFSET);
        for (long i = head; i < tail; i++)
        {
            final int slot = slotOffset(base, i);
            final int id = stripes.getInt(slot);
            if (id >= lo && id <= hi && states.compareAndSet(id, IdStateTable.CACHED, IdStateTable.IN_USE))
            {
                if (i == head)
                {
                    stripes.putLongRelease(base + StripeDescriptor.HEAD_OFFSET, head + 1);
                }
                else
                {
                    movesStarted.getAndIncrement();
                    stripes.putIntOpaque(slot, stripes.getInt(slotOffset(base, head)));
                    stripes.putLongRelease(base + StripeDescriptor.HEAD_OFFSET, head + 1);
                    movesFinished.getAndIncrement();
                }
                return id;
            }
        }
        return 0;
    }

    private static int backOff(final int spins)
    {
        if (spins < 1000)
        {
            Thread.onSpinWait();
        }
        else
        {
            Thread.yield(); // NOTE: the holder was preempted; give it the CPU back
        }
        return spins + 1;
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
        long token;
        while ((token = scanToken()) < 0)
        {
            spins = backOff(spins); // NOTE: a mover preempted mid-move gets the CPU back after the spins
        }
        return token;
    }

    /**
     * {@link #scanBegin} without the wait: the token if no move is in flight now, else -1. An allocation takes it
     * before its own search of the depot and the bitmap, so that a search that finds nothing is the first half of an
     * exhaustion scan (no second bitmap pass). Loads only.
     */
    public long scanToken()
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
        return idle ? started : -1;
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
