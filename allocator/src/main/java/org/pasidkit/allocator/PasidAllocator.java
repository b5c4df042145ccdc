package org.pasidkit.allocator;

import java.util.concurrent.TimeUnit;

import org.agrona.BitUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.pasidkit.allocator.internal.EpochReclaimQueue;
import org.pasidkit.allocator.internal.GraceIdBitmap;
import org.pasidkit.allocator.internal.GraceIdBitmapDescriptor;
import org.pasidkit.allocator.internal.IdBitmap;
import org.pasidkit.allocator.internal.IdStateTable;
import org.pasidkit.allocator.internal.StripedIdCache;
import org.pasidkit.allocator.internal.VersionedIdBitmap;
import org.pasidkit.allocator.internal.VersionedIdBitmapDescriptor;

/**
 * The PASID allocator: an off-heap claim bitmap, striped per-CPU caches in front of it, and an epoch reclaim queue
 * behind {@link #free}. Ids come from {@code [minId, maxId]} ({@code 1 .. 2^20 - 1} by default); 0 is never
 * handed out. A small range ({@link #DIRECT_MAX_IDS} without a grace period, {@link #DIRECT_GRACE_MAX_IDS} with one;
 * no quarantine) is built without caches ({@link #hasPerCpuCaches()}): a versioned bitmap alone, one CAS per allocate
 * or free, "no id" two passes of loads, one when nothing changed since the last "no id" (with a grace period, 2-bit
 * states and paced epoch sweeps: {@code DirectGrace}).
 * Its threads start their searches at homes spread in the order their hints first allocate ({@link #homeOf}).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method is safe from any thread.</li>
 *   <li>Progress: {@link #allocate()}, {@link #allocate(int, int)}, {@link #free}, {@link #retire},
 *       {@link #release} and {@link #reclaim} are lock-free, except that a scan that finds no free id in the bitmap
 *       waits for any refill or flush in flight on another thread (see {@code StripedIdCache#scanBegin}), and a
 *       steal from another thread's cache waits for that thread to leave an operation on it (nanoseconds, unless it
 *       was preempted inside one; {@code StripedIdCache#steal});
 *       {@link #reserve} may spin for the few-instruction window in which another thread is returning that very id
 *       to the bitmap or pushing it into its ring ({@code CACHING}), and a {@link #free} or {@link #retire} of an id
 *       that another thread is claiming from the bitmap at that moment (a double free racing the claim) waits for the
 *       claim's state store the same way. Without caches, with a grace period ({@code DirectGrace}), an allocation
 *       whose sweep finds another thread sweeping waits for that sweep, at most
 *       {@code DirectGrace.SWEEP_WAIT_SPINS} spins, then answers from its last search.
 *       {@link #allocate(long, TimeUnit)} blocks,
 *       with a timeout, by design.</li>
 *   <li>Allocation: the hot paths (allocate on a cache hit, free, retire, release) allocate no Java objects.
 *       Allocating: the first lease of a stripe by a thread (nothing), the first retirement of an id (one ticket,
 *       reused after), {@link #allocate(long, TimeUnit)} (an idle strategy), the checked variants when they
 *       throw, {@link EpochDomain#register()}.</li>
 *   <li>No stranding: {@link #EXHAUSTED} is returned only when a scan of the bitmap and of every cache found no
 *       free id while no refill or flush was in flight; ids cached by idle threads are taken from their caches.
 *       {@link #ALL_IN_GRACE} is returned when, besides that, ids are retired or held. The exhaustion scan is the
 *       one place that waits for another thread: for a refill or flush in flight to finish.</li>
 *   <li>Nothing lost: every id is at every instant in exactly one state of {@link IdState}; {@link #counts} sums
 *       to the capacity at quiescence.</li>
 *   <li>Bad input throws {@link IllegalArgumentException} naming the value and the rule, and changes nothing.</li>
 *   <li>Reuse: with a grace period (the default) a freed id is reused only after (a) its holders released it,
 *       (b) two epoch advances, (c) the quarantine time; ids reclaimed inline go to the tail of the reclaiming
 *       thread's FIFO cache, so retired ids are reused oldest first: exactly within one thread's frees, at the
 *       granularity of a retire bag (a run of one stripe's retired ids) across threads. Without caches (a small
 *       range, {@code DirectGrace}) reuse is delayed and cyclic instead: a retired id comes back in a sweep, which an
 *       allocation runs only when it finds no free id (paced: a lone freed id within {@link #SWEEP_EVERY_FAILURES}
 *       allocations of a thread), or {@link #reclaim} runs.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Without caches (VersionedIdBitmap, a small range without a grace period): allocate = a search from the thread's
 *   hint and one CAS of the word (claim bit and version); free = one CAS (the bit is the arbiter: a racing double
 *   free finds it clear); "no id" = two passes of loads, valid because every change steps its word's version (one
 *   pass when every word still has the versions sum of the hint's last "no id": nothing changed since). No state
 *   bytes, no rings, no move counts: each operation writes one line, as sbitmap does. Every promise below holds, the
 *   progress ones trivially (nothing waits for another thread). The hints (one per stripe's worth of threads, by
 *   thread id) are raced with plain stores: a stale hint only moves where a search starts.
 * - Without caches, with a grace period (GraceIdBitmap, DirectGrace): the same shape with 2-bit states; a free is one
 *   CAS to RETIRED, and sweeps (a try-lock; paced, see DirectGrace.noneFree) stamp and free retired ids. The price of
 *   the pacing: a lone freed id comes back within SWEEP_EVERY_FAILURES allocations of a thread, not at the first;
 *   eager sweeps made every free of the exhaustion churn pay one (RESULTS.md).
 * - Hot path, cache hit: allocate = probe + enter (an opaque store, AsymmetricFence.light(), a load) + a plain pop +
 *   exit (a release store): no atomic instruction, and with membarrier no fence (issue 13; the thief that may take
 *   from the ring pays AsymmetricFence.heavy() instead); free without grace =
 *   one CAS (IN_USE -> CACHED) + a plain slot store; free with grace = one CAS (IN_USE -> RETIRED) + plain stores
 *   into the stripe's retire ring (a CAS and an XADD offer per bag of up to 64 ids; see EpochReclaimQueue).
 *   The state CAS on free is what makes a racing double free harmless. A CAS-free free
 *   (acquire check + release store) was tried: Lincheck found a racing double free through two paths corrupting
 *   the state (CACHED with its bit clear, then handed out twice), so one atomic per side stays.
 * - Slow path order: inline reclaim into the thread's own ring (FIFO reuse), refill from the bitmap (one CAS for up
 *   to refillBatch ids), then the exhaustion scan (bitmap, then steal from every ring, re-run while ids moved).
 * - Scarce ids: a steal costs a heavy barrier (microseconds), so ids must not sit in one thread's ring while another
 *   starves. An allocation that finds the whole bitmap empty marks ids scarce (a read-mostly flag, written only when
 *   it changes); then, as a bitmap allocator does, frees go straight to the bitmap and an allocation whose ring ran
 *   dry claims one id straight from the bitmap (claimDirect: a read-only search, one CAS, no move counted: the claim
 *   is its linearization point and hides no free id), after taking a scan token, so a failed search is the first half
 *   of the exhaustion scan, which goes on with the steal and the validation, not a second bitmap pass; until a
 *   search finds a word with half its ids free (StripedIdCache.PLENTY_FREE_BITS). A free straight to the bitmap stays
 *   a move (between its state CAS and its bit clear the id is free but in no bitmap word or ring). Measured on the exhaustion churn
 *   (2 threads, 512 ids): the flag is set once and stays set (it does not flip); what cost was the batch-1 refill (a
 *   second bitmap pass before every exhaustion scan) and claimDirect's shared atomic move counters, which both
 *   threads wrote. With a grace period, an allocation's reclaim while scarce takes exactly the oldest eligible id and
 *   hands it over straight to IN_USE (HandSink, for its own retire ring and for the shared pass): an id that sat
 *   CACHED in its ring between the reclaim and the pop was seen by the other thread's exhaustion pre-scan, which then
 *   paid a steal's heavy barrier for an id gone by the time it held the ring (2,300-3,300 heavy barriers per million
 *   churn ops; about none after). The rest stay in retire order in the rings and the queue: FIFO reuse, pinned by
 *   PasidAllocatorModelTest.retiredIdsAreReusedInRetireOrder (sending all but one to the bitmap broke that order).
 */
