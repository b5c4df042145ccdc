package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.UnsafeApi;
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
 *   <li>Progress: retire and release are lock-free: CASes on the id's state and its holders; a stripe ring append
 *       is plain stores; a CAS, two XADDs and a JCTools XADD offer per bag; an offer per ticket. reclaim is non-blocking: it never waits for another
 *       thread.</li>
 *   <li>Allocation: a ticket is created the first time an id is retired outside a bag (or with holders), and reused
 *       after; bags are pooled; the queue pools its chunks. Steady state: 0 B per retire.</li>
 *   <li>Linearization: retire at the {@code IN_USE -> RETIRED/HELD} CAS; release at the holder-count CAS;
 *       an id's reclaim at the reclaimer's poll (ticket) or its read of the id from a peeked bag.</li>
 *   <li>Nothing stranded: an id in a stripe's ring is counted in {@link #backlog}, and every reclaim pass takes the
 *       ids of every ring that are past their grace, so an idle owner's ids are reclaimed too.</li>
 *   <li>Grace exact, never early: an id in a ring is judged by its segment's epoch stamp, which is at least its own
 *       retire epoch (at most one advance late for an id retired just before the epoch moved).</li>
 *   <li>Shared writes on the retire/reclaim fast path (a free with a stripe, an owner's reclaim of its own ids):
 *       none. The retire writes the id's state (its CAS) and the owner's ring and line; the owner's reclaim CASes its
 *       ring's {@code taken} (its own line) and writes its cache ring; only the amortised advance, once per
 *       {@link #advanceEvery()} retires (or {@link #heavyAdvanceEvery()} while advances pay a heavy barrier), writes
 *       the shared epoch.</li>
 *   <li>Bounded limbo: an owner's ring holds at most its seal threshold (light limbo, or the ring while advances are
 *       heavy) less one bag; beyond it the oldest bag goes to the shared queue.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Head-of-line: reclaim stops at the first ineligible ticket. Tickets are stamped just before they are offered, so
 *   queue order is nearly epoch order; a ticket stamped e + 1 ahead of one stamped e only delays the latter.
 * - The reclaim flag is a try-lock: the loser does not spin or park, it returns. The MPSC queue needs one consumer.
 * - Batching (crossbeam-epoch's bag, DEBRA's limbo bag; per cache stripe, as the id caches are): a retire with a stripe
 *   does the state CAS (the one atomic), reads the epoch and appends the id and its segment's epoch stamp to the
 *   stripe's ring with plain stores and a release store of the ring's count. The owner's reclaim hands its eligible
 *   prefix to the sink at once (ReclaimSink.reclaimedAll), which moves it into the cache ring as one batch. One take (a CAS) and one queue offer per bag: the owner
 *   takes the ring when it holds BAG_CAPACITY ids, and every reclaim pass takes, from every ring, the prefix of ids
 *   whose epoch is two behind (they are eligible now). A bag is stamped with the largest epoch of its ids, so no id is
 *   early; ids reclaimed through an aged take wait exactly the two advances a ticket waits.
 * - FIFO at batch granularity: per stripe, ids leave in retire order; across stripes, in the order their bags were
 *   queued (a reclaimer's aged take queues behind younger bags, which can delay it by the head-of-line rule by one
 *   more advance, never make it early).
 * - Pacing (the heavy barrier): an advance with a reader registered pays AsymmetricFence.heavy(), a membarrier
 *   that IPIs every CPU running this process: measured here (pvm guest) at ~13 ns per pair per thread at 2 threads
 *   with the light cadence (one advance per 2048 retires: ~27 us of both CPUs an advance). So each stripe paces its
 *   own advances: at each due advance it checks (EpochDomain.advanceIsHeavy, loads) whether the next one is heavy
 *   and then uses heavyAdvanceEvery (a quarter of its ring) and the ring's full size for its limbo, else the light
 *   cadence and limbo, which keep the retire ring's working set as it was (the light figures are unchanged). The
 *   ring is allocated at its heavy size (share / 8, at most 65536 slots: 256 KiB a stripe, range / 2 bytes in all).
 * - Epoch stamps per 64-slot segment (StripeRetireBag): 4 bytes a slot instead of 12, so the heavy limbo costs no
 *   more heap than the light ring did per id; judged a segment at a time (reclaimOwn steps by segments).
 * - Backlog = ids in rings (count - taken) + queued records + (ids - 1) of every queued bag (bagSurplus), exact at
 *   quiescence. A take adds its ids to bagSurplus before its CAS and drops the extra one after its offer; an
 *   exhaustion scan reads the rings (taken, then count) before the queue, so an id being taken is seen at least once.
 */
public final class EpochReclaimQueue
{
    /** Where reclaimed ids go: the allocator moves each one from RETIRED to its cache or bitmap. */
    @FunctionalInterface
    public interface ReclaimSink
    {
        void reclaimed(int id);

        /**
         * The ids {@code ids[from & mask .. to & mask)}, oldest first, as {@link #reclaimed} of each (an owner's
         * reclaim of its own ring hands its prefix over at once, so a sink can move it as a batch).
         */
        default void reclaimedAll(final int[] ids, final long from, final long to, final int mask)
        {
            for (long i = from; i < to; i++)
            {
                reclaimed(ids[(int)i & mask]);
            }
        }

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

    /**
     * Ids the owner seals into one bag for the shared queue: when its ring reaches {@link #SEAL_AT} ids (a reader holds
     * the epoch back, or the owner never allocates), or, with a quarantine, every bag's worth.
     */
    public static final int BAG_CAPACITY = 64;
    /**
     * Slots of a bag, most ids one take copies out of a ring, and the smallest ring (small ranges, and every ring with
     * a quarantine).
     */
    public static final int RING_CAPACITY = 4 * BAG_CAPACITY;
    /**
     * The largest limbo an owner keeps while an epoch advance is cheap (no heavy barrier): 8192 ids, the cadence of
     * its amortised advance a quarter of that.
     */
    public static final int MAX_LIGHT_LIMBO = 8192;
    /**
     * The largest stripe ring: 65536 slots, 256 KiB of heap (an id a slot, an epoch stamp per 64). The ring is sized
     * for the limbo of an owner whose advances pay a heavy barrier ({@link #heavyAdvanceEvery}).
     */
    public static final int MAX_RING_CAPACITY = 65536;
    /**
     * Ids in the smallest ring from which its owner's frees also try to reclaim its own aged ids (every 32nd free), so
     * a thread that only frees reclaims too ({@link #ownReclaimAt()}: a ring's capacity less two bags).
     */
    public static final int OWN_RECLAIM_AT = 2 * BAG_CAPACITY;
    /**
     * Ids in the smallest ring at which the owner seals its oldest {@link #BAG_CAPACITY} into the shared queue
     * ({@link #sealAt}: a ring's capacity less one bag).
     */
    public static final int SEAL_AT = 3 * BAG_CAPACITY;
    /**
     * Refills a stripe makes in lean mode (the bitmap was found without a free id) before it looks at the bitmap again:
     * in lean mode its owner reclaims its own retired ids on demand, with up to two epoch advances.
     */
    public static final int LEAN_REFILLS = 64;
    /** Ring indices that share one epoch stamp, less one (see {@link StripeRetireBag#epochAt}). */
    private static final int SEGMENT_MASK = (1 << StripeRetireBag.SEGMENT_SHIFT) - 1;
    /** Sentinel of {@link #headEpoch}: the queue was empty at the end of the last pass. */
    private static final long NO_HEAD = Long.MIN_VALUE;
    /** Drained bags kept for reuse (a power of two); beyond it a drained bag is left to the GC. */
    private static final int BAG_POOL_CAPACITY = 1024;

    private final MpscUnboundedXaddArrayQueue<RetireRecord> queue = new MpscUnboundedXaddArrayQueue<>(1024, 64);
    private final RetireTicket[][] chunks;
    private final StripeRetireBag[] stripeBags;
    private final MpmcArrayQueue<RetireBag> bagPool = new MpmcArrayQueue<>(BAG_POOL_CAPACITY);
    private final AtomicBoolean reclaiming = new AtomicBoolean();
    /**
     * Reclaim passes run (that took the try-lock): written under it, opaque; read by {@link #passes}. An object of its
     * own, allocated beside the try-lock (written by the same pass): as a field of this object it shared a line with the
     * final fields every reclaimOwn reads, and the grace exhaustion churn paid a miss on them per pass.
     */
    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong heldCount = new AtomicLong();
    /** Sum over queued bags of (ids not yet reclaimed - 1): queue.size() counts each bag once. */
    private final AtomicLong bagSurplus = new AtomicLong();
    private final EpochDomain domain;
    private final IdStateTable states;
    private final NanoClock clock;
    private final CachedNanoClock coarseClock = new CachedNanoClock();
    private final long quarantineNs;
    private final int minId;
    /** Slots of each stripe's ring (a power of two in [RING_CAPACITY, MAX_RING_CAPACITY], scaled to the range). */
    private final int ringCapacity;
    /** The light limbo (a power of two in [RING_CAPACITY, MAX_LIGHT_LIMBO], scaled to the range). */
    private final int lightLimbo;
    /**
     * Ids in a ring at which its owner seals the oldest bag into the shared queue while advances are light:
     * lightLimbo - BAG_CAPACITY (with heavy advances: ringCapacity - BAG_CAPACITY).
     */
    private final int sealAt;
    /**
     * Ids in a ring from which its owner's frees reclaim its aged ids while advances are light: lightLimbo - 2 *
     * BAG_CAPACITY (with heavy advances: ringCapacity - 2 * BAG_CAPACITY).
     */
    private final int ownReclaimAt;
    /**
     * The amortised advance: an owner tries an epoch advance only once this many of its own retires passed since it
     * last looked, and only if nobody advanced the epoch meanwhile. While an advance pays a heavy barrier (a reader is
     * registered and the fence mode is MEMBARRIER), {@link #heavyAdvanceEvery} instead.
     */
    private final int advanceEvery;
    /**
     * The amortised advance's cadence while an advance pays a heavy barrier: a quarter of the ring (at least
     * {@link #advanceEvery}). A {@code membarrier} costs microseconds of both CPUs here (tens under this host's
     * virtualisation: pvm IPIs), so it is spread over 8x more retires, in a limbo 8x larger.
     */
    private final int heavyAdvanceEvery;
    private volatile long headRetiredNs;
    private volatile boolean headPresent;
    /**
     * Epoch of the queue's head as of the end of the last pass ({@link #NO_HEAD} if it was empty then): lets
     * {@link #reclaim} answer "nothing eligible" with loads only. Written by the reclaimer (volatile), read by anyone.
     */
    private volatile long headEpoch = NO_HEAD;

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
        final long range = (long)maxId - minId + 1;
        this.ringCapacity = 0 == quarantineNs ? ringCapacityFor(range, stripes) : RING_CAPACITY;
        this.lightLimbo = 0 == quarantineNs ? lightLimboFor(range, stripes) : RING_CAPACITY;
        this.sealAt = lightLimbo - BAG_CAPACITY;
        this.ownReclaimAt = lightLimbo - 2 * BAG_CAPACITY;
        this.advanceEvery = advanceEveryFor(range, stripes, lightLimbo);
        this.heavyAdvanceEvery = Math.max(advanceEvery, ringCapacity / 4);
        checkLimbo(lightLimbo, ringCapacity);
        this.stripeBags = new StripeRetireBag[stripes];
        for (int s = 0; s < stripes; s++)
        {
            stripeBags[s] = new StripeRetireBag(ringCapacity);
            stripeBags[s].paceEvery = advanceEvery;
            stripeBags[s].paceOwnReclaimAt = ownReclaimAt;
            stripeBags[s].paceSealAt = sealAt;
        }
        this.minId = minId;
        this.domain = domain;
        this.states = states;
        this.clock = clock;
        this.quarantineNs = quarantineNs;
        coarseClock.update(clock.nanoTime());
        this.chunks = new RetireTicket[(int)((range + CHUNK_MASK) >>> CHUNK_SHIFT)][];
    }

    /**
     * The rings' sizing rule: a light limbo is a power of two in [{@link #RING_CAPACITY}, its ring's capacity], so its
     * seal threshold ({@code lightLimbo - BAG_CAPACITY}) lies below the ring's capacity, as the heavy one
     * ({@code ringCapacity - BAG_CAPACITY}) does.
     *
     * @throws IllegalStateException if not: {@link #retireOwn}'s fast path appends without a capacity check, relying
     *     on its owner sealing the oldest bag before the ring fills (a scratch build that broke this rule handed ids out
     *     twice: an append overwrote a slot a take then copied); nothing is built then.
     */
    static void checkLimbo(final int lightLimbo, final int ringCapacity)
    {
        if (lightLimbo < RING_CAPACITY || lightLimbo > ringCapacity || 0 != (lightLimbo & (lightLimbo - 1)))
        {
            throw new IllegalStateException("light limbo " + lightLimbo + " must be a power of two in [" +
                RING_CAPACITY + ", ring capacity " + ringCapacity + "]: the owner's append relies on sealing below it");
        }
    }

    /**
     * A stripe ring's capacity for a range: about 1/8 of a stripe's share of the range, a power of two in
     * [{@link #RING_CAPACITY}, {@link #MAX_RING_CAPACITY}] (2^20 ids over 2 stripes: 65536; 512 ids: 256).
     */
    static int ringCapacityFor(final long range, final int stripes)
    {
        return powerOfTwoShare(range, stripes, 8, MAX_RING_CAPACITY);
    }

    /**
     * The light limbo for a range: about 1/64 of a stripe's share of the range, a power of two in
     * [{@link #RING_CAPACITY}, {@link #MAX_LIGHT_LIMBO}] (2^20 ids over 2 stripes: 8192; 512 ids: 256).
     */
    static int lightLimboFor(final long range, final int stripes)
    {
        return powerOfTwoShare(range, stripes, 64, MAX_LIGHT_LIMBO);
    }

    private static int powerOfTwoShare(final long range, final int stripes, final int divisor, final int max)
    {
        final long share = range / Math.max(1, stripes) / divisor;
        if (share <= RING_CAPACITY)
        {
            return RING_CAPACITY;
        }
        return (int)Math.min(max, Long.highestOneBit(share - 1) << 1);
    }

    /**
     * Own retires between two light amortised advance attempts of a stripe: a quarter of its light limbo (which then
     * holds two to three of these: ids wait two advances), at most an eighth of a stripe's share of the range, at
     * least 8 (2^20 ids over 2 stripes: 2048; 512 ids over 2 stripes: 32).
     */
    static int advanceEveryFor(final long range, final int stripes, final int lightLimbo)
    {
        final long share = range / Math.max(1, stripes) / 8;
        return (int)Math.max(8, Math.min(lightLimbo / 4, share));
    }

    public EpochDomain domain()
    {
        return domain;
    }

    /** Slots of each stripe's retire ring. */
    public int ringCapacity()
    {
        return ringCapacity;
    }

    /**
     * Owner of the stripe: ids in its ring from which its frees reclaim its own aged ids (a thread that only frees):
     * the light limbo less two bags, or the ring less two bags while its advances are heavy. A plain load of its line.
     */
    public int ownReclaimAt(final int stripe)
    {
        return stripeBags[stripe].paceOwnReclaimAt;
    }

    /**
     * Ids the stripes' limbos may hold now: the sum over stripes of their seal threshold plus one bag (each stripe's
     * light limbo, or its ring while its advances are heavy). Racy reads of the owners' pacing fields, on the lines a
     * {@link #backlog} scan reads anyway; written only at due advances.
     */
    public long limboCapacity()
    {
        long ids = 0;
        for (final StripeRetireBag bag : stripeBags)
        {
            ids += bag.paceSealAt + BAG_CAPACITY;
        }
        return ids;
    }

    /** Own retires between two light amortised epoch advance attempts of a stripe. */
    public int advanceEvery()
    {
        return advanceEvery;
    }

    /** Own retires between two amortised epoch advance attempts of a stripe while advances pay a heavy barrier. */
    public int heavyAdvanceEvery()
    {
        return heavyAdvanceEvery;
    }

    /** Owner of the stripe (or a quiescent test): its current amortised-advance cadence. */
    public int advanceEvery(final int stripe)
    {
        return stripeBags[stripe].paceEvery;
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
            // NOTE: through addressOfHeld, without compareAndSet's test of the id's page: the acquire load above saw
            // the id IN_USE, so its page is marked written (IdStateTable's design notes).
            if (!UnsafeApi.compareAndSetByte(null, states.addressOfHeld(id), IdStateTable.IN_USE, IdStateTable.RETIRED))
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
     * Owner of the stripe only, the free path with a grace period: retires an {@code IN_USE} id with no holders into
     * the stripe's ring. The state CAS ({@code IN_USE -> RETIRED}, the double-free check), a load of the epoch, plain
     * stores of the id and its epoch and a release store of the ring's count: small enough to inline into the caller,
     * with the seal (ring nearly full) and the quarantine out of line. Same effect as {@link #retire(int, int, int)}.
     *
     * @return ids in the stripe's ring after the append ({@code > 0}), or -1 if the id was not {@code IN_USE}
     *     (nothing changed).
     */
    public int retireOwn(final int id, final int stripe)
    {
        // NOTE: the CAS on the byte itself, at the address addressOfHeld computes (an add: no load, no test).
        final long state = states.addressOfHeld(id);
        if (!UnsafeApi.compareAndSetByte(null, state, IdStateTable.IN_USE, IdStateTable.RETIRED))
        {
            return -1;
        }
        // NOTE: the epoch is read after the state CAS (a full fence), as in queueRetired.
        final long epoch = domain.epoch();
        final StripeRetireBag bag = stripeBags[stripe];
        final long count = bag.countPlain();
        final long size = count + 1 - bag.takenAcquire();
        if (size >= bag.paceSealAt || 0 != quarantineNs)
        {
            return retireOwnSlow(bag, id, epoch);
        }
        // NOTE: plain stores published by the release store of count, as in appendToBag.
        bag.append(count, id, epoch);
        bag.countRelease(count + 1);
        return (int)size;
    }

    private int retireOwnSlow(final StripeRetireBag bag, final int id, final long epoch)
    {
        if (!appendToBag(bag, id, epoch))
        {
            enqueue(ticket(id), epoch);
        }
        return (int)Math.max(1, bag.countPlain() - bag.takenAcquire());
    }

    /**
     * Owner of the stripe only: appends a retired id to the stripe's ring (plain stores and one release store, no
     * atomic), and takes the ring's ids out as one bag once it holds {@link #BAG_CAPACITY}.
     *
     * @return false if the ring is full (cannot happen: takes start at half its capacity): a ticket then.
     */
    private boolean appendToBag(final StripeRetireBag bag, final int id, final long epoch)
    {
        final long count = bag.countPlain();
        final long taken = bag.takenAcquire();
        if (count - taken >= ringCapacity)
        {
            return false;
        }
        // NOTE: plain stores, published by the release store of count below; read by a taker after its acquire of
        // count. The slot is outside every range a taker can claim while taken is `taken` (see StripeRetireBag).
        bag.append(count, id, epoch);
        bag.countRelease(count + 1);
        // NOTE: without a quarantine the ring is the owner's limbo bag, reclaimed by the owner itself (reclaimOwn);
        // only a ring that fills up (a reader holds the epoch back, or the owner never allocates) spills its oldest
        // ids into the shared queue. With a quarantine every bag's worth goes to the queue, whose bags carry a time.
        if (0 == quarantineNs ? count + 1 - taken >= bag.paceSealAt : count + 1 - taken >= BAG_CAPACITY)
        {
            // fails only if a reclaimer took a prefix meanwhile: fewer are left then
            take(bag, taken, 0 == quarantineNs ? taken + BAG_CAPACITY : count + 1);
        }
        return true;
    }

    /**
     * Takes {@code [taken, count)} out of a stripe's ring: copies the ids into a pooled {@link RetireBag}, stamps it
     * with the largest of their epochs, claims the range with a CAS of {@code taken} and queues the bag. Called by the
     * stripe's owner or by the reclaimer (under the reclaim try-lock); {@code count - taken <= RING_CAPACITY}.
     *
     * @return false if another taker claimed from {@code taken} first (nothing changed).
     */
    private boolean take(final StripeRetireBag bag, final long taken, final long count)
    {
        final int n = (int)(count - taken);
        RetireBag sealed = bagPool.relaxedPoll();
        if (null == sealed)
        {
            sealed = new RetireBag(RING_CAPACITY); // warm-up only: drained bags return to the pool
        }
        final int[] ids = bag.ids;
        final int mask = bag.mask;
        final int[] copy = sealed.ids;
        for (int i = 0; i < n; i++)
        {
            copy[i] = ids[(int)(taken + i) & mask];
        }
        // NOTE: stamps never decrease along the ring, so the last id's covers the range (the first's may be newer only
        // if the owner wrapped onto its segment, and the max of both keeps that).
        final long epoch = Math.max(bag.epochAt(taken), bag.epochAt(count - 1));
        // NOTE: the ids are counted twice (ring and surplus) from here until the CAS, never in neither: see backlog.
        bagSurplus.getAndAdd(n);
        // NOTE: copy first, CAS second: a copy whose CAS succeeds was not overwritten (StripeRetireBag design notes).
        if (!bag.casTaken(taken, count))
        {
            bagSurplus.getAndAdd(-n);
            bagPool.relaxedOffer(sealed);
            return false;
        }
        sealed.count = n;
        sealed.next = 0;
        sealed.epoch = epoch;
        // NOTE: stamped at the take, after every id's retirement: a quarantine can only be longer, never shorter.
        sealed.retiredNs = 0 == quarantineNs ? coarseClock.nanoTime() : clock.nanoTime();
        queue.offer(sealed);
        bagSurplus.getAndDecrement(); // the queue's size counts the bag once from here
        return true;
    }

    /**
     * Reclaimer only: takes from every stripe's ring the oldest ids that are past their grace ({@code epoch} is at
     * least two past theirs), so ids of an idle owner are reclaimed at the same epoch a ticket would be.
     */
    private void takeAged(final long epoch)
    {
        for (final StripeRetireBag bag : stripeBags)
        {
            final long taken = bag.takenAcquire();
            final long count = bag.countAcquire();
            long end = taken;
            // NOTE: reads of slots the owner may overwrite if another take moved `taken` since the load above: the
            // CAS in take then fails and the copy is dropped.
            while (end < count && end - taken < RING_CAPACITY && epoch - bag.epochAt(end) >= 2)
            {
                end++;
            }
            if (end > taken)
            {
                take(bag, taken, end);
            }
        }
    }

    private boolean ringsEmpty()
    {
        for (final StripeRetireBag bag : stripeBags)
        {
            if (bag.countAcquire() != bag.takenAcquire())
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
     * Owner of the stripe: ids in its ring (retired, not yet taken out). Loads of two counters of the stripe's own
     * line.
     */
    public int ringSize(final int stripe)
    {
        final StripeRetireBag bag = stripeBags[stripe];
        return (int)(bag.countPlain() - bag.takenAcquire());
    }

    /** {@link #reclaimOwn(int, int, ReclaimSink, boolean)} with the amortised advance (not urgent). */
    public int reclaimOwn(final int stripe, final int limit, final ReclaimSink sink)
    {
        return reclaimOwn(stripe, limit, sink, false);
    }

    /**
     * Owner of the stripe only: reclaims the oldest ids of its own ring that are past their grace (global epoch at
     * least two past each id's), oldest first, up to {@code limit}, into {@code sink}. If the oldest is not past it:
     * <ul>
     *   <li>not {@code urgent} (a refill that can still take fresh ids): the amortised advance. It tries one epoch
     *       advance only once its cadence of own retires ({@link #advanceEvery(int)}: light, or heavy while an advance pays a
     *       membarrier) passed since it last looked and nobody
     *       advanced the epoch since then (so the epoch moves about once per {@code advanceEvery} retires of the
     *       busiest stripe, not once per stripe); otherwise it returns 0 with loads of its own line and the epoch;</li>
     *   <li>{@code urgent} (the bitmap had no free id, an exhaustion scan, an explicit reclaim): up to two advance
     *       attempts, as many as the oldest id needs.</li>
     * </ul>
     * An advance attempt is one scan of the reader slots and one CAS if every reader allows ({@link
     * EpochDomain#tryAdvance}, which may also pay a heavy barrier). The ids leave the ring with one CAS of its
     * {@code taken} cursor, on the stripe's own line; no write another thread shares, no try-lock. A reader holding the
     * epoch back costs the loads of that scan. {@code sink.beginPass()} is called before the CAS (the ids are in flight
     * from there) and {@code endPass()} after the last id. Not used with a quarantine (the ring's ids carry no time;
     * they go through the queue's bags).
     *
     * @return ids reclaimed (0 if none was past its grace, or another taker claimed the prefix first).
     */
    public int reclaimOwn(final int stripe, final int limit, final ReclaimSink sink, final boolean urgent)
    {
        if (0 != quarantineNs || limit <= 0)
        {
            return 0;
        }
        final StripeRetireBag bag = stripeBags[stripe];
        final long count = bag.countPlain();
        final long taken = bag.takenAcquire();
        if (count == taken)
        {
            return 0;
        }
        final int mask = bag.mask;
        // NOTE: the owner reads its own stamps: it wrote them, and no taker writes one.
        final long oldest = bag.epochAt(taken);
        long epoch = domain.epoch();
        // NOTE: the amortised advance is tried whether or not the oldest is past its grace: the epoch then moves about
        // once per advanceEvery retires, and the limbo holds two to three of those, whatever the refill pattern.
        if (!urgent && advanceDue(bag, count, epoch) && domain.tryAdvance())
        {
            epoch = domain.epoch();
        }
        if (epoch - oldest < 2)
        {
            if (!urgent)
            {
                return 0; // amortised: no advance due, or it did not age the oldest; loads of the owner's own line
            }
            if (epoch == oldest)
            {
                domain.tryAdvance(); // NOTE: retired in the current epoch: the first of the two advances it needs
            }
            if (!domain.tryAdvance())
            {
                return 0; // a reader holds the epoch back: a scan of the reader slots, nothing written
            }
            epoch = domain.epoch();
            if (epoch - oldest < 2)
            {
                return 0;
            }
        }
        final long max = taken + Math.min(limit, count - taken);
        long end = Math.min(max, (taken | SEGMENT_MASK) + 1); // the oldest's segment shares its stamp
        // NOTE: by segments: a stamp covers up to 64 ids, and stamps never decrease along the ring.
        while (end < max && epoch - bag.epochAt(end) >= 2)
        {
            end = Math.min(max, (end | SEGMENT_MASK) + 1);
        }
        sink.beginPass();
        try
        {
            // NOTE: a CAS, not a store: a reclaimer's aged take (takeAged) may claim the same prefix; one wins.
            if (!bag.casTaken(taken, end))
            {
                return 0;
            }
            // NOTE: the slots [taken, end) are read after the CAS: only the owner (this thread) writes slots, and it
            // writes none until it returns; a taker that copied them before failed its CAS.
            sink.reclaimedAll(bag.ids, taken, end, mask);
            return (int)(end - taken);
        }
        finally
        {
            sink.endPass();
        }
    }

    /**
     * Owner only: whether its amortised advance is due. The count restarts whenever the owner sees that the epoch moved
     * since it last looked (another stripe's advance, a reclaim pass): the epoch then moves at least once per
     * {@link #advanceEvery} of this stripe's retires (plus one refill), which bounds its limbo at about two and a half
     * times that, while two stripes retiring at the same rate do not both advance. Plain reads and writes of the
     * owner's own fields.
     */
    private boolean advanceDue(final StripeRetireBag bag, final long count, final long epoch)
    {
        if (epoch != bag.markEpoch)
        {
            bag.markEpoch = epoch;
            bag.markCount = count;
            return false;
        }
        if (count - bag.markCount < bag.paceEvery)
        {
            return false;
        }
        // NOTE: paced once per due advance (an O(reader slots) scan of the registration flags, as rare as the
        // advance): a reader registering or leaving changes the cadence at this stripe's next due advance.
        final boolean heavy = domain.advanceIsHeavy();
        bag.paceEvery = heavy ? heavyAdvanceEvery : advanceEvery;
        bag.paceOwnReclaimAt = heavy ? ringCapacity - 2 * BAG_CAPACITY : ownReclaimAt;
        bag.paceSealAt = heavy ? ringCapacity - BAG_CAPACITY : sealAt;
        if (count - bag.markCount < bag.paceEvery)
        {
            return false; // the cadence just grew: not due yet
        }
        bag.markCount = count;
        return true;
    }

    /**
     * Owner only: whether the stripe is in lean mode (its last look at the bitmap found no free id), counting one of
     * its {@link #LEAN_REFILLS} lean refills. In lean mode the owner reclaims its own retired ids urgently (up to two
     * advances) before it looks at the bitmap, instead of scanning an empty bitmap every refill.
     */
    public boolean leanTurn(final int stripe)
    {
        final StripeRetireBag bag = stripeBags[stripe];
        final int left = bag.leanRefills;
        if (left <= 0)
        {
            return false;
        }
        bag.leanRefills = left - 1;
        return true;
    }

    /** Owner only: the stripe's refill found no free id in the bitmap: lean mode for {@link #LEAN_REFILLS} refills. */
    public void enterLean(final int stripe)
    {
        stripeBags[stripe].leanRefills = LEAN_REFILLS;
    }

    /**
     * Whether a pass could reclaim anything at {@code epoch}: the queue's head (as of the last pass) or, with
     * {@code fromRings}, the oldest id of some stripe's ring is two epochs behind. Loads only. A racy read of another
     * owner's slot can only make it answer yes wrongly (the pass then decides), or no for an id appended since.
     */
    private boolean mayReclaim(final long epoch, final boolean fromRings)
    {
        if (!queue.isEmpty())
        {
            final long head = headEpoch;
            if (NO_HEAD == head || epoch - head >= 2)
            {
                return true;
            }
        }
        if (fromRings)
        {
            for (final StripeRetireBag bag : stripeBags)
            {
                final long taken = bag.takenAcquire();
                if (bag.countAcquire() != taken && epoch - bag.epochAt(taken) >= 2)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@link #reclaim(int, ReclaimSink, boolean)} that also takes aged ids from every stripe's ring. */
    public int reclaim(final int limit, final ReclaimSink sink)
    {
        return reclaim(limit, sink, true);
    }

    /**
     * Advances the epoch if it can, then moves up to {@code limit} eligible ids, oldest first, to {@code sink}.
     * Before it takes the try-lock it checks, with loads, whether anything could be eligible (after one advance
     * attempt): a reclaim that finds the epoch held back by a reader costs those loads, not a pass.
     *
     * @param fromRings also take the aged ids of every stripe's ring (the owners' limbo bags): needed so that an idle
     *     owner strands nothing; the allocation fast path leaves it to each owner ({@link #reclaimOwn}). Without it
     *     (a refill's look at the shared queue) nothing advances the epoch unless there is a quarantine: an advance may
     *     cost a heavy barrier, and the owners' amortised advances move the epoch for the queue's ids too.
     * @return how many ids were reclaimed, or {@link #BUSY} if another thread is reclaiming right now.
     */
    public int reclaim(final int limit, final ReclaimSink sink, final boolean fromRings)
    {
        if (queue.isEmpty() && (!fromRings || ringsEmpty()))
        {
            return 0;
        }
        boolean advanced = false;
        if (0 == quarantineNs && !mayReclaim(domain.epoch(), fromRings))
        {
            if (!fromRings || !domain.tryAdvance())
            {
                return 0; // a refill does not advance, or a reader holds the epoch back: loads only
            }
            advanced = true;
            if (!mayReclaim(domain.epoch(), fromRings))
            {
                return 0;
            }
        }
        if (!reclaiming.compareAndSet(false, true))
        {
            return BUSY;
        }
        int n = 0;
        try
        {
            // NOTE: single writer (the try-lock holder); opaque so passes() reads a whole value, nothing published.
            passes.setOpaque(passes.getPlain() + 1);
            final long nowNs = clock.nanoTime();
            coarseClock.update(nowNs);
            if (!advanced && (fromRings || 0 != quarantineNs))
            {
                domain.tryAdvance();
            }
            final long epoch = domain.epoch();
            if (fromRings)
            {
                takeAged(epoch);
            }
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
            // NOTE: written only when they change: they share this object's lines with the final fields that every
            // reclaim reads, and a pass over an empty queue (most passes while ids are scarce) changes none of them.
            head = queue.relaxedPeek();
            if (null != head && headRetiredNs != head.retiredNs)
            {
                headRetiredNs = head.retiredNs;
            }
            final long newHeadEpoch = null == head ? NO_HEAD : head.epoch;
            if (headEpoch != newHeadEpoch)
            {
                headEpoch = newHeadEpoch;
            }
            if (headPresent != (null != head))
            {
                headPresent = null != head;
            }
        }
        finally
        {
            reclaiming.set(false);
        }
        return n;
    }

    /** Reclaim passes run so far (calls of {@link #reclaim} that took the try-lock). */
    public long passes()
    {
        return passes.getOpaque();
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
            final long taken = bag.takenAcquire(); // NOTE: taken before count, so count - taken >= 0
            ids += bag.countAcquire() - taken;
        }
        ids += queue.size() + bagSurplus.get();
        return (int)Math.min(Integer.MAX_VALUE, Math.max(0, ids));
    }

    /**
     * Age of the oldest retired id, in ns: the larger of the queue head's age as of the last reclaim pass (without a
     * quarantine, ids are stamped with a clock that only reclaim passes update, so that figure is coarse) and, for each
     * stripe ring that holds ids, how long ago its oldest segment's epoch began ({@link EpochDomain#epochAgeNs}: a lower
     * bound). The rings count: an idle or dead owner's ring can hold ids for long while the queue is empty. O(stripes)
     * loads; for monitoring.
     */
    public long oldestWaitNs()
    {
        long waitNs = headPresent ? Math.max(0, clock.nanoTime() - headRetiredNs) : 0;
        for (final StripeRetireBag bag : stripeBags)
        {
            final long taken = bag.takenAcquire();
            // NOTE: count after taken (acquire): a count above taken published the stamp of slot taken; a take racing
            // this read can only leave a newer stamp there (a smaller age: still a lower bound).
            if (bag.countAcquire() > taken)
            {
                waitNs = Math.max(waitNs, domain.epochAgeNs(bag.epochAt(taken)));
            }
        }
        return waitNs;
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