public sealed class PasidAllocator implements IdAllocator permits PasidAllocator.WithoutCaches
{
    /** Default lowest id: 0 means "no PASID" and is never handed out. */
    public static final int DEFAULT_MIN_ID = 1;
    /** Default highest id: 20-bit PASIDs. */
    public static final int DEFAULT_MAX_ID = (1 << 20) - 1;
    /** Most ids one inline reclaim pass moves; the ring takes what it has room for, the bitmap the rest. */
    static final int RECLAIM_PASS_LIMIT = 1024;
    /**
     * Rescans an exhaustion scan makes while another thread holds the shared reclaim pass, before it answers
     * {@link #ALL_IN_GRACE} (true then: ids were in their grace period at its scan). Bounded: a reclaimer descheduled
     * mid-pass must not hold an allocation that can answer.
     */
    static final int MAX_BUSY_RETRIES = 64;
    /**
     * Reclaim backlog per stripe above which an allocation whose ring ran dry insists on reclaiming (more passes, a
     * short wait for a busy reclaimer) before it takes fresh ids from the bitmap.
     */
    static final int BACKLOG_BOUND_PER_STRIPE = 1024;
    /** Attempts an allocation above the backlog bound makes to reclaim (spins, then yields) before refilling. */
    static final int BUSY_WAIT_LIMIT = 256;
    /** Of those, how many spin before the rest yield; also the spins of a free waiting out a claim in flight. */
    static final int BUSY_SPIN_LIMIT = 64;
    /**
     * Largest range that an allocator without a quarantine builds without per-CPU caches unless told otherwise
     * ({@link Builder#perCpuCaches}): 4096 ids, a 12-bit PASID space (the narrow devices, quotas and small hosts whose
     * range two threads can exhaust). There the caches could hold a large share of the range (8 stripes of 256 ids
     * on 2 CPUs hold 2048), so threads would mostly meet in the scarce path; a bitmap whose words say when they
     * changed answers "no id" with loads alone ({@link VersionedIdBitmap}).
     */
    public static final int DIRECT_MAX_IDS = 4096;
    /**
     * Ids up to which the default build with a grace period has no per-CPU caches ({@code DirectGrace}): a larger
     * bound than {@link #DIRECT_MAX_IDS}, as the cached grace path's scarce mode (retire rings, limbo, lean refills,
     * exhaustion scans) is slower than sweeps of a bitmap up to 2^14 ids (RESULTS.md: the churn and a two-thread pair
     * at 6000-16384 ids).
     */
    public static final int DIRECT_GRACE_MAX_IDS = 16384;
    /**
     * Without caches, with a grace period: answers {@link #ALL_IN_GRACE} of one hint's threads (threads whose ids
     * agree in their low bits) after which one sweeps, however few ids are retired: a thread gets a freed id back,
     * with no reader holding the epoch, within this many allocations. Fewer retired than a sixteenth of the range (at
     * most 64) wait for that; more are swept at the first failure.
     *
     * <p>32, the ski-rental point of what waiting and sweeping cost: a sweep (two passes over the range's lines, two
     * epoch advances) cost about 1.1 us while two threads churned an exhausted 512-id range, an {@code ALL_IN_GRACE}
     * answer 35-40 ns, so about 30 answers cost one sweep; waiting that long before buying the sweep costs at most
     * twice the best choice made knowing the future. At 16 the churn's successes paid a sweep every 11.6 of them
     * (0.75x sbitmap's ops/s, same-JVM harness); at 32, 0.86x, with 15% more successful allocations a second
     * (RESULTS.md, 2026-12-05 night; that harness timed every call, which compresses differences: untimed, 32 gives
     * 0.88-0.99x in the host's slow state, RESULTS.md 2026-12-06).</p>
     */
    public static final int SWEEP_EVERY_FAILURES = 32;
    /** Ints between two direct-mode hints: 128 bytes, so adjacent-line prefetch does not pair two hints. */
    private static final int DIRECT_HINT_STRIDE = 32;
    /**
     * Beside a direct-mode hint: the word its threads start from (its home), -1 until its first allocation assigns it
     * ({@link #homeOf}).
     */
    private static final int HINT_HOME = 1;
    /** Beside a direct-mode hint: the low 32 bits of the sweep generation its threads last saw (DirectGrace). */
    private static final int HINT_GENERATION = 2;

    private final int minId;
    private final int maxId;
    private final IdBitmap bitmap;
    private final IdStateTable states;
    private final StripedIdCache cache;
    private final EpochReclaimQueue reclaimQueue;
    private final EpochReclaimQueue.ReclaimSink bitmapSink;
    private final EpochReclaimQueue.ReclaimSink[] stripeSinks;
    /** Per stripe: the sink of the owner's reclaim of its own retired ids (its moves count on its own line). */
    private final EpochReclaimQueue.ReclaimSink[] ownSinks;
    /** Per stripe: the sink of an allocation's reclaim of one own id while ids are scarce ({@link #reclaimOwnTake}). */
    private final HandSink[] handSinks;
    /** Per stripe: the same for an allocation's shared pass while ids are scarce (moves counted as MovingSink's). */
    private final HandSink[] passSinks;
    private final int refillBatch;
    /**
     * Search hints: of claimDirect (16 ints apart), or of {@link Direct} and {@link DirectGrace}
     * ({@link #DIRECT_HINT_STRIDE} apart).
     */
    final int[] directHints;
    /** Without caches: the mask of a thread id's low bits that picks its hint ({@link #hintIndex}); else 0. */
    private final int directHintMask;
    /** Without caches: the words of the bitmap (homes are spread over them); else 0. */
    private final int directWords;
    /** Without caches: homes assigned so far, in first-allocation order ({@link #homeOf}); else null. */
    private final java.util.concurrent.atomic.AtomicInteger homesAssigned;

    PasidAllocator(final Builder builder)
    {
        this.minId = builder.minId;
        this.maxId = builder.maxId;
        if (builder.direct())
        {
            // NOTE: one hint per stripe's worth of threads, as sbitmap keeps one per CPU: threads start their searches
            // at different words. The versioned bitmap itself is the subclass's (Direct).
            final int words = builder.immediateReuse ? VersionedIdBitmapDescriptor.wordCount((long)maxId - minId + 1) :
                GraceIdBitmapDescriptor.wordCount((long)maxId - minId + 1);
            this.directHints = new int[(builder.stripes + 2) * DIRECT_HINT_STRIDE];
            for (int s = 0; s < builder.stripes; s++)
            {
                directHints[(s + 1) * DIRECT_HINT_STRIDE] = -1;
                directHints[(s + 1) * DIRECT_HINT_STRIDE + HINT_HOME] = -1;
                directHints[(s + 1) * DIRECT_HINT_STRIDE + HINT_GENERATION] = -1;
            }
            this.directHintMask = builder.stripes - 1;
            this.directWords = words;
            this.homesAssigned = new java.util.concurrent.atomic.AtomicInteger();
            this.bitmap = null;
            this.states = null;
            this.cache = null;
            this.refillBatch = 0;
            this.reclaimQueue = null;
            this.bitmapSink = null;
            this.stripeSinks = null;
            this.ownSinks = null;
            this.handSinks = null;
            this.passSinks = null;
            return;
        }
        this.bitmap = new IdBitmap(minId, maxId);
        this.states = new IdStateTable(minId, maxId);
        this.cache = new StripedIdCache(builder.stripes, builder.cacheCapacity, states);
        this.refillBatch = builder.refillBatch;
        this.directHintMask = 0;
        this.directWords = 0;
        this.homesAssigned = null;
        final int words = bitmap.wordCount();
        this.directHints = new int[builder.stripes * 16];
        for (int s = 0; s < builder.stripes; s++)
        {
            // spread the stripes' starting words over the bitmap, as sbitmap spreads its per-CPU hints
            final int start = (int)((long)words * s / builder.stripes);
            cache.hint(s, start);
            directHints[s * 16] = start;
        }
        if (builder.immediateReuse)
        {
            this.reclaimQueue = null;
        }
        else
        {
            final EpochDomain domain = null != builder.epochDomain ?
                builder.epochDomain : new EpochDomain(builder.maxReaders);
            this.reclaimQueue = new EpochReclaimQueue(
                minId, maxId, domain, states, builder.clock, builder.quarantineNs, builder.stripes);
        }
        this.bitmapSink = new MovingSink(-1);
        this.stripeSinks = new EpochReclaimQueue.ReclaimSink[builder.stripes];
        this.ownSinks = new EpochReclaimQueue.ReclaimSink[builder.stripes];
        this.handSinks = new HandSink[builder.stripes];
        this.passSinks = new HandSink[builder.stripes];
        for (int s = 0; s < builder.stripes; s++)
        {
            stripeSinks[s] = new MovingSink(s);
            ownSinks[s] = new OwnSink(s);
            handSinks[s] = new HandSink(s, true);
            passSinks[s] = new HandSink(s, false);
        }
    }

    /**
     * An allocator without per-CPU caches (a small range, {@link Builder#perCpuCaches}): {@link Direct} without a
     * grace period, {@link DirectGrace} with one. What has no cache is said here once.
     */
    abstract static sealed class WithoutCaches extends PasidAllocator permits Direct, DirectGrace
    {
        WithoutCaches(final Builder builder)
        {
            super(builder);
        }

        @Override
        public final void releaseThreadCache()
        {
            // no cache
        }

        @Override
        public final int stripes()
        {
            return 0;
        }

        @Override
        public final boolean hasPerCpuCaches()
        {
            return false;
        }
    }

    /**
     * The allocator without caches (a small range without a grace period, {@link Builder#perCpuCaches}): a
     * {@link VersionedIdBitmap} alone. It overrides every method that touches a structure, so the cached allocator
     * carries no test of which one it is and no field of this one (with the test in {@code allocate} and {@code free}
     * the grace pair measured about 1 ns slower, an interleaved A/B of 3 rounds; a JVM that never builds this class
     * devirtualizes the cached calls by class hierarchy analysis). The superclass's structures are null here.
     */
    static final class Direct extends WithoutCaches
    {
        /** Longs between two hints' records in {@link #fullSums}: 128 bytes, as the hints. */
        private static final int FULL_SUM_STRIDE = 16;
        private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

        private final VersionedIdBitmap bitmap;
        /**
         * Per hint, {@link #FULL_SUM_STRIDE} apart: the versions sum of the last whole-range search of the hint's
         * threads that answered "no id", or {@link VersionedIdBitmap#NO_SUM}. Opaque accesses, raced by the threads
         * that share the hint: any value a search stored is a sum that search validated, whichever thread's.
         */
        private final long[] fullSums;

        Direct(final Builder builder)
        {
            super(builder);
            this.bitmap = new VersionedIdBitmap(builder.minId, builder.maxId);
            this.fullSums = new long[(builder.stripes + 2) * FULL_SUM_STRIDE];
            java.util.Arrays.fill(fullSums, VersionedIdBitmap.NO_SUM);
        }

        @Override
        public int allocate()
        {
            return allocate(minId(), maxId(), hintIndex());
        }

        @Override
        public int allocate(final int lo, final int hi)
        {
            checkSubRange(lo, hi);
            return allocate(lo, hi, hintIndex());
        }

        /**
         * One id of {@code [lo, hi]} from the versioned bitmap, searched from this thread's hint (a word index shared
         * by the threads whose ids agree in their low bits, raced with plain stores: a stale hint only moves where a
         * search starts). One CAS; "no id" is two passes of loads. For the whole range, one pass when every word is
         * full with the versions sum of this hint's last "no id" (nothing changed since: the range is still full),
         * and a "no id" records its sum: an allocation that keeps finding the range full costs one pass.
         */
        private int allocate(final int lo, final int hi, final int hintIndex)
        {
            int hint = directHints[hintIndex];
            if (hint < 0)
            {
                hint = homeOf(hintIndex); // NOTE: the hint's first allocation (a free may have set it before: then not)
                directHints[hintIndex] = hint;
            }
            final boolean whole = lo == minId() && hi == maxId();
            final int slot = hintIndex / (DIRECT_HINT_STRIDE / FULL_SUM_STRIDE);
            final long answer = bitmap.claim(lo, hi, hint,
                whole ? (long)LONGS.getOpaque(fullSums, slot) : VersionedIdBitmap.NO_SUM);
            if (answer <= 0)
            {
                final long sum = -1 - answer;
                if (whole && (long)LONGS.getOpaque(fullSums, slot) != sum)
                {
                    // NOTE: written only when it changes: the hint's threads share the line
                    LONGS.setOpaque(fullSums, slot, sum);
                }
                return EXHAUSTED;
            }
            final int id = (int)answer;
            moveHint(hintIndex, bitmap.wordOf(id));
            return id;
        }

        /** One CAS; refused, with nothing changed, if the id's bit is clear. */
        @Override
        public void free(final int id)
        {
            checkId(id);
            if (!bitmap.release(id))
            {
                throw notInUse(id);
            }
            // NOTE: as sbitmap_put does: the freeing thread's next search starts at the word it just wrote (its line is
            // in this CPU's cache).
            moveHint(hintIndex(), bitmap.wordOf(id));
        }

        @Override
        public boolean reserve(final int id)
        {
            checkId(id);
            return bitmap.tryClaim(id);
        }

        @Override
        public long nativeBytes()
        {
            return bitmap.nativeBytes();
        }


        /** From the id's bit: in use or free, the only two states here. */
        @Override
        byte state(final int id)
        {
            return bitmap.isClaimed(id) ? IdStateTable.IN_USE : IdStateTable.FREE;
        }

        @Override
        void countStates(final long[] byState)
        {
            java.util.Arrays.fill(byState, 0);
            byState[IdStateTable.IN_USE] = bitmap.claimedCount();
            byState[IdStateTable.FREE] = capacity() - byState[IdStateTable.IN_USE];
        }
    }

    /**
     * The allocator without caches that has a grace period (a small range, {@link Builder#perCpuCaches}): a
     * {@link GraceIdBitmap} alone, whose 2-bit states are the only record of every id. Allocate = a search and one CAS
     * (FREE to IN_USE); free = one CAS (IN_USE to RETIRED); retired ids go back to FREE in a sweep once their grace
     * period has passed, run when an allocation finds no free id but retired ones, or by {@link #reclaim}.
     *
     * <p>Reuse order: a retired id becomes free again only in a sweep, and an allocation sweeps only when it finds no
     * free id, so a freed id is reused only after every id that was free when it was retired has been handed out
     * (delayed, cyclic reuse: the longest wait a bitmap can give, as amdgpu's cyclic PASID reuse wants); within one
     * sweep's batch, in the order of the search. Strict FIFO (least recently retired first) needs the per-CPU caches'
     * retire rings: {@code perCpuCaches(true)}.</p>
     */
    static final class DirectGrace extends WithoutCaches
    {
        /**
         * Sweeps an allocation makes when each frees ids that another thread then takes first, before it answers
         * {@link #ALL_IN_GRACE} (true then: its last search found ids retired and none free).
         */
        static final int MAX_SWEEP_ROUNDS = 64;
        /**
         * Spins an allocation whose sweep found another thread sweeping waits for that sweep to end before it searches
         * again (a sweep of 4096 ids takes microseconds); past them it answers from its last search.
         */
        static final int SWEEP_WAIT_SPINS = 1 << 14;
        /** Most retired ids a search may find before its allocation sweeps (fewer on a small range: a 16th of it). */
        static final int MAX_SWEEP_BATCH = 64;
        /** Longs between two hints' "none free" records: 128 bytes, as the hints. */
        private static final int NONE_FREE_STRIDE = 16;
        private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

        private final GraceIdBitmap bitmap;
        private final EpochDomain domain;
        private final NanoClock clock;
        /** Retired ids at which a failed allocation sweeps: a 16th of the range, in [1, {@link #MAX_SWEEP_BATCH}]. */
        private final int sweepBatch;
        /**
         * Per hint, {@link #NONE_FREE_STRIDE} apart (opaque accesses: raced by the threads that share the hint, each
         * value true whoever wrote it): [0] an even sweep generation at which a whole-range search found no free id
         * and some retired or held, else -1; [1] answers "none free" since the hint's threads last swept.
         */
        private final long[] noneFree;

        DirectGrace(final Builder builder)
        {
            super(builder);
            this.bitmap = new GraceIdBitmap(builder.minId, builder.maxId);
            this.domain = null != builder.epochDomain ? builder.epochDomain : new EpochDomain(builder.maxReaders);
            this.clock = builder.clock;
            this.sweepBatch = (int)Math.max(1, Math.min(MAX_SWEEP_BATCH, capacity() / 16));
            this.noneFree = new long[(builder.stripes + 2) * NONE_FREE_STRIDE];
            for (int i = 0; i < noneFree.length; i += NONE_FREE_STRIDE)
            {
                noneFree[i] = -1;
            }
        }

        /**
         * One id: a search from this thread's hint and one CAS. If a search of this hint's threads found none free at
         * the current sweep generation, it answers {@link #ALL_IN_GRACE} from that (one load): only a sweep makes an id
         * free here, so none is free yet, and the ids it found retired or held still are.
         */
        @Override
        public int allocate()
        {
            final int hintIndex = hintIndex();
            final int slot = slotOf(hintIndex);
            final long generation = bitmap.generation();
            if ((long)LONGS.getOpaque(noneFree, slot) == generation)
            {
                return stillNoneFree(slot, hintIndex);
            }
            int hint = directHints[hintIndex];
            if (directHints[hintIndex + HINT_GENERATION] != (int)generation)
            {
                // NOTE: a sweep freed ids since this hint's threads last searched: they start again at the hint's home.
                // Searches walk forward through FREE ids and leave RETIRED ones behind, so without this two threads
                // whose homes were half a range apart met at one frontier after a lap and shared its line for every
                // allocation (plain racy stores: a stale hint only moves where a search starts).
                hint = homeOf(hintIndex);
                directHints[hintIndex] = hint;
                directHints[hintIndex + HINT_GENERATION] = (int)generation;
            }
            final int id = bitmap.claim(hint);
            if (id > 0)
            {
                moveHint(hintIndex, bitmap.wordOf(id));
                return id;
            }
            if (GraceIdBitmap.NONE_FREE != id && 0 == (generation & 1) && bitmap.generation() == generation)
            {
                // NOTE: no sweep freed an id between the generation's two loads, so "none free" is true at the second
                // (ids only left FREE since the search's answer) and stays true until the generation moves.
                LONGS.setOpaque(noneFree, slot, generation);
            }
            return noneFree(minId(), maxId(), hintIndex, slot, id);
        }

        @Override
        public int allocate(final int lo, final int hi)
        {
            checkSubRange(lo, hi);
            final int hintIndex = hintIndex();
            final int id = bitmap.claim(lo, hi, directHints[hintIndex]);
            if (id > 0)
            {
                moveHint(hintIndex, bitmap.wordOf(id));
                return id;
            }
            return noneFree(lo, hi, hintIndex, slotOf(hintIndex), id);
        }

        /** The "none free" record of the hint at {@code hintIndex} in {@link #noneFree}. */
        private static int slotOf(final int hintIndex)
        {
            return (hintIndex / DIRECT_HINT_STRIDE) * NONE_FREE_STRIDE;
        }

        /** A whole-range allocation while the generation says none is free: a count, every so often a sweep. */
        private int stillNoneFree(final int slot, final int hintIndex)
        {
            return paced(slot) ? ALL_IN_GRACE :
                sweepAndClaim(minId(), maxId(), hintIndex, GraceIdBitmap.NONE_FREE_SOME_RETIRED);
        }

        /**
         * A search found no free id ({@code found}: what it found instead). With retired ids among them, sweep (free
         * those past their grace, advancing the epoch if that frees nothing) and search again, paced.
         */
        private int noneFree(final int lo, final int hi, final int hintIndex, final int slot, final int found)
        {
            if (found > GraceIdBitmap.NONE_FREE_SOME_RETIRED)
            {
                return GraceIdBitmap.NONE_FREE == found ? EXHAUSTED : ALL_IN_GRACE;
            }
            if (GraceIdBitmap.retiredIn(found) < sweepBatch)
            {
                // NOTE: pacing. A sweep costs passes over the range and up to two epoch advances (shared lines); sweeping
                // at every failure made every free cost one while two threads churned an exhausted range. So a failure
                // sweeps once a batch of ids is retired, or at every SWEEP_EVERY_FAILURES-th answer "none free" of its
                // hint's threads (so a lone retired id comes back too); the others answer ALL_IN_GRACE, true of their
                // search.
                if (paced(slot))
                {
                    return ALL_IN_GRACE;
                }
            }
            else
            {
                LONGS.setOpaque(noneFree, slot + 1, 0L);
            }
            return sweepAndClaim(lo, hi, hintIndex, found);
        }

        /**
         * Counts one answer "none free" of the hint whose record is at {@code slot}: true if it is answered without a
         * sweep, false (the count starts again) if this one sweeps, every {@link #SWEEP_EVERY_FAILURES}-th.
         */
        private boolean paced(final int slot)
        {
            final long failures = (long)LONGS.getOpaque(noneFree, slot + 1) + 1;
            LONGS.setOpaque(noneFree, slot + 1, failures < SWEEP_EVERY_FAILURES ? failures : 0L);
            return failures < SWEEP_EVERY_FAILURES;
        }

        /** Sweeps and searches again while sweeps free ids that others take first (bounded); else the answer. */
        private int sweepAndClaim(final int lo, final int hi, final int hintIndex, final int found)
        {
            int answer = found;
            for (int round = 0; answer <= GraceIdBitmap.NONE_FREE_SOME_RETIRED && round < MAX_SWEEP_ROUNDS; round++)
            {
                final int freed = bitmap.sweep(domain, clock, true);
                if (0 == freed)
                {
                    break; // NOTE: nothing past its grace, and the epoch could not move on: a reader holds it back
                }
                if (freed < 0 && !bitmap.awaitSweep(SWEEP_WAIT_SPINS))
                {
                    break; // NOTE: the other sweeper is still at it (descheduled?): the last search's answer
                }
                answer = bitmap.claim(lo, hi, directHints[hintIndex]);
                if (answer > 0)
                {
                    moveHint(hintIndex, bitmap.wordOf(answer));
                    return answer;
                }
                if (freed < 0)
                {
                    // NOTE: another thread swept (answering ALL_IN_GRACE while it ran, with ids about to be freed and
                    // no reader holding any back, failed 10-14% of two threads' allocate/free pairs on 512 ids): one
                    // search after it ended for what it freed, then the answer.
                    break;
                }
            }
            return GraceIdBitmap.NONE_FREE == answer ? EXHAUSTED : ALL_IN_GRACE;
        }

        /** One CAS (IN_USE to RETIRED); refused, with nothing changed, if the id is not in use. */
        @Override
        public void free(final int id)
        {
            checkId(id);
            if (!bitmap.retire(id))
            {
                throw notInUse(id);
            }
        }

        @Override
        public void retire(final int id, final int holders)
        {
            checkId(id);
            if (holders < 0)
            {
                throw new IllegalArgumentException("holders " + holders + " of id " + id + " must be >= 0");
            }
            if (!(0 == holders ? bitmap.retire(id) : bitmap.retireHeld(id, holders)))
            {
                throw notInUse(id);
            }
        }

        @Override
        public int release(final int id)
        {
            checkId(id);
            final int left = bitmap.release(id);
            if (left < 0)
            {
                throw noHolder(id);
            }
            return left;
        }

        @Override
        public int holders(final int id)
        {
            checkId(id);
            return bitmap.holders(id);
        }

        /** A sweep: frees every id past its grace, advancing the epoch (twice if the readers allow) if none is. */
        @Override
        public int reclaim()
        {
            return Math.max(0, bitmap.sweep(domain, clock, true));
        }

        @Override
        public boolean reserve(final int id)
        {
            checkId(id);
            return bitmap.tryClaim(id);
        }

        @Override
        public AllocatorCounts counts(final AllocatorCounts into)
        {
            super.counts(into);
            final long oldestSeenNs = bitmap.oldestSeenNs();
            into.reclaimBacklog = into.retired;
            into.oldestWaitNs = Long.MAX_VALUE == oldestSeenNs ? 0 : Math.max(0, clock.nanoTime() - oldestSeenNs);
            into.epoch = domain.epoch();
            into.readersHoldingBack = domain.readersHoldingBack();
            into.reclaimPasses = bitmap.sweeps();
            return into;
        }

        @Override
        public EpochDomain epochDomain()
        {
            return domain;
        }

        @Override
        public boolean hasGracePeriod()
        {
            return true;
        }

        @Override
        public long nativeBytes()
        {
            return bitmap.nativeBytes();
        }


        @Override
        byte state(final int id)
        {
            switch ((int)bitmap.state(id))
            {
                case (int)GraceIdBitmapDescriptor.FREE:
                    return IdStateTable.FREE;
                case (int)GraceIdBitmapDescriptor.IN_USE:
                    return IdStateTable.IN_USE;
                case (int)GraceIdBitmapDescriptor.HELD:
                    return IdStateTable.HELD;
                default:
                    return IdStateTable.RETIRED;
            }
        }

        @Override
        void countStates(final long[] byState)
        {
            bitmap.countStates(byState);
        }
    }

    /**
     * A builder with the defaults: {@code [1, 2^20 - 1]}, stripes = 4 x CPUs rounded up to a power of two (at most
     * 1024; see {@link #defaultStripes}).
     */
    public static Builder builder()
    {
        return new Builder();
    }

    @Override
    public String name()
    {
        return "pasidkit";
    }

    @Override
    public int minId()
    {
        return minId;
    }

    @Override
    public int maxId()
    {
        return maxId;
    }

    /** Ids in range. */
    public long capacity()
    {
        return (long)maxId - minId + 1;
    }

    /** The epoch domain readers must use, or null if this allocator reuses ids at once. */
    public EpochDomain epochDomain()
    {
        return null == reclaimQueue ? null : reclaimQueue.domain();
    }

    /** Whether freed ids wait for a grace period. */
    public boolean hasGracePeriod()
    {
        return null != reclaimQueue;
    }

    /**
     * Hands out a free id from the whole range. Lock-free; 0 B on a cache hit.
     *
     * @return an id, or {@link #EXHAUSTED}, or {@link #ALL_IN_GRACE}.
     */
    @Override
    public int allocate()
    {
        final int stripe = cache.stripeOf(Thread.currentThread());
        // NOTE: a cache hit is enter (an opaque store, AsymmetricFence.light(), a load), a plain pop, exit (a release
        // store): no atomic instruction, and no fence in MEMBARRIER mode.
        if (stripe >= 0)
        {
            final int id = cache.enterPop(stripe);
            if (id > 0)
            {
                return id;
            }
            if (0 == id)
            {
                return allocateScan(minId, maxId, stripe, true);
            }
        }
        return allocateAroundCache(stripe);
    }

    /** No stripe, or a thief holds this thread's ring just now: the bitmap, then the exhaustion scan. */
    private int allocateAroundCache(final int stripe)
    {
        if (null != reclaimQueue)
        {
            reclaimBeforeRefill(bitmapSink);
        }
        return allocateScan(minId, maxId, stripe, false);
    }

    /**
     * The reclaim an allocation does when its ring ran dry, before it takes fresh ids from the bitmap. Below the
     * backlog bound: one pass. Above it the allocation insists, so that retired ids come back at the rate they are
     * retired instead of piling up while fresh ids are taken: a pass may move a quarter of the backlog (at most 4096
     * ids, to keep one allocation's pass short), passes are
     * repeated while they advance the epoch, and a busy reclaimer (another thread mid-pass) is waited for, spinning
     * then yielding, for at most {@link #BUSY_WAIT_LIMIT} attempts. The wait is bounded, so a reclaimer descheduled
     * mid-pass delays nobody for long: after the limit the allocation takes fresh ids and the backlog may pass its
     * bound until the reclaimer runs again (visible in {@link AllocatorCounts#reclaimBacklog()}).
     */
    private int reclaimBeforeRefill(final EpochReclaimQueue.ReclaimSink sink)
    {
        // NOTE: the shared queue only (sealed bags, tickets): the stripes' rings are their owners' to reclaim, and
        // scanning them here would read every other owner's line on every refill. Loads only when nothing is eligible.
        final int got = reclaimQueue.reclaim(passLimit(RECLAIM_PASS_LIMIT, sink), sink, false);
        if (got > 0)
        {
            return got;
        }
        final long bound = backlogBound();
        int attempts = 0;
        int backlog;
        while ((backlog = reclaimQueue.backlog()) > bound && attempts < BUSY_WAIT_LIMIT)
        {
            final int n = reclaimMoving(
                passLimit(Math.min(4 * RECLAIM_PASS_LIMIT, Math.max(RECLAIM_PASS_LIMIT, backlog >>> 2)), sink), sink);
            if (n > 0)
            {
                return n;
            }
            if (EpochReclaimQueue.BUSY == n)
            {
                if (++attempts < BUSY_SPIN_LIMIT)
                {
                    Thread.onSpinWait();
                }
                else
                {
                    Thread.yield(); // NOTE: the reclaimer may be descheduled mid-pass; give it the CPU
                }
            }
            else if (!reclaimQueue.domain().tryAdvance())
            {
                return 0; // a reader holds the epoch back: waiting would not help, fresh ids will
            }
            else
            {
                attempts++;
            }
        }
        return 0;
    }

    /**
     * Retired ids above which an allocation whose ring ran dry insists on reclaiming: per stripe, its limbo (the
     * owner's retire ring up to its seal threshold, which the amortised advance lets fill to about 2.5 x its cadence:
     * the light limbo, 8192 ids at 2^20 over 2 stripes, or the whole ring while its advances pay a heavy barrier, so
     * that the allocation does not then force the advances the pacing spreads out) plus
     * {@link #BACKLOG_BOUND_PER_STRIPE}. 0 without a grace period.
     */
    long backlogBound()
    {
        return null == reclaimQueue ? 0 :
            reclaimQueue.limboCapacity() + (long)BACKLOG_BOUND_PER_STRIPE * cache.stripeCount();
    }

    /**
     * The owner's reclaim of its own retired ids into its ring, keeping a refill's worth of room (as {@link MovingSink}).
     *
     * @param urgent drive the grace period (up to two epoch advances) rather than wait for the amortised advance.
     */
    private int reclaimOwn(final int stripe, final boolean urgent)
    {
        final int room = cache.capacity() - refillBatch - cache.size(stripe);
        return room <= 0 ? 0 : reclaimQueue.reclaimOwn(stripe, room, ownSinks[stripe], urgent);
    }

    /**
     * An allocation's reclaim of the stripe's own aged ids (inside an operation on it): a batch into the ring, then a
     * pop. While ids are scarce, exactly the oldest, straight to {@code IN_USE}: it never sits {@code CACHED} in the
     * ring, where another thread's exhaustion scan would see it and pay a steal's heavy barrier for an id this thread
     * pops a moment later (the grace exhaustion churn paid 2,300-3,300 heavy barriers per million ops, its "no id"
     * p99.9 40 us), and the rest stay in the retire ring, in retire order, for whichever thread allocates next.
     *
     * @return an id now in use, or 0.
     */
    private int reclaimOwnTake(final int stripe, final boolean urgent)
    {
        if (cache.scarce())
        {
            final HandSink sink = handSinks[stripe];
            sink.id = 0;
            reclaimQueue.reclaimOwn(stripe, 1, sink, urgent);
            return sink.id;
        }
        return reclaimOwn(stripe, urgent) > 0 ? cache.pop(stripe) : 0;
    }

    /**
     * A refill found no free id in the bitmap: the stripe enters lean mode (its next refills reclaim its own retired
     * ids urgently before they look at the bitmap) and reclaims urgently now, before the exhaustion scan.
     *
     * @return an id now in use, or 0.
     */
    private int reclaimOwnLean(final int stripe)
    {
        reclaimQueue.enterLean(stripe);
        return reclaimOwnTake(stripe, true);
    }

    /**
     * Hands out a free id inside {@code [lo, hi]} (a device with a narrower PASID width): the oldest id of the
     * thread's own cache ring if it lies in {@code [lo, hi]} (a pop, as a cache hit of {@link #allocate()}); else
     * searches the bitmap, then takes a cached id in range from any cache. Lock-free, 0 B.
     *
     * @return an id in {@code [lo, hi]}, or {@link #EXHAUSTED} (every id of the sub-range in use), or
     *     {@link #ALL_IN_GRACE}.
     * @throws IllegalArgumentException if {@code [lo, hi]} is empty or not inside {@code [minId, maxId]}.
     */
    public int allocate(final int lo, final int hi)
    {
        checkSubRange(lo, hi);
        if (lo == minId && hi == maxId)
        {
            return allocate();
        }
        final int stripe = cache.leasedStripeOf(Thread.currentThread());
        if (stripe >= 0)
        {
            // NOTE: the thread's own ring first, its oldest id only: a thread that allocates for a narrow device frees
            // into its ring, and its next sub-range allocation found those ids neither in the bitmap (they are claimed
            // there) nor in the depot, so it searched the bitmap for a fresh one and its frees went round through
            // the depot and back to the bitmap (45-67 ns a pair against 12-13 for the whole range). An id outside the
            // sub-range at the head: the search, as before.
            final int id = cache.enterPopIn(stripe, lo, hi);
            if (id > 0)
            {
                return id;
            }
        }
        return allocateScan(lo, hi, stripe, false);
    }

    /**
     * The allocation's whole miss path. With {@code dryRing}, first what a whole-range allocation does when its ring ran
     * dry (called inside an operation on {@code stripe}, which it ends before any scan): its own aged ids, the shared
     * reclaim, the depot, a refill from the bitmap. Then the exhaustion scan: the bitmap, then every ring, valid only if
     * no move of free ids overlapped it; then, with a grace period, the reclaim that may free ids.
     *
     * @param dryRing true: {@code [lo, hi]} is the whole range and the caller is inside an operation on its stripe's
     *     empty ring; false: the scan only (no ring, a thief holds it, or a sub-range).
     */
    /*
     * NOTE: one method on purpose, above C2's cap for inlining a hot callee (FreqInlineSize, 325 bytes of bytecode on
     * HotSpot 17 through 25): the refill was a method of its own (240 bytes), and C2 inlined it into allocate() when
     * the call was hot, as it is in the grace build whenever the ring runs dry. The inlined miss path cost the cache
     * hit itself: a JMH fork of the 50%-held set ran the grace build in 19-20 ns while its loop ran in its OSR
     * compile (refill not inlined) and in 25 ns once the loop's normal compile inlined it, in 8 forks of 9;
     * -XX:CompileCommand=dontinline on the refill gave 17.6 ns in every fork, and the grace pair 9.65 ns against 10.37
     * (bench/RESULTS.md). A library cannot pass that flag; this size is the rule it can rely on.
     */
    private int allocateScan(final int lo, final int hi, final int stripe, final boolean dryRing)
    {
        long scanToken = -1;
        if (dryRing)
        {
            // NOTE: the refill phase (the ring ran dry): it ends the operation on the ring before the scan below.
            int id = 0;
            try
            {
                // NOTE: the owner's own aged ids first (its limbo, FIFO, no shared write), then the shared queue. In
                // lean mode (its last refill found the bitmap without a free id) it drives the grace period of its own
                // ids.
                if (null != reclaimQueue && 0 == (id = reclaimOwnTake(stripe, reclaimQueue.leanTurn(stripe))))
                {
                    // NOTE: while ids are scarce the shared pass hands one id over directly, as reclaimOwnTake does.
                    final EpochReclaimQueue.ReclaimSink sink =
                        cache.scarce() ? takeSink(stripe) : stripeSinks[stripe];
                    if (reclaimBeforeRefill(sink) > 0)
                    {
                        id = takenBy(sink, stripe);
                    }
                }
                final boolean scarce = cache.scarce();
                if (0 == id)
                {
                    // NOTE: while ids are scarce, the scan token before the depot and the bitmap: if both turn out
                    // empty, that was the first half of the exhaustion scan, and the scan below goes on with the steal
                    // and the validation instead of a second pass (an allocation that answers "no id" searches the
                    // bitmap once).
                    scanToken = scarce ? cache.scanToken() : -1;
                    id = cache.takeFromDepot(stripe);
                }
                if (0 == id)
                {
                    // NOTE: while ids are scarce the ring caches none: one id straight from the bitmap, as a bitmap
                    // allocator claims it.
                    id = scarce ?
                        claimDirect(minId, maxId, cache.homeOf(Thread.currentThread()) * 16) :
                        cache.refill(stripe, refillBatch, bitmap);
                }
                if (0 == id && null != reclaimQueue)
                {
                    // NOTE: the bitmap had nothing: drive the grace of the stripe's own ids
                    id = reclaimOwnLean(stripe);
                }
            }
            finally
            {
                cache.exit(stripe);
            }
            if (0 != id)
            {
                return id;
            }
        }
        final Thread thread = Thread.currentThread();
        final int hintIndex = cache.homeOf(thread) * 16;
        int busyRetries = 0;
        for (long moves = scanToken; ; moves = -1)
        {
            int id;
            if (moves < 0)
            {
                // NOTE: the token first, then the depot: magazines are seen by neither half of the scan, so they go
                // back to the bitmap (a move: this round's validation fails and the next finds their ids); a magazine
                // offered after the token makes the validation fail too. (The depot drained before the token left a
                // window: a flush completed between the two, its ring emptied by its owner, and the magazine missed.)
                // NOTE: the search does not wait for a move in flight (usually a free to the bitmap by another thread,
                // the one that failed the last validation: its bit is about to clear): only a search that finds nothing
                // while a move was in flight waits it out and searches again.
                for (boolean wait = false; moves < 0; wait = true)
                {
                    moves = wait ? cache.scanBegin() : cache.scanToken();
                    cache.drainDepot(bitmap);
                    id = claimDirect(lo, hi, hintIndex);
                    if (id > 0)
                    {
                        return id;
                    }
                }
            }
            if (lo == minId && hi == maxId)
            {
                cache.markScarce(); // NOTE: the whole bitmap is empty: frees bypass the rings until a refill finds plenty
            }
            id = cache.steal(lo, hi);
            if (id > 0)
            {
                return id;
            }
            // NOTE: grace counts are read before the validation, held before backlog: a last release enqueues
            // before it drops the held count, and a reclaim pass is a move, so an id on its way out of grace is seen
            // in one of them or makes the validation fail (jcstress ReclaimIntoRingVsSteal, UnbindVsAllocate).
            // A sub-range asks about its own ids: ids in grace elsewhere must not turn its EXHAUSTED into ALL_IN_GRACE
            // (Lincheck's grace model found that). Its test reads the state bytes of the sub-range (O(hi - lo)).
            final boolean wholeRange = lo == minId && hi == maxId;
            final long inGrace = null == reclaimQueue ? 0 : wholeRange ?
                reclaimQueue.heldCount() + reclaimQueue.backlog() : (states.anyInGrace(lo, hi) ? 1 : 0);
            if (!cache.scanStillValid(moves))
            {
                continue;
            }
            if (0 == inGrace)
            {
                return EXHAUSTED;
            }
            // Drive the grace period ourselves: two advances are needed for ids retired in the current epoch.
            // A whole-range allocation with a cache takes them through its FIFO ring (oldest retired first): its own
            // retired ids first (no shared write), then the shared pass, which also takes aged ids from every ring.
            // The ring is used inside an operation on it (enter); if a thief holds it just now, the bitmap takes them.
            final boolean viaRing = stripe >= 0 && wholeRange && cache.enter(stripe);
            // NOTE: while ids are scarce a pass into the ring hands one id over directly (reclaimOwnTake's reason).
            final EpochReclaimQueue.ReclaimSink sink = !viaRing ? bitmapSink :
                cache.scarce() ? takeSink(stripe) : stripeSinks[stripe];
            int got = 0;
            try
            {
                id = viaRing ? reclaimOwnTake(stripe, true) : 0;
                got = id > 0 ? 1 : 0;
                for (int pass = 0; pass < 3 && got <= 0; pass++)
                {
                    got = reclaimMoving(passLimit(RECLAIM_PASS_LIMIT, sink), sink);
                    if (EpochReclaimQueue.BUSY == got)
                    {
                        // Another thread is reclaiming: the ids it frees land in its ring or the bitmap, where the
                        // next scan finds them. Not a reason to report ALL_IN_GRACE.
                        busyRetries++;
                        Thread.onSpinWait();
                        break;
                    }
                }
                if (0 == id && got > 0 && viaRing)
                {
                    id = takenBy(sink, stripe);
                }
            }
            finally
            {
                if (viaRing)
                {
                    cache.exit(stripe);
                }
            }
            if (id > 0)
            {
                return id;
            }
            if (got > 0)
            {
                continue;
            }
            if (EpochReclaimQueue.BUSY == got && busyRetries < MAX_BUSY_RETRIES)
            {
                continue;
            }
            // NOTE: true at the scan: ids were retired or held and none free (a busy reclaimer past the bound of
            // rescans may free some later; the caller retries or blocks with allocate(timeout)).
            return ALL_IN_GRACE;
        }
    }

    /**
     * Claims an id straight from the bitmap. Not a move: the id stops being free at the bit's claim, the linearization
     * point, and no free id is out of sight of a scan meanwhile (the state store that follows makes it visibly
     * {@code IN_USE} to readers of the state; a scan reads bits and rings, not states of free ids). So a claim writes
     * no line that an exhaustion scan reads. A word found with half its ids free ends scarcity.
     */
    private int claimDirect(final int lo, final int hi, final int hintIndex)
    {
        // NOTE: a read-only search first: a range with no clear bit (the exhaustion case) answers with loads; the
        // claim below starts at the word found.
        final int word = bitmap.findClearWord(lo, hi, startWord(lo, hi, directHints[hintIndex]));
        if (word < 0)
        {
            return 0;
        }
        if (cache.scarce() && Long.bitCount(~bitmap.word(word)) >= StripedIdCache.PLENTY_FREE_BITS)
        {
            cache.clearScarce(); // NOTE: as refill does: plenty again, the rings may cache
        }
        final int id = bitmap.claimInRange(lo, hi, word);
        if (id > 0)
        {
            directHints[hintIndex] = bitmap.wordOf(id);
            states.putRelease(id, IdStateTable.IN_USE);
        }
        return id;
    }

    /**
     * Where a direct claim's search starts: the thread's hint if it lies in {@code [lo, hi]}; else (a sub-range
     * allocation whose hint lies elsewhere in the range) a place in the sub-range picked by the thread's stripe (its
     * home if it has none), bit-reversed as {@link #spreadIndex} spreads homes. Two threads allocating for narrow
     * devices then start far apart instead of both at the sub-range's first word, whose state bytes share a line (two
     * threads' sub-range pairs: 53-61 ns against 12-16 for one thread, each recycling an id next to the other's).
     */
    private int startWord(final int lo, final int hi, final int hint)
    {
        final int firstWord = bitmap.wordOf(lo);
        final int lastWord = bitmap.wordOf(hi);
        if (hint >= firstWord && hint <= lastWord)
        {
            return hint;
        }
        final Thread thread = Thread.currentThread();
        final int stripe = cache.leasedStripeOf(thread);
        final int stripes = cache.stripeCount();
        final int spread = spreadIndex(stripe >= 0 ? stripe : cache.homeOf(thread), stripes);
        return firstWord + (int)((long)(lastWord - firstWord + 1) * spread / stripes);
    }

    /**
     * Checked {@link #allocate()}.
     *
     * @throws IdsExhaustedException when no id can be handed out, saying whether ids are in their grace period.
     */
    public int allocateOrThrow()
    {
        return checked(allocate(), minId, maxId);
    }

    /**
     * Checked {@link #allocate(int, int)}.
     *
     * @throws IdsExhaustedException when no id of the sub-range can be handed out.
     */
    public int allocateOrThrow(final int lo, final int hi)
    {
        return checked(allocate(lo, hi), lo, hi);
    }

    private int checked(final int id, final int lo, final int hi)
    {
        if (id > 0)
        {
            return id;
        }
        if (ALL_IN_GRACE == id)
        {
            throw new IdsExhaustedException("no free id in [" + lo + ", " + hi + "]: every id not in use is waiting " +
                "out its grace period; retry after reclaim", true);
        }
        throw new IdsExhaustedException("no free id in [" + lo + ", " + hi + "]: every id is in use", false);
    }

    /**
     * Blocking allocate: retries, driving reclaim, until an id is free or the timeout passes. Allocates an idle
     * strategy per call; parks between attempts (up to 1 ms).
     *
     * @return an id, or {@link #EXHAUSTED} / {@link #ALL_IN_GRACE} as of the last attempt at the deadline.
     */
    public int allocate(final long timeout, final TimeUnit unit)
    {
        final long deadlineNs = System.nanoTime() + unit.toNanos(timeout);
        final IdleStrategy idle = new BackoffIdleStrategy(10, 20, 1_000, 1_000_000);
        while (true)
        {
            final int id = allocate();
            if (id > 0 || deadlineNs - System.nanoTime() <= 0)
            {
                return id;
            }
            idle.idle(reclaim());
        }
    }

    /**
     * Claims exactly {@code id} (it must be free, in the bitmap or in a cache).
     *
     * @return true if reserved (now in use); false if it is in use, retired or held.
     * @throws IllegalArgumentException if {@code id} is out of range.
     */
    public boolean reserve(final int id)
    {
        checkId(id);
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
                // NOTE: a cached id is taken out of its ring by the ring's holder: this thread's own ring as its owner,
                // another ring as a thief (a heavy barrier). In a depot magazine it is not found: drain the depot (a
                // move) and retry, the id is then in the bitmap.
                if (cache.takeCached(id, cache.leasedStripeOf(Thread.currentThread())))
                {
                    return true;
                }
                if (cache.drainDepot(bitmap))
                {
                    continue;
                }
            }
            else if (IdStateTable.FREE != state && IdStateTable.CACHING != state)
            {
                return false;
            }
            // FREE with the bit still set: another thread is between its state CAS and its bit clear (flush,
            // direct free, reclaim), or just claimed the bit for a refill. CACHING: a free is between its state CAS,
            // where the id stopped being in use (a second free of it is refused from there on), and its push (then
            // CACHED) or its free to the bitmap (then FREE); answering false there made reserve call a freed id taken
            // (Lincheck, fenced mode: free(1) refused, then reserve(1) false with nobody holding 1). All finish in a
            // few instructions.
            Thread.onSpinWait();
        }
    }

    /**
     * Frees an id: retires it into the reclaim queue (or, without a grace period, caches it at once). Lock-free,
     * 0 B in steady state.
     *
     * @throws IllegalArgumentException if {@code id} is out of range or not in use (double free, never allocated,
     *     already retired); nothing is changed then.
     */
    @Override
    public void free(final int id)
    {
        checkId(id);
        if (!freeOnce(id))
        {
            refused(id, -1);
        }
    }

    /** One attempt of {@link #free}: false if the id was not {@code IN_USE} (nothing changed). */
    private boolean freeOnce(final int id)
    {
        return null != reclaimQueue ? retireFreed(id) : returnToCache(id, IdStateTable.IN_USE);
    }

    /**
     * A free found the id not {@code IN_USE}. If its bit is claimed while its state still reads {@code FREE}, a claim
     * is in flight (claimDirect, a refill: between the bit's claim, where the id stopped being free, and the state
     * store) or a free to the bitmap is (between its state CAS and its bit clear): a few instructions on another thread.
     * It waits that out and tries again, so a free never calls an id "not in use" that an allocation has already taken
     * (Lincheck found that when claimDirect stopped counting a move: EXHAUSTED, then free(1) refused while 1 was being
     * claimed). Otherwise it throws, having changed nothing.
     *
     * @param holders of {@link #retire(int, int)}; -1 for {@link #free}.
     */
    private void refused(final int id, final int holders)
    {
        for (int spins = 0; ; spins++)
        {
            // NOTE: the state, then the bit: FREE with the bit clear means free (in the bitmap, or on its way into it)
            // at the bit's load, so the refusal is true then; any other state but IN_USE is not in use at its load.
            final byte state = states.get(id);
            if (IdStateTable.IN_USE != state && !(IdStateTable.FREE == state && bitmap.isClaimed(id)))
            {
                throw notInUse(id);
            }
            if (IdStateTable.IN_USE == state && (holders >= 0 ? reclaimQueue.retire(id, holders) : freeOnce(id)))
            {
                return;
            }
            if (spins < BUSY_SPIN_LIMIT)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield(); // NOTE: the claimer was preempted between its bit claim and its state store
            }
        }
    }

    /**
     * {@link #free} with a grace period (a method of its own, so that free stays small enough to inline).
     *
     * @return false if the id was not in use (nothing changed).
     */
    private boolean retireFreed(final int id)
    {
        // NOTE: the thread's stripe picks the ring the id is batched in. A thread that only frees (a completion
        // thread) leases a free stripe here, as the path without a grace period does (returnToCache): its frees
        // then cost plain stores into its retire ring instead of a queued ticket each, which moved between the two
        // cores id by id (cross-thread pairs: 219 ns with tickets here). Only when every stripe is leased does it
        // queue tickets.
        final int stripe = cache.stripeOf(Thread.currentThread());
        if (stripe < 0)
        {
            return reclaimQueue.retire(id, 0, -1);
        }
        final int retired = reclaimQueue.retireOwn(id, stripe);
        if (retired < 0)
        {
            return false;
        }
        // NOTE: a thread that frees more than it allocates reclaims its own aged ids too, every 32nd free once its
        // retire ring holds ownReclaimAt (the ring less two bags; an allocating owner's limbo stays below): into its
        // cache ring, whose overflow goes to the depot for the allocating threads (as without a grace period). A
        // compare otherwise.
        // NOTE: not while ids are scarce: a thread that only frees would hoard them in its ring, where the allocating
        // threads must steal them (a heavy barrier each); the shared pass takes them from its retire ring into the
        // allocating thread's ring instead, oldest first. Into the cache ring inside an operation on it (enter).
        if (0 == (retired & 31) && retired >= reclaimQueue.ownReclaimAt(stripe) && !cache.scarce() && cache.enter(stripe))
        {
            try
            {
                reclaimQueue.reclaimOwn(stripe, EpochReclaimQueue.BAG_CAPACITY, ownSinks[stripe]);
            }
            finally
            {
                cache.exit(stripe);
            }
        }
        return true;
    }

    /**
     * Retires an id that still has {@code holders} outstanding holders (bound devices): it is queued for its grace
     * period only after {@link #release} was called {@code holders} times.
     *
     * @throws IllegalArgumentException if the id is out of range or not in use, or {@code holders < 0}, or this
     *     allocator has no grace period; nothing is changed then.
     */
    public void retire(final int id, final int holders)
    {
        checkId(id);
        if (holders < 0)
        {
            throw new IllegalArgumentException("holders " + holders + " of id " + id + " must be >= 0");
        }
        if (null == reclaimQueue)
        {
            throw new IllegalArgumentException("retire(id " + id + ", holders " + holders +
                ") needs a grace period; this allocator reuses ids at once");
        }
        if (!reclaimQueue.retire(id, holders))
        {
            refused(id, holders);
        }
    }

    /**
     * One holder of a retired id says it is done with it; the last one queues the id for its grace period.
     *
     * @return holders still outstanding.
     * @throws IllegalArgumentException if the id is out of range or has no outstanding holder (a release below zero);
     *     nothing is changed then.
     */
    public int release(final int id)
    {
        checkId(id);
        final int left = null == reclaimQueue ? -1 :
            reclaimQueue.release(id, cache.leasedStripeOf(Thread.currentThread()));
        if (left < 0)
        {
            throw noHolder(id);
        }
        return left;
    }

    /** Outstanding holders of a retired id (0 unless {@link IdState#HELD}). */
    public int holders(final int id)
    {
        checkId(id);
        return null == reclaimQueue ? 0 : reclaimQueue.holders(id);
    }

    /**
     * Advances the epoch if every reader allows it and makes eligible retired ids reusable: into this thread's cache
     * if it holds one (FIFO), else into the bitmap. Non-blocking; 0 B.
     *
     * @return ids made reusable (0 also while another thread is reclaiming).
     */
    public int reclaim()
    {
        if (null == reclaimQueue)
        {
            return 0;
        }
        final int stripe = cache.leasedStripeOf(Thread.currentThread());
        if (stripe >= 0 && cache.enter(stripe))
        {
            try
            {
                final int own = reclaimOwn(stripe, true);
                return own + Math.max(0, reclaimMoving(RECLAIM_PASS_LIMIT, stripeSinks[stripe]));
            }
            finally
            {
                cache.exit(stripe);
            }
        }
        return Math.max(0, reclaimMoving(RECLAIM_PASS_LIMIT * 4, bitmapSink));
    }

    /**
     * The state of one id now (acquire load): a diagnostic. An id being claimed from the bitmap reads {@link IdState#FREE}
     * for the few instructions between its bit's claim (where it stopped being free) and its state store.
     */
    public IdState stateOf(final int id)
    {
        checkId(id);
        return IdState.of(state(id));
    }

    /**
     * Returns this thread's cached ids to the bitmap and gives up its stripe, so another thread can lease it.
     * Call it when a thread stops allocating for good; it is never needed for correctness.
     */
    public void releaseThreadCache()
    {
        final int stripe = cache.leasedStripeOf(Thread.currentThread());
        if (stripe >= 0)
        {
            while (!cache.enter(stripe))
            {
                Thread.onSpinWait(); // a thief holds the ring: it takes one id and lets go
            }
            try
            {
                cache.flushOldest(stripe, cache.capacity(), bitmap);
            }
            finally
            {
                cache.exit(stripe);
            }
            cache.unlease(stripe);
        }
    }

    /**
     * Fills {@code into} with a snapshot of the counts: a scan of the state table (O(range), about 8 ids a step),
     * allocation-free, without stopping the allocator.
     *
     * @return {@code into}.
     */
    public AllocatorCounts counts(final AllocatorCounts into)
    {
        final long[] byState = into.byState;
        countStates(byState);
        into.capacity = capacity();
        into.free = byState[IdStateTable.FREE];
        into.cached = byState[IdStateTable.CACHED];
        into.inUse = byState[IdStateTable.IN_USE] + byState[IdStateTable.CACHING];
        into.retired = byState[IdStateTable.RETIRED];
        into.held = byState[IdStateTable.HELD];
        if (null != reclaimQueue)
        {
            into.reclaimBacklog = reclaimQueue.backlog();
            into.oldestWaitNs = reclaimQueue.oldestWaitNs();
            into.epoch = reclaimQueue.domain().epoch();
            into.readersHoldingBack = reclaimQueue.domain().readersHoldingBack();
            into.reclaimPasses = reclaimQueue.passes();
        }
        return into;
    }

    /** Native memory held: bitmap, state table and caches, in bytes. */
    public long nativeBytes()
    {
        return bitmap.nativeBytes() + states.nativeBytes() + cache.nativeBytes();
    }

    /** Stripes of the per-CPU cache; 0 for an allocator without caches ({@link #hasPerCpuCaches()}). */
    public int stripes()
    {
        return cache.stripeCount();
    }

    /**
     * Whether ids pass through per-CPU caches. Without (a small range: {@link #DIRECT_MAX_IDS} ids without a grace
     * period, {@link #DIRECT_GRACE_MAX_IDS} with one; or {@link Builder#perCpuCaches}{@code (false)}) every allocation
     * and free is one CAS on a bitmap word.
     */
    public boolean hasPerCpuCaches()
    {
        return true;
    }

    /** A pass into a {@link HandSink} takes one id: the sink holds one. */
    private static int passLimit(final int limit, final EpochReclaimQueue.ReclaimSink sink)
    {
        return sink instanceof HandSink ? 1 : limit;
    }

    /** The shared pass's hand-over sink of {@code stripe}, emptied. */
    private HandSink takeSink(final int stripe)
    {
        final HandSink sink = passSinks[stripe];
        sink.id = 0;
        return sink;
    }

    /** After a pass into {@code sink} that reclaimed ids: the id it handed over, or a pop from the ring. */
    private int takenBy(final EpochReclaimQueue.ReclaimSink sink, final int stripe)
    {
        return sink instanceof HandSink ? ((HandSink)sink).id : cache.pop(stripe);
    }

    private int reclaimMoving(final int limit, final EpochReclaimQueue.ReclaimSink sink)
    {
        return reclaimQueue.reclaim(limit, sink);
    }

    /**
     * A reclaim sink whose passes count as moves: between its poll and its push a reclaimed id is visible neither
     * in a ring nor in the bitmap nor in the queue's backlog, so exhaustion scans must not overlap a pass.
     */
    private final class MovingSink implements EpochReclaimQueue.ReclaimSink
    {
        private final int stripe;

        MovingSink(final int stripe)
        {
            this.stripe = stripe;
        }

        @Override
        public void reclaimed(final int id)
        {
            // NOTE: the ring takes reclaimed ids (FIFO reuse) while it has room for a refill to spare; the rest spill
            // to the bitmap, so one pass can drain everything eligible and the backlog stays bounded.
            if (stripe >= 0 && cache.size(stripe) < cache.capacity() - refillBatch)
            {
                reclaimedToStripe(stripe, id);
            }
            else
            {
                reclaimedToBitmap(id);
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

    /**
     * The sink of an allocation's reclaim while ids are scarce ({@link #reclaimOwnTake}, and the shared pass of
     * {@link #allocateScan}, in its refill phase and its scan): the one id reclaimed goes straight to {@code IN_USE} (a
     * release store by its exclusive holder: the take that gave it to this thread was a CAS) and is handed to the
     * caller, never {@code CACHED} in a ring. Its pass is an owner move (as {@link OwnSink}) or a shared one (as
     * {@link MovingSink}). Owner of the stripe only.
     */
    private final class HandSink implements EpochReclaimQueue.ReclaimSink
    {
        private final int stripe;
        private final boolean ownerMove;
        int id;

        HandSink(final int stripe, final boolean ownerMove)
        {
            this.stripe = stripe;
            this.ownerMove = ownerMove;
        }

        @Override
        public void reclaimed(final int id)
        {
            states.putRelease(id, IdStateTable.IN_USE);
            this.id = id;
        }

        @Override
        public void beginPass()
        {
            if (ownerMove)
            {
                cache.beginOwnerMove(stripe);
            }
            else
            {
                cache.beginMove();
            }
        }

        @Override
        public void endPass()
        {
            if (ownerMove)
            {
                cache.endOwnerMove(stripe);
            }
            else
            {
                cache.endMove();
            }
        }
    }

    /**
     * The sink of an owner's reclaim of its own retired ids ({@link EpochReclaimQueue#reclaimOwn}): into its ring, as
     * {@link MovingSink} does, but the move is counted on the stripe's own line (no shared write).
     */
    private final class OwnSink implements EpochReclaimQueue.ReclaimSink
    {
        private final int stripe;

        OwnSink(final int stripe)
        {
            this.stripe = stripe;
        }

        @Override
        public void reclaimed(final int id)
        {
            // NOTE: the caller bounds the take by the ring's room (allocation) or takes a bag's worth (a thread that
            // only frees): a full ring hands its oldest half to the depot, where allocating threads take it whole.
            reclaimedToStripe(stripe, id);
        }

        @Override
        public void reclaimedAll(final int[] ids, final long from, final long to, final int mask)
        {
            // NOTE: the batch (a refill's worth from an allocation's own reclaim): slots and one tail store, then the
            // states, as reclaimedToStripe does id by id; an id becomes CACHED only once it sits in the window. A
            // batch that does not fit (a thread that only frees, its ring full) goes id by id, via the depot.
            if (cache.pushAll(stripe, ids, from, to, mask))
            {
                states.putReleaseAllHeld(ids, from, to, mask, IdStateTable.CACHED);
                return;
            }
            for (long i = from; i < to; i++)
            {
                reclaimedToStripe(stripe, ids[(int)i & mask]);
            }
        }

        @Override
        public void beginPass()
        {
            cache.beginOwnerMove(stripe);
        }

        @Override
        public void endPass()
        {
            cache.endOwnerMove(stripe);
        }
    }

    private boolean returnToCache(final int id, final byte from)
    {
        final int stripe = cache.stripeOf(Thread.currentThread());
        // NOTE: while ids are scarce (an allocation found the bitmap empty and had to steal), frees bypass the rings and
        // go to the bitmap, where every thread claims them with a CAS as sbitmap's do: a steal costs a heavy barrier,
        // so ids must not hide in one thread's ring while another starves. One load of a read-mostly line otherwise.
        if (stripe >= 0 && !cache.scarce())
        {
            // NOTE: busy first, then the CAS, then the check of stop: the CAS (a full fence on every HotSpot platform)
            // is the owner's store-load fence in the fenced mode, so a free pays one atomic in both modes; the id is
            // CACHING (taken by nobody, counted in use) until it sits in a slot.
            final int pushed = cache.enterPush(stripe, id, from);
            if (StripedIdCache.PUSHED == pushed)
            {
                return true;
            }
            if (StripedIdCache.NOT_IN_STATE == pushed)
            {
                return false;
            }
            if (StripedIdCache.PUSH_NOT_ADMITTED == pushed)
            {
                return freeToBitmap(stripe, id, from); // a thief holds the ring just now; the state is unchanged
            }
            if (StripedIdCache.PUSH_FULL == pushed)
            {
                pushFreed(stripe, id); // NOTE: inside the operation: makes room, pushes, CACHED
                cache.exit(stripe);
                return true;
            }
            return freeToBitmap(stripe, id, IdStateTable.CACHING); // a thief holds the ring just now
        }
        return freeToBitmap(stripe, id, from);
    }

    /**
     * A free straight to the bitmap. A move: by a stripe's owner ({@code stripe >= 0}) counted on the stripe's own line,
     * else on the shared counters.
     */
    private boolean freeToBitmap(final int stripe, final int id, final byte from)
    {
        if (stripe >= 0)
        {
            cache.beginOwnerMove(stripe);
        }
        else
        {
            cache.beginMove();
        }
        try
        {
            if (!states.compareAndSet(id, from, IdStateTable.FREE))
            {
                return false;
            }
            bitmap.clear(id);
            // NOTE: the freed id's word becomes this thread's search hint (and its stripe's refill hint), as Linux
            // sbitmap_queue_clear sets the CPU's alloc_hint to the freed tag: in a nearly full range the next claim
            // finds it without a scan. A plain store to a slot other threads may share: a hint, any value is safe.
            final int word = bitmap.wordOf(id);
            if (stripe >= 0)
            {
                cache.hint(stripe, word);
            }
            directHints[cache.homeOf(Thread.currentThread()) * 16] = word;
            return true;
        }
        finally
        {
            if (stripe >= 0)
            {
                cache.endOwnerMove(stripe);
            }
            else
            {
                cache.endMove();
            }
        }
    }

    /**
     * Inside an operation on {@code stripe}: appends an id this thread made {@code CACHING}, then makes it
     * {@code CACHED}. Slot first, then the state: the id becomes CACHED only once it sits in a slot of the live window,
     * so a thread that sees it CACHED ({@code stateOf}) and then scans finds it (jcstress NoFalseExhausted). A release
     * store, not a CAS: only this thread moves a CACHING id.
     */
    private void pushFreed(final int stripe, final int id)
    {
        if (cache.size(stripe) >= cache.capacity())
        {
            cache.flushToDepot(stripe, bitmap);
        }
        cache.push(stripe, id);
        states.putRelease(id, IdStateTable.CACHED);
    }

    // NOTE: reclaimed ids leave RETIRED with release stores, not CASes: once its ticket is queued, a RETIRED id is
    // moved only by the reclaimer holding the queue's try-lock (a second free or retire fails its IN_USE CAS, a
    // release needs HELD), so no other thread can race the store. Read by pop's and steal's CAS, get (acquire).

    private void reclaimedToStripe(final int stripe, final int id)
    {
        if (cache.size(stripe) >= cache.capacity())
        {
            cache.flushToDepot(stripe, bitmap);
        }
        cache.push(stripe, id); // NOTE: slot first, then CACHED, as in pushFreed
        states.putRelease(id, IdStateTable.CACHED);
    }

    private void reclaimedToBitmap(final int id)
    {
        states.putRelease(id, IdStateTable.FREE);
        bitmap.clear(id);
    }

    /** This thread's search hint in {@link #directHints} (without caches): chosen by the low bits of its id. */
    final int hintIndex()
    {
        return (((int)Thread.currentThread().getId() & directHintMask) + 1) * DIRECT_HINT_STRIDE;
    }

    /**
     * Where the {@code n}-th home of {@code stripes} (a power of two) lies, in stripe-widths of the range: {@code n}
     * with its bits reversed (0, 1/2, 1/4, 3/4, ...), so that consecutive homes are far apart. On a small range a
     * stripe-width is a fraction of a cache line: homes in stripe order put the hints of stripes 4 and 5 of 8 two
     * words apart on a 512-id range, in one line, and two threads' allocate/free pairs fought over it (73 ns a pair
     * against sbitmap's 16, RESULTS.md).
     */
    static int spreadIndex(final int n, final int stripes)
    {
        return stripes <= 1 ? 0 : Integer.reverse(n) >>> (32 - Integer.numberOfTrailingZeros(stripes));
    }

    /**
     * The home word of the direct-mode hint at {@code hintIndex}, assigned at its first call: the n-th hint to ask gets
     * {@link #spreadIndex}{@code (n)} stripe-widths into the range (0, 1/2, 1/4, 3/4, ... for 2^k stripes), whatever
     * the ids of its threads, so the first two threads to allocate start half a range apart. Racy plain stores: two
     * threads sharing the hint may both assign one, and either is a home.
     */
    final int homeOf(final int hintIndex)
    {
        int home = directHints[hintIndex + HINT_HOME];
        if (home < 0)
        {
            final int stripes = directHintMask + 1;
            final int order = homesAssigned.getAndIncrement() & directHintMask;
            home = (int)((long)directWords * spreadIndex(order, stripes) / stripes);
            directHints[hintIndex + HINT_HOME] = home;
        }
        return home;
    }

    /** Sets a hint to {@code word}, written only when it moves: threads sharing a hint share its line. */
    final void moveHint(final int hintIndex, final int word)
    {
        if (directHints[hintIndex] != word)
        {
            directHints[hintIndex] = word;
        }
    }

    final IllegalArgumentException noHolder(final int id)
    {
        return new IllegalArgumentException("id " + id + " has no outstanding holder to release (state " +
            IdStateTable.name(state(id)) + "): releasing would take its holder count below zero");
    }

    final void checkId(final int id)
    {
        if (id < minId || id > maxId)
        {
            throw new IllegalArgumentException("id " + id + " is outside the allocator's range [" + minId + ", " +
                maxId + "]");
        }
    }

    final void checkSubRange(final int lo, final int hi)
    {
        if (lo > hi || lo < minId || hi > maxId)
        {
            throw new IllegalArgumentException("sub-range [" + lo + ", " + hi + "] must be non-empty and lie inside " +
                "the allocator's range [" + minId + ", " + maxId + "]");
        }
    }

    /** The state of {@code id} (acquire load). */
    byte state(final int id)
    {
        return states.get(id);
    }

    /** Ids by state into {@code byState} (indexed by the IdStateTable codes): a scan of the state table. */
    void countStates(final long[] byState)
    {
        states.countStates(byState);
    }

    final IllegalArgumentException notInUse(final int id)
    {
        final byte state = state(id);
        final String why;
        switch (state)
        {
            case IdStateTable.FREE:
            case IdStateTable.CACHED:
                why = "it is free: a double free, or it was never allocated";
                break;
            case IdStateTable.RETIRED:
            case IdStateTable.HELD:
                why = "it was already freed and is waiting out its grace period: a double free";
                break;
            default:
                why = "another thread changed it concurrently";
        }
        return new IllegalArgumentException("id " + id + " is not in use (state " + IdStateTable.name(state) +
            "): " + why + "; nothing was changed");
    }

    /**
     * The default stripe count for {@code cpus} CPUs: 4 x CPUs rounded up to a power of two, at most 1024. A stripe is
     * leased by a thread, not a CPU (Java cannot ask which CPU it runs on), and a thread without a stripe goes around
     * the caches (the bitmap, the exhaustion scan, the shared reclaim queue): with one stripe per CPU, 4 threads on
     * 2 CPUs paid 306 ns (immediate) and 520 ns (grace) per pair, with 4 x CPUs 21 and 29 ns (pairT4, one fork each,
     * 2026-12-04). The price: an exhaustion scan reads every stripe's header (a few loads per idle stripe).
     */
    public static int defaultStripes(final int cpus)
    {
        return Math.min(1024, BitUtil.findNextPositivePowerOfTwo(4 * Math.max(1, cpus)));
    }

    /** Builds a {@link PasidAllocator}. */
    public static final class Builder
    {
        int minId = DEFAULT_MIN_ID;
        int maxId = DEFAULT_MAX_ID;
        int stripes = defaultStripes(Runtime.getRuntime().availableProcessors());
        int cacheCapacity = 256;
        int refillBatch = 32;
        boolean immediateReuse;
        /** {@link #perCpuCaches}: null until set (then chosen by the range). */
        Boolean perCpuCaches;
        /** Whether stripes, cache capacity or refill batch were set: a tuned cache is a cache asked for. */
        boolean cacheTuned;
        EpochDomain epochDomain;
        int maxReaders = 256;
        long quarantineNs;
        NanoClock clock = SystemNanoClock.INSTANCE;

        Builder()
        {
        }

        /**
         * The id range, inclusive.
         *
         * @throws IllegalArgumentException unless {@code 1 <= minId <= maxId <= 2^31 - 1}.
         */
        public Builder range(final int minId, final int maxId)
        {
            if (minId < 1 || minId > maxId)
            {
                throw new IllegalArgumentException("range [" + minId + ", " + maxId + "] must satisfy 1 <= min <= max " +
                    "<= " + Integer.MAX_VALUE + " (0 is never a PASID)");
            }
            this.minId = minId;
            this.maxId = maxId;
            return this;
        }

        /** Number of cache stripes, a power of two in [1, 1024]; default: {@link #defaultStripes} of the CPUs. */
        public Builder stripes(final int stripes)
        {
            if (stripes < 1 || stripes > 1024 || !BitUtil.isPowerOfTwo(stripes))
            {
                throw new IllegalArgumentException("stripes " + stripes + " must be a power of two in [1, 1024]");
            }
            this.stripes = stripes;
            this.cacheTuned = true;
            return this;
        }

        /** Ids a stripe's ring holds, a power of two in [2, 65536]; default 256. */
        public Builder cacheCapacity(final int capacity)
        {
            if (capacity < 2 || capacity > (1 << 16) || !BitUtil.isPowerOfTwo(capacity))
            {
                throw new IllegalArgumentException("cache capacity " + capacity +
                    " must be a power of two in [2, 65536]");
            }
            this.cacheCapacity = capacity;
            this.cacheTuned = true;
            return this;
        }

        /** Most ids one refill claims from one bitmap word (one CAS), in [1, 64]; default 32. */
        public Builder refillBatch(final int batch)
        {
            if (batch < 1 || batch > 64)
            {
                throw new IllegalArgumentException("refill batch " + batch + " must be in [1, 64]");
            }
            this.refillBatch = batch;
            this.cacheTuned = true;
            return this;
        }

        /** No grace period: a freed id may be handed out again at once (the allocator core alone). */
        public Builder immediateReuse()
        {
            this.immediateReuse = true;
            return this;
        }

        /**
         * Whether ids pass through per-CPU caches. Default: only for a range above {@link #DIRECT_MAX_IDS} ids (above
         * {@link #DIRECT_GRACE_MAX_IDS} with a grace period), when
         * the stripes, cache capacity or refill batch were set, or with a {@link #quarantine}. Without caches every
         * allocation and free is one CAS on a versioned bitmap word (sbitmap's cost), "no id" two passes of loads (one
         * when nothing changed since the last), and
         * the stripe count only spreads the threads' search hints; with a grace period, retired ids wait in the bitmap
         * (two bits an id) and a sweep frees them, and reuse is delayed and cyclic instead of FIFO
         * ({@code DirectGrace}). {@code false} with a quarantine is refused: the quarantine needs the retire rings.
         */
        public Builder perCpuCaches(final boolean perCpuCaches)
        {
            this.perCpuCaches = perCpuCaches;
            return this;
        }

        /** Use this epoch domain (shared with the readers that look ids up). Default: a new one. */
        public Builder epochDomain(final EpochDomain domain)
        {
            this.epochDomain = domain;
            this.immediateReuse = false;
            return this;
        }

        /** Reader slots of the default epoch domain; default 256. */
        public Builder maxReaders(final int maxReaders)
        {
            this.maxReaders = maxReaders;
            return this;
        }

        /** Minimum time a freed id waits before reuse, on top of the epoch grace (default 0: off). */
        public Builder quarantine(final long duration, final TimeUnit unit)
        {
            if (duration < 0)
            {
                throw new IllegalArgumentException("quarantine " + duration + " " + unit + " must be >= 0");
            }
            this.quarantineNs = unit.toNanos(duration);
            return this;
        }

        /** Clock for the quarantine (default: System.nanoTime). */
        public Builder clock(final NanoClock clock)
        {
            this.clock = clock;
            return this;
        }

        public PasidAllocator build()
        {
            if (Boolean.FALSE.equals(perCpuCaches) && !immediateReuse && 0 != quarantineNs)
            {
                throw new IllegalArgumentException("perCpuCaches(false) with a quarantine of " + quarantineNs +
                    " ns: a quarantine needs the per-CPU retire rings, which keep each id's retire time");
            }
            if ((long)cacheCapacity < 2L * refillBatch)
            {
                throw new IllegalArgumentException("cache capacity " + cacheCapacity +
                    " must be at least twice the refill batch " + refillBatch);
            }
            if (!direct())
            {
                return new PasidAllocator(this);
            }
            return immediateReuse ? new Direct(this) : new DirectGrace(this);
        }

        /** Whether the allocator built has no caches: see {@link #perCpuCaches}. */
        boolean direct()
        {
            if (null != perCpuCaches)
            {
                return !perCpuCaches;
            }
            return !cacheTuned && 0 == quarantineNs &&
                (long)maxId - minId + 1 <= (immediateReuse ? DIRECT_MAX_IDS : DIRECT_GRACE_MAX_IDS);
        }
    }
}
