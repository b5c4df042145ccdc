package org.pasidkit.stress.tool;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.pasidkit.allocator.AllocatorCounts;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.tables.AddressSpace;
import org.pasidkit.tables.AtcInvalidator;
import org.pasidkit.tables.Bond;
import org.pasidkit.tables.CapabilityException;
import org.pasidkit.tables.Device;
import org.pasidkit.tables.ExitEvent;
import org.pasidkit.tables.FaultAttribution;
import org.pasidkit.tables.PasidHandle;
import org.pasidkit.tables.PasidOwner;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.PasidSpaceCounts;
import org.pasidkit.tables.SimulatedIommu;
import org.pasidkit.tables.PasidEntryView;
import org.pasidkit.tables.RefusalKind;
import org.pasidkit.tables.counters.CountersPublisher;
import org.pasidkit.tables.counters.PasidkitCounterTypes;
import org.pasidkit.tables.internal.PasidTableDescriptor;

/**
 * Randomized concurrent life-cycle operations against the real {@link PasidSpace}, with invariants checked while it
 * runs and at quiescence. Each worker thread owns its own address spaces and standalone owners (so the model of what
 * it holds is exact), while lookups and fault reports go anywhere, and every acquisition of a PASID is checked
 * against a global claim table.
 */
public final class StressRun
{
    /** Operation kinds, in summary order. */
    enum Op
    {
        ALLOCATE, FREE, BIND, BIND_PRIVATE, UNBIND, EXIT, OWNER_CLOSE, RECLAIM, LOOKUP, FOREIGN_LOOKUP, FAULT,
        INVALIDATE
    }

    /** Slow drivers: an exit event is acted on this many ms late at least, and at most {@link #LATE_MAX_MS}. */
    static final long LATE_MIN_MS = 1;
    static final long LATE_MAX_MS = 100;
    /** Slow drivers: 1 in this many exit events is never acted on until the run ends (a stuck driver)... */
    static final int NEVER_ONE_IN = 10;
    /** ... as long as stuck drivers hold fewer than range / this many PASIDs' bonds, so the range never runs dry. */
    static final int NEVER_RANGE_FRACTION = 16;

    /** Settings. */
    static final class Config
    {
        int threads = 4;
        long seconds = 10;
        long operations;
        long seed = 1;
        boolean stallReaders;
        boolean slowDrivers;
        boolean exhaust;
        /** Hostile calls: foreign, forged and stale capabilities, each of which must be refused and counted. */
        boolean hostile;
        /** Unbind deadline in ms (0: off): a driver that has not unbound by then is revoked. */
        long deadlineMs;
        int devices = 3;
        /** Publish counters into a file in this directory (./pasidkit stat reads it), or null. */
        java.nio.file.Path countersDir;
    }

    /** The driver data every bond carries: who it belongs to, so a lookup can prove it got the right one. */
    static final class DrvData
    {
        final int thread;
        final long owner;
        final int pasid;
        final int rid;

        DrvData(final int thread, final long owner, final int pasid, final int rid)
        {
            this.thread = thread;
            this.owner = owner;
            this.pasid = pasid;
            this.rid = rid;
        }
    }

    private final Config config;
    private final PasidSpace space;
    private final AtcInvalidator invalidator;
    private final SimulatedIommu iommu;
    private final Device[] devices;
    private final int maxPasid;
    private final AtomicIntegerArray holder;
    private final AtomicIntegerArray outstanding;
    private final AtomicLongArray releaseEpoch;
    private final AtomicLongArray reuseStartNs;
    private final AtomicLong[] opCounts = new AtomicLong[Op.values().length];
    private final Map<String, AtomicLong> violationsByKind = new TreeMap<>();
    private final List<String> firstViolations = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong opsDone = new AtomicLong();
    /** Workers that left the workload for their end-of-run cleanup. */
    private final AtomicInteger workersInCleanup = new AtomicInteger();
    /** Peak retired + held during the end-of-run cleanup (reported apart from the workload's). */
    private long maxTeardownBacklog;
    private final AtomicLong stuckBonds = new AtomicLong();
    private final AtomicLong refusedInGrace = new AtomicLong();
    private final AtomicLong refusedFull = new AtomicLong();
    private final int stuckBondsCap;
    private long[] refusalsByKind;
    private long revocations;
    private final ThreadLocal<Worker> current = new ThreadLocal<>();
    /** Bonds bound now, by (PASID, requester id): whoever ends one (its unbind, or its revocation) claims it here. */
    private final ConcurrentHashMap<Long, Bond> liveBonds = new ConcurrentHashMap<>();
    /** Serializes the tool's claims of ending bonds (see {@link #claim}). */
    private final Object claims = new Object();
    /** Hostile calls made, and refusals expected from them and from late unbinds of revoked bonds, by kind. */
    private final AtomicLong hostileCalls = new AtomicLong();
    private final AtomicLongArray expectedRefusals = new AtomicLongArray(RefusalKind.values().length);
    private final AtomicLong revokedClaims = new AtomicLong();
    private final AtomicLong lateUnbindsRevoked = new AtomicLong();
    /** The hostile caller's own space: its capabilities are foreign to {@link #space}. */
    private final PasidSpace otherSpace;
    private final Device otherDevice;
    private final AddressSpace otherAs;
    private final Bond otherBond;
    private final PasidOwner otherOwner;
    private long maxBacklog;
    private long backlogRetiredAtMax;
    private long backlogHeldAtMax;
    /** Longest the global epoch stood still between two samples that saw it change (50 ms resolution). */
    private long maxEpochStallNs;
    /** At the backlog's peak: how long the epoch had stood still, and readers pinned at the last failed advance. */
    private long epochStallAtMaxNs;
    private int readersHoldingBackAtMax;
    /** Longest time with no reclaim pass between two samples (50 ms resolution), and that time at the backlog's peak. */
    private long maxReclaimGapNs;
    private long reclaimGapAtMaxNs;
    private long maxStuckBonds;
    private long maxOldestWaitNs;
    private final org.HdrHistogram.Histogram reuseLatency =
        new org.HdrHistogram.Histogram(TimeUnit.SECONDS.toNanos(600), 2);

    StressRun(final Config config)
    {
        this.config = config;
        this.maxPasid = config.exhaust ? 1023 : 65535;
        final PasidSpace.Builder builder = PasidSpace.builder().maxPasid(maxPasid).addressSpaceQuota(4)
            .maxBonds(1 << 18).unbindDeadline(config.deadlineMs, TimeUnit.MILLISECONDS)
            .deviceTlbFlush(this::revocationFlush);
        if (null != config.countersDir)
        {
            builder.counters(config.countersDir, "stress");
        }
        this.space = builder.build();
        this.invalidator = new AtcInvalidator(space, 1 << 20, 64, 2L << 20, TimeUnit.SECONDS.toNanos(10),
            config.threads + 1);
        this.iommu = new SimulatedIommu(invalidator);
        invalidator.assist(() -> iommu.poll(64));
        this.devices = new Device[config.devices];
        for (int d = 0; d < config.devices; d++)
        {
            devices[d] = space.addDevice(0x200 + d, d == config.devices - 1 ? 10 : 20, d != 1, this::onExit);
        }
        this.stuckBondsCap = maxPasid / NEVER_RANGE_FRACTION;
        this.otherSpace = PasidSpace.builder().maxPasid(15).build();
        this.otherDevice = otherSpace.addDevice(0x200, 20, true, null);
        this.otherAs = otherSpace.openAddressSpace(1);
        this.otherBond = otherSpace.bind(otherAs, otherDevice, "theirs", 0);
        this.otherOwner = otherSpace.openOwner("theirs");
        this.holder = new AtomicIntegerArray(maxPasid + 1);
        this.outstanding = new AtomicIntegerArray(maxPasid + 1);
        this.releaseEpoch = new AtomicLongArray(maxPasid + 1);
        this.reuseStartNs = new AtomicLongArray(maxPasid + 1);
        for (int i = 0; i < opCounts.length; i++)
        {
            opCounts[i] = new AtomicLong();
        }
        if (null != space.counters())
        {
            publishCounters(space.counters());
        }
    }

    /**
     * The tool's own counts beside the space's (which the publisher copies from {@link PasidSpace#counts}): the
     * operations it counts (the allocator counts no allocations or frees itself), its refusals and violations.
     */
    private void publishCounters(final CountersPublisher publisher)
    {
        publisher.addInvalidator(invalidator);
        publisher.addTotal(PasidkitCounterTypes.STRESS, "stress operations", this::operationCount);
        for (final Op op : Op.values())
        {
            publisher.addTotal(PasidkitCounterTypes.STRESS,
                "stress operations " + op.name().toLowerCase(java.util.Locale.ROOT), opCounts[op.ordinal()]::get);
        }
        publisher.addTotal(PasidkitCounterTypes.STRESS, "stress refusals all in grace", refusedInGrace::get);
        publisher.addTotal(PasidkitCounterTypes.STRESS, "stress refusals range full", refusedFull::get);
        publisher.addGauge(PasidkitCounterTypes.STRESS, "stress bonds kept until the end (--slow-drivers)",
            stuckBonds::get);
        publisher.addTotal(PasidkitCounterTypes.STRESS, "stress violations", this::violationCount);
    }

    /** Operations by every kind (the summary's "operations"; the end-of-run cleanup's included). */
    private long operationCount()
    {
        long sum = 0;
        for (final AtomicLong n : opCounts)
        {
            sum += n.get();
        }
        return sum;
    }

    private long violationCount()
    {
        synchronized (violationsByKind)
        {
            long sum = 0;
            for (final AtomicLong n : violationsByKind.values())
            {
                sum += n.get();
            }
            return sum;
        }
    }

    /** The counters file, or null if counters are off. */
    java.nio.file.Path countersPath()
    {
        return null == space.counters() ? null : space.counters().path();
    }

    long opsDone()
    {
        return opsDone.get();
    }

    void violation(final String kind, final String what)
    {
        synchronized (violationsByKind)
        {
            violationsByKind.computeIfAbsent(kind, (k) -> new AtomicLong()).incrementAndGet();
            if (firstViolations.size() < 10)
            {
                firstViolations.add(kind + ": " + what);
            }
        }
    }

    private void onExit(final ExitEvent event)
    {
        // NOTE: only OWNER_GONE asks the driver to act; a revocation's accounting was done by revocationFlush.
        if (ExitEvent.Kind.OWNER_GONE == event.kind())
        {
            current.get().exited(event);
        }
    }

    static long bondKey(final int pasid, final int requesterId)
    {
        return ((long)pasid << 16) | requesterId;
    }

    /**
     * The space's revocation flush (its control lock held): the IOMMU invalidates the device's ATC for the PASID and
     * syncs; then, before the space releases the bond's hold on the PASID, the tool accounts for the bond's end
     * (unless its driver's unbind claimed it first), so the reuse checks see the release before any reuse.
     */
    private boolean revocationFlush(final Device device, final int pasid)
    {
        if (!invalidator.flushDeviceTlb(device, pasid))
        {
            return false;
        }
        final long key = bondKey(pasid, device.requesterId());
        synchronized (claims)
        {
            final Bond bond = liveBonds.get(key);
            if (null != bond && claim(key, bond))
            {
                revokedClaims.incrementAndGet();
            }
        }
        return true;
    }

    /**
     * Ends a bond in the tool's books once: takes it out of {@link #liveBonds} and accounts for it (the last bond
     * releases the PASID) as one step, so the space cannot release the PASID between the two: the revocation's flush
     * hook runs before the space's release and waits on {@link #claims} for a driver's claim in progress (the
     * monitor is the test tool's, never the space's, and nothing inside it calls the space).
     */
    private boolean claim(final long key, final Bond bond)
    {
        synchronized (claims)
        {
            if (!liveBonds.remove(key, bond))
            {
                return false;
            }
            endBond(bond.pasid());
            return true;
        }
    }

    /** One bond of {@code pasid} ended (unbound, or revoked and flushed); the last one releases the PASID. */
    private void endBond(final int pasid)
    {
        if (1 == outstanding.get(pasid))
        {
            released(pasid);
        }
        outstanding.decrementAndGet(pasid);
    }

    private void released(final int pasid)
    {
        releaseEpoch.set(pasid, space.epochDomain().epoch());
        reuseStartNs.set(pasid, System.nanoTime());
        holder.set(pasid, 0);
    }

    /** Runs to the end (time or operations), quiesces, checks, and returns the summary. */
    StressResult run() throws InterruptedException
    {
        final AtomicBoolean producersDone = new AtomicBoolean();
        final Thread consumer = new Thread(() ->
        {
            final BackoffIdleStrategy idle = new BackoffIdleStrategy(1_000, 100, 1_000, 50_000);
            while (true)
            {
                final int n = iommu.poll(64);
                if (0 == n && producersDone.get() && 0 == iommu.poll(64))
                {
                    return;
                }
                idle.idle(n);
            }
        }, "simulated-iommu");
        consumer.setDaemon(true);
        consumer.start();

        final List<Thread> extra = new ArrayList<>();
        if (config.stallReaders)
        {
            extra.add(stallingReader());
        }
        final Worker[] workers = new Worker[config.threads];
        final Thread[] threads = new Thread[config.threads];
        final long startNs = System.nanoTime();
        final long deadlineNs = config.operations > 0 ? Long.MAX_VALUE : startNs + TimeUnit.SECONDS.toNanos(config.seconds);
        for (int t = 0; t < config.threads; t++)
        {
            workers[t] = new Worker(t, config.seed * 1_000_003L + t, deadlineNs);
            threads[t] = new Thread(workers[t], "stress-" + t);
            threads[t].start();
        }
        final AllocatorCounts counts = new AllocatorCounts();
        long lastEpoch = space.epochDomain().epoch();
        long epochChangedNs = System.nanoTime();
        long lastPasses = 0;
        long passedNs = epochChangedNs;
        while (true)
        {
            boolean alive = false;
            for (final Thread t : threads)
            {
                alive |= t.isAlive();
            }
            if (!alive)
            {
                break;
            }
            space.allocator().counts(counts);
            final long sampleNs = System.nanoTime();
            final long epoch = space.epochDomain().epoch();
            if (epoch != lastEpoch)
            {
                lastEpoch = epoch;
                epochChangedNs = sampleNs;
            }
            if (counts.reclaimPasses() != lastPasses)
            {
                lastPasses = counts.reclaimPasses();
                passedNs = sampleNs;
            }
            // NOTE: peaks only while every worker still runs the workload. In its end-of-run cleanup a worker closes
            // every owner it holds at once and allocates nothing, so no reclaim pass runs (they run on the allocation
            // slow path) and the retired count climbs until the final drain: that peak says nothing about the
            // allocator under load (it was the "unexplained" near-full-range peak of earlier runs).
            if (0 == workersInCleanup.get())
            {
                maxEpochStallNs = Math.max(maxEpochStallNs, sampleNs - epochChangedNs);
                maxReclaimGapNs = Math.max(maxReclaimGapNs, sampleNs - passedNs);
                // NOTE: from the state-table scan (each id counted once), not the queue's size estimate plus the
                // scan, which counted ids in transit twice (a maximum above the capacity).
                maxBacklog = Math.max(maxBacklog, counts.inGrace());
                if (counts.inGrace() == maxBacklog)
                {
                    backlogRetiredAtMax = counts.retired(); // the peak's split: waiting for grace vs for unbinds
                    backlogHeldAtMax = counts.held();
                    epochStallAtMaxNs = sampleNs - epochChangedNs;
                    readersHoldingBackAtMax = counts.readersHoldingBack();
                    reclaimGapAtMaxNs = sampleNs - passedNs;
                }
                maxOldestWaitNs = Math.max(maxOldestWaitNs, counts.oldestWaitNs());
            }
            else
            {
                maxTeardownBacklog = Math.max(maxTeardownBacklog, counts.inGrace());
            }
            maxStuckBonds = Math.max(maxStuckBonds, stuckBonds.get());
            if (config.operations > 0 && opsDone.get() >= config.operations)
            {
                stop.set(true);
            }
            Thread.sleep(50); // NOTE: the supervisor samples counts; workers never sleep.
        }
        final long elapsedNs = System.nanoTime() - startNs;
        stop.set(true);
        for (final Thread t : extra)
        {
            t.join();
        }
        producersDone.set(true);
        consumer.join();
        quiescenceChecks(workers);

        final StressResult result = new StressResult();
        result.config = config;
        result.elapsedNs = elapsedNs;
        result.heavyBarriers = org.pasidkit.allocator.AsymmetricFence.heavyBarriers();
        for (final Op op : Op.values())
        {
            result.opsByKind.put(op.name().toLowerCase(java.util.Locale.ROOT), opCounts[op.ordinal()].get());
            result.operations += opCounts[op.ordinal()].get();
        }
        synchronized (violationsByKind)
        {
            violationsByKind.forEach((k, v) -> result.violationsByKind.put(k, v.get()));
            result.firstViolations.addAll(firstViolations);
        }
        result.violations = result.violationsByKind.values().stream().mapToLong(Long::longValue).sum();
        result.staleTranslations = iommu.staleTranslations();
        result.maxBacklog = maxBacklog;
        result.maxStuckBonds = maxStuckBonds;
        result.maxOldestWaitNs = maxOldestWaitNs;
        result.reuseP50Ns = reuseLatency.getTotalCount() == 0 ? 0 : reuseLatency.getValueAtPercentile(50);
        result.reuseP99Ns = reuseLatency.getTotalCount() == 0 ? 0 : reuseLatency.getValueAtPercentile(99);
        result.pasidsReused = reuseLatency.getTotalCount();
        result.maxPasid = maxPasid;
        result.refusedInGrace = refusedInGrace.get();
        result.backlogRetiredAtMax = backlogRetiredAtMax;
        result.backlogHeldAtMax = backlogHeldAtMax;
        result.maxEpochStallNs = maxEpochStallNs;
        result.epochStallAtMaxNs = epochStallAtMaxNs;
        result.readersHoldingBackAtMax = readersHoldingBackAtMax;
        result.maxReclaimGapNs = maxReclaimGapNs;
        result.maxTeardownBacklog = maxTeardownBacklog;
        result.reclaimGapAtMaxNs = reclaimGapAtMaxNs;
        result.refusedFull = refusedFull.get();
        result.hostileCalls = hostileCalls.get();
        result.refusalsByKind = refusalsByKind;
        result.revocations = revocations;
        result.revokedBeforeUnbind = revokedClaims.get();
        result.lateUnbindsRevoked = lateUnbindsRevoked.get();
        if (null != space.counters())
        {
            space.counters().close(); // NOTE: a last publish at quiescence; the file stays, marked closed
        }
        return result;
    }

    /** A reader that parks inside its critical section for 50 ms out of every 100 ms. */
    private Thread stallingReader()
    {
        final Thread thread = new Thread(() ->
        {
            final EpochDomain.Reader reader = space.epochDomain().register();
            while (!stop.get())
            {
                reader.enter();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // NOTE: the injected stall
                reader.exit();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
            reader.close();
        }, "stalling-reader");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private void quiescenceChecks(final Worker[] workers)
    {
        // Every PASID is accounted for, and counts agree with a full scan of the tables.
        final PasidEntryView view = new PasidEntryView();
        int active = 0;
        int teardown = 0;
        int bonds = 0;
        final int[] rids = new int[16];
        for (int pasid = 1; pasid <= maxPasid; pasid++)
        {
            space.entry(pasid, view);
            if (PasidTableDescriptor.STATE_ACTIVE == view.state())
            {
                active++;
            }
            else if (PasidTableDescriptor.STATE_TEARDOWN == view.state())
            {
                teardown++;
            }
            if (PasidTableDescriptor.STATE_ACTIVE == view.state() || PasidTableDescriptor.STATE_TEARDOWN == view.state())
            {
                final int n = space.bondsOf(pasid, rids);
                if (n != view.bondCount())
                {
                    violation("counts-vs-scan", "PASID " + pasid + " lists " + n + " bonds, entry says " +
                        view.bondCount());
                }
                bonds += n;
            }
        }
        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        if (counts.activePasids() != active || counts.teardownPasids() != teardown || counts.bonds() != bonds)
        {
            violation("counts-vs-scan", "counts " + counts + " but the scan found active " + active + ", teardown " +
                teardown + ", bonds " + bonds);
        }
        final AllocatorCounts a = counts.allocator();
        if (a.free() + a.cached() + a.inUse() + a.inGrace() != a.capacity())
        {
            violation("lost-pasid", "allocator counts do not sum to the capacity: " + a);
        }
        if (a.inUse() != active || a.held() != teardown)
        {
            violation("counts-vs-scan", "allocator in use " + a.inUse() + " / held " + a.held() +
                " but the table has " + active + " active / " + teardown + " teardown");
        }
        if (iommu.staleTranslations() != 0)
        {
            violation("stale-translation", iommu.staleTranslations() + " translations survived their sync");
        }
        for (final RefusalKind kind : RefusalKind.values())
        {
            if (counts.refusals(kind) != expectedRefusals.get(kind.ordinal()))
            {
                violation("refusal-count", "the space counted " + counts.refusals(kind) + " " + kind +
                    " refusals, the workers made " + expectedRefusals.get(kind.ordinal()) + " such calls");
            }
        }
        if (0 != counts.stuckBonds() || 0 != counts.pendingRevocationFlushes() || !liveBonds.isEmpty())
        {
            violation("stuck-at-quiescence", counts.stuckBonds() + " stuck bonds, " +
                counts.pendingRevocationFlushes() + " pending revocation flushes, " + liveBonds.size() +
                " bonds the tool still holds, after every worker unbound everything");
        }
        refusalsByKind = new long[RefusalKind.values().length];
        for (final RefusalKind kind : RefusalKind.values())
        {
            refusalsByKind[kind.ordinal()] = counts.refusals(kind);
        }
        revocations = counts.revocations();
    }

    /** One worker: its own address spaces and owners; lookups and faults anywhere. */
    private final class Worker implements Runnable
    {
        final int index;
        final SplittableRandom random;
        final long deadlineNs;
        final List<long[]> mms = new ArrayList<>();
        final Map<Long, AddressSpace> addressSpaces = new HashMap<>();
        /** The last few capabilities this worker let go of: hostile calls present them again. */
        final Bond[] endedBonds = new Bond[16];
        final AddressSpace[] exitedSpaces = new AddressSpace[16];
        int ended;
        int exitedCount;
        final List<PasidOwner> owners = new ArrayList<>();
        final List<long[]> standalone = new ArrayList<>();
        final List<Object[]> pendingUnbinds = new ArrayList<>();
        /** Slow drivers: exit events waiting for their due time ({handle, device, dueNs}), earliest first. */
        final PriorityQueue<Object[]> lateUnbinds = new PriorityQueue<>(
            (a, b) -> Long.compare((Long)a[2] - (Long)b[2], 0));
        final List<Object[]> neverUnbind = new ArrayList<>();
        final FaultAttribution fault = new FaultAttribution();
        final int[] scratch = new int[16];
        EpochDomain.Reader reader;
        AtcInvalidator.Producer producer;
        long nextMm;

        Worker(final int index, final long seed, final long deadlineNs)
        {
            this.index = index;
            this.random = new SplittableRandom(seed);
            this.deadlineNs = deadlineNs;
            this.nextMm = (long)index << 40;
        }

        void exited(final ExitEvent event)
        {
            if (!config.slowDrivers)
            {
                pendingUnbinds.add(new Object[]{event.bond()});
            }
            else if (random.nextInt(NEVER_ONE_IN) == 0 && stuckBonds.get() < stuckBondsCap)
            {
                stuckBonds.incrementAndGet();
                neverUnbind.add(new Object[]{event.bond()});
            }
            else
            {
                final long delayNs = TimeUnit.MILLISECONDS.toNanos(LATE_MIN_MS) +
                    random.nextLong(TimeUnit.MILLISECONDS.toNanos(LATE_MAX_MS - LATE_MIN_MS));
                lateUnbinds.add(new Object[]{event.bond(), null, System.nanoTime() + delayNs});
            }
        }

        @Override
        public void run()
        {
            current.set(this);
            reader = space.epochDomain().register();
            producer = invalidator.newProducer();
            long n = 0;
            while (!stop.get() && ((n & 63) != 0 || System.nanoTime() - deadlineNs < 0))
            {
                step();
                n++;
                if (0 == (n & 1023))
                {
                    opsDone.addAndGet(1024);
                }
            }
            opsDone.addAndGet(n & 1023);
            workersInCleanup.incrementAndGet();
            cleanup();
            reader.close();
        }

        private void count(final Op op)
        {
            opCounts[op.ordinal()].incrementAndGet();
        }

        private void step()
        {
            final int dice = random.nextInt(1000);
            if (!pendingUnbinds.isEmpty() && dice < 80)
            {
                driverUnbind(pendingUnbinds.remove(random.nextInt(pendingUnbinds.size())));
            }
            else if (dice < 80 && !lateUnbinds.isEmpty() && (Long)lateUnbinds.peek()[2] - System.nanoTime() <= 0)
            {
                driverUnbind(lateUnbinds.poll());
            }
            else if (dice < 420)
            {
                lookupOwn();
            }
            else if (dice < 560)
            {
                foreignLookup();
            }
            else if (dice < 700)
            {
                fault();
            }
            else if (dice < 760)
            {
                bind(false);
            }
            else if (dice < 780)
            {
                bind(true);
            }
            else if (dice < 830)
            {
                exit();
            }
            else if (dice < 880)
            {
                allocate();
            }
            else if (dice < 920)
            {
                free();
            }
            else if (dice < 935)
            {
                closeOwner();
            }
            else if (dice < 945)
            {
                space.allocator().reclaim();
                count(Op.RECLAIM);
            }
            else if (config.hostile && dice < 965)
            {
                hostile();
            }
            else
            {
                invalidate();
            }
        }

        private void acquired(final int pasid, final long ownerKey)
        {
            if (!holder.compareAndSet(pasid, 0, index + 1))
            {
                violation("two-owners", "PASID " + pasid + " handed to thread " + index + " while thread " +
                    (holder.get(pasid) - 1) + " holds it");
                return;
            }
            if (0 != outstanding.get(pasid))
            {
                violation("reuse-with-bonds", "PASID " + pasid + " reused with " + outstanding.get(pasid) +
                    " bonds of its previous life outstanding");
            }
            final long released = releaseEpoch.get(pasid);
            if (0 != released && space.epochDomain().epoch() < released + 2)
            {
                violation("reuse-before-grace", "PASID " + pasid + " reused in epoch " + space.epochDomain().epoch() +
                    ", released in epoch " + released);
            }
            final long since = reuseStartNs.getAndSet(pasid, 0);
            if (0 != since)
            {
                synchronized (reuseLatency)
                {
                    reuseLatency.recordValue(Math.min(System.nanoTime() - since, reuseLatency.getHighestTrackableValue()));
                }
            }
        }

        private void bind(final boolean isPrivate)
        {
            count(isPrivate ? Op.BIND_PRIVATE : Op.BIND);
            long[] mm = null;
            if (!mms.isEmpty() && (isPrivate || random.nextInt(3) > 0))
            {
                mm = mms.get(random.nextInt(mms.size()));
            }
            final boolean fresh = null == mm;
            if (fresh)
            {
                if (mms.size() >= (config.exhaust ? 200 : 64))
                {
                    return;
                }
                mm = new long[]{nextMm++, 0};
                addressSpaces.put(mm[0], space.openAddressSpace(mm[0]));
            }
            final long id = mm[0];
            final Device device = devices[random.nextInt(devices.length)];
            final int before = space.pasidsOf(id, scratch);
            try
            {
                final Bond bond = space.bind(addressSpaces.get(id), device,
                    new DrvData(index, id, 0, device.requesterId()), isPrivate ? PasidSpace.PRIVATE : 0);
                final int pasid = bond.pasid();
                final int after = space.pasidsOf(id, scratch);
                if (after > before)
                {
                    acquired(pasid, id);
                    outstanding.set(pasid, 0);
                }
                outstanding.incrementAndGet(pasid);
                liveBonds.put(bondKey(pasid, device.requesterId()), bond);
                mm[1]++;
                if (fresh)
                {
                    mms.add(mm);
                }
            }
            catch (final IdsExhaustedException ex)
            {
                // A device narrower than the range (the 10-bit one) can legitimately find its sub-range in use or in
                // grace.
                refused(ex, (1 << device.pasidBits()) - 1 < maxPasid, "bind");
                if (fresh)
                {
                    space.exit(addressSpaces.remove(id));
                }
            }
            catch (final CapabilityException ex)
            {
                violation("honest-call-refused", "bind by its own address space and device: " + ex.getMessage());
            }
            catch (final IllegalArgumentException expected)
            {
                // already bound, too narrow, quota: refused with no change, as it must be
                if (fresh)
                {
                    space.exit(addressSpaces.remove(id));
                }
            }
        }

        /**
         * A checked allocation found no PASID. Counted by kind; a violation ("exhausted") only where it means a leak:
         * the whole range dry in a run that neither exhausts it on purpose nor holds PASIDs back. With
         * {@code --stall-readers} every free PASID can legitimately be in grace (a reader parked inside its critical
         * section holds the epoch for 50 ms while the workers retire tens of thousands of PASIDs): the allocator must
         * then refuse with "all in grace" rather than reuse early, which is the behaviour under test. A real leak is
         * still caught by the quiescence check (every PASID in use, in grace or free).
         */
        private void refused(final IdsExhaustedException ex, final boolean narrowDevice, final String call)
        {
            (ex.inGrace() ? refusedInGrace : refusedFull).incrementAndGet();
            final boolean expected = narrowDevice || config.exhaust || config.slowDrivers ||
                (config.stallReaders && ex.inGrace());
            if (!expected)
            {
                violation("exhausted", call + " found no PASID in a range of " + maxPasid + ": " + ex.getMessage());
            }
        }

        private void exit()
        {
            if (mms.isEmpty())
            {
                return;
            }
            count(Op.EXIT);
            final long[] mm = mms.remove(random.nextInt(mms.size()));
            final int n = space.pasidsOf(mm[0], scratch);
            for (int i = 0; i < n; i++)
            {
                if (0 == outstanding.get(scratch[i]))
                {
                    released(scratch[i]);
                }
            }
            exitSpace(addressSpaces.remove(mm[0]));
        }

        private void exitSpace(final AddressSpace as)
        {
            space.exit(as);
            exitedSpaces[exitedCount++ & (exitedSpaces.length - 1)] = as;
        }

        private void driverUnbind(final Object[] unbind)
        {
            count(Op.UNBIND);
            final Bond bond = (Bond)unbind[0];
            final Device device = bond.device();
            final int pasid = bond.pasid();
            producer.invalidateAll(device, pasid);
            // NOTE: bookkeeping first (claim, then release): once unbind returns, another thread may hold the PASID.
            if (!claim(bondKey(pasid, device.requesterId()), bond))
            {
                // revoked (deadline passed) and accounted for by the revocation: the late unbind must be refused
                lateUnbindsRevoked.incrementAndGet();
                expectRefusal(RefusalKind.REVOKED, () -> space.unbind(bond), "late unbind of a revoked bond");
                return;
            }
            try
            {
                space.unbind(bond);
                endedBonds[ended++ & (endedBonds.length - 1)] = bond;
            }
            catch (final CapabilityException ex)
            {
                if (RefusalKind.REVOKED != ex.kind())
                {
                    violation("honest-call-refused", "unbind of its own bond: " + ex.getMessage());
                }
                // NOTE: revoked between our claim and the call: the revocation released the PASID after our release.
                lateUnbindsRevoked.incrementAndGet();
                expectedRefusals.incrementAndGet(RefusalKind.REVOKED.ordinal());
            }
        }

        private void expectRefusal(final RefusalKind kind, final Runnable call, final String what)
        {
            expectedRefusals.incrementAndGet(kind.ordinal());
            try
            {
                call.run();
                violation("hostile-accepted", what + " was accepted");
            }
            catch (final CapabilityException ex)
            {
                if (ex.kind() != kind)
                {
                    violation("hostile-wrong-kind", what + " refused as " + ex.kind() + ", expected " + kind + ": " +
                        ex.getMessage());
                }
            }
        }

        /** A foreign, forged or stale capability: refused, counted, nothing changed. */
        private void hostile()
        {
            hostileCalls.incrementAndGet();
            final Device device = devices[random.nextInt(devices.length)];
            switch (random.nextInt(8))
            {
                case 0:
                    expectRefusal(RefusalKind.FOREIGN, () -> space.unbind(otherBond), "unbind of another space's bond");
                    break;
                case 1:
                {
                    final Bond stale = endedBonds[random.nextInt(endedBonds.length)];
                    if (null != stale)
                    {
                        expectRefusal(RefusalKind.STALE, () -> space.unbind(stale), "second unbind");
                    }
                    else
                    {
                        expectRefusal(RefusalKind.FORGED, () -> space.unbind(null), "unbind of no bond");
                    }
                    break;
                }
                case 2:
                {
                    final AddressSpace gone = exitedSpaces[random.nextInt(exitedSpaces.length)];
                    if (null != gone)
                    {
                        expectRefusal(RefusalKind.STALE, () -> space.exit(gone), "second exit");
                        expectRefusal(RefusalKind.STALE, () -> space.bind(gone, device, "late", 0), "bind after exit");
                    }
                    else
                    {
                        expectRefusal(RefusalKind.FOREIGN, () -> space.exit(otherAs), "exit of another space's mm");
                    }
                    break;
                }
                case 3:
                    if (!mms.isEmpty())
                    {
                        final AddressSpace as = addressSpaces.get(mms.get(random.nextInt(mms.size()))[0]);
                        expectRefusal(RefusalKind.FOREIGN, () -> space.bind(as, otherDevice, "x", 0),
                            "bind of another space's device");
                    }
                    break;
                case 4:
                    if (!standalone.isEmpty())
                    {
                        final long[] s = standalone.get(random.nextInt(standalone.size()));
                        final long handle = s[0];
                        expectRefusal(RefusalKind.FOREIGN, () -> space.free(otherOwner, handle),
                            "free by another space's owner");
                        final PasidOwner mine = owners.get((int)s[1]);
                        final long forged = PasidHandle.of(PasidHandle.pasid(handle), Integer.MAX_VALUE);
                        expectRefusal(RefusalKind.FORGED, () -> space.free(mine, forged), "free of a forged handle");
                    }
                    break;
                case 5:
                    if (!standalone.isEmpty() && owners.size() > 1)
                    {
                        final long[] s = standalone.get(random.nextInt(standalone.size()));
                        final PasidOwner thief = owners.get(((int)s[1] + 1) % owners.size());
                        expectRefusal(RefusalKind.FOREIGN, () -> space.free(thief, s[0]), "free by another owner");
                        expectRefusal(RefusalKind.FOREIGN, () -> space.attach(thief, s[0], device, "steal"),
                            "attach by another owner");
                    }
                    break;
                case 6:
                    if (mms.size() > 1)
                    {
                        final long[] a = mms.get(0);
                        final long[] b = mms.get(1);
                        final int n = space.pasidsOf(b[0], scratch);
                        if (n > 0)
                        {
                            final PasidEntryView view = new PasidEntryView();
                            space.entry(scratch[0], view);
                            final long handle = PasidHandle.of(scratch[0], view.generation());
                            expectRefusal(RefusalKind.FOREIGN, () -> space.bindTo(addressSpaces.get(a[0]), handle,
                                device, "x"), "bindTo another address space's PASID");
                        }
                    }
                    break;
                default:
                    expectRefusal(RefusalKind.FOREIGN, () -> space.removeDevice(otherDevice),
                        "removal of another space's device");
                    break;
            }
        }

        private void allocate()
        {
            count(Op.ALLOCATE);
            if (owners.isEmpty() || random.nextInt(20) == 0)
            {
                owners.add(space.openOwner("t" + index + "-" + owners.size(), 8));
            }
            final PasidOwner owner = owners.get(random.nextInt(owners.size()));
            try
            {
                final long handle = space.allocate(owner);
                final int pasid = PasidHandle.pasid(handle);
                acquired(pasid, -owner.id());
                outstanding.set(pasid, 0);
                if (random.nextBoolean())
                {
                    final Device device = devices[random.nextInt(devices.length)];
                    try
                    {
                        final Bond bond = space.attach(owner, handle, device,
                            new DrvData(index, -owner.id(), pasid, device.requesterId()));
                        outstanding.incrementAndGet(pasid);
                        liveBonds.put(bondKey(pasid, device.requesterId()), bond);
                    }
                    catch (final IllegalArgumentException narrow)
                    {
                        // a 10-bit device and a wide PASID: refused, nothing changed
                    }
                }
                standalone.add(new long[]{handle, owners.indexOf(owner)});
            }
            catch (final IdsExhaustedException ex)
            {
                refused(ex, false, "allocate");
            }
            catch (final IllegalArgumentException quota)
            {
                // quota full: refused, nothing changed
            }
        }

        private void free()
        {
            if (standalone.isEmpty())
            {
                return;
            }
            count(Op.FREE);
            final long[] s = standalone.remove(random.nextInt(standalone.size()));
            final PasidOwner owner = owners.get((int)s[1]);
            final int pasid = PasidHandle.pasid(s[0]);
            // NOTE: bookkeeping first: once free() returns, another thread may already hold the PASID again.
            if (0 == outstanding.get(pasid))
            {
                released(pasid);
            }
            space.free(owner, s[0]);
        }

        private void closeOwner()
        {
            if (owners.isEmpty())
            {
                return;
            }
            count(Op.OWNER_CLOSE);
            final int which = random.nextInt(owners.size());
            close(which);
            owners.set(which, space.openOwner("t" + index + "-" + which, 8));
        }

        private void close(final int which)
        {
            final List<long[]> mine = new ArrayList<>();
            standalone.removeIf((s) ->
            {
                if (s[1] == which)
                {
                    mine.add(s);
                    return true;
                }
                return false;
            });
            for (final long[] s : mine)
            {
                final int pasid = PasidHandle.pasid(s[0]);
                if (0 == outstanding.get(pasid))
                {
                    released(pasid);
                }
            }
            space.close(owners.get(which));
        }

        private void lookupOwn()
        {
            count(Op.LOOKUP);
            if (mms.isEmpty())
            {
                return;
            }
            final long mm = mms.get(random.nextInt(mms.size()))[0];
            reader.enter();
            try
            {
                final int n = space.pasidsOf(mm, scratch);
                for (int i = 0; i < n; i++)
                {
                    for (final Device device : devices)
                    {
                        final Object data = space.driverData(scratch[i], device.requesterId());
                        if (null != data)
                        {
                            final DrvData d = (DrvData)data;
                            if (d.thread != index || d.owner != mm || d.rid != device.requesterId())
                            {
                                violation("foreign-drvdata", "lookup of (" + scratch[i] + ", " + device +
                                    ") of mm " + mm + " returned the data of thread " + d.thread + " owner " + d.owner);
                            }
                        }
                    }
                }
            }
            finally
            {
                reader.exit();
            }
        }

        private void foreignLookup()
        {
            count(Op.FOREIGN_LOOKUP);
            final int pasid = 1 + random.nextInt(maxPasid);
            final Device device = devices[random.nextInt(devices.length)];
            reader.enter();
            try
            {
                final Object data = space.driverData(pasid, device.requesterId());
                if (null != data && ((DrvData)data).rid != device.requesterId())
                {
                    violation("foreign-drvdata", "lookup of (" + pasid + ", " + device + ") returned a bond of rid " +
                        ((DrvData)data).rid);
                }
            }
            finally
            {
                reader.exit();
            }
        }

        private void fault()
        {
            count(Op.FAULT);
            final boolean own = !mms.isEmpty() && random.nextBoolean();
            final Device device = devices[random.nextInt(devices.length)];
            final int pasid;
            long mm = -1;
            if (own)
            {
                mm = mms.get(random.nextInt(mms.size()))[0];
                final int n = space.pasidsOf(mm, scratch);
                if (0 == n)
                {
                    return;
                }
                pasid = scratch[random.nextInt(n)];
            }
            else
            {
                pasid = 1 + random.nextInt(maxPasid);
            }
            space.reportFault(device.requesterId(), pasid, random.nextLong(), fault);
            if (FaultAttribution.Kind.ATTRIBUTED == fault.kind())
            {
                final DrvData d = (DrvData)fault.driverData();
                if (null == d || d.rid != device.requesterId() || (own && (d.owner != mm || fault.addressSpace() != mm)))
                {
                    violation("foreign-drvdata", "fault on (" + pasid + ", " + device + ") attributed to " + fault);
                }
            }
            else if (own && FaultAttribution.Kind.UNKNOWN_PASID == fault.kind())
            {
                violation("fault-attribution", "fault on live PASID " + pasid + " of own mm " + mm + " said UNKNOWN");
            }
        }

        private void invalidate()
        {
            count(Op.INVALIDATE);
            if (mms.isEmpty())
            {
                return;
            }
            final long mm = mms.get(random.nextInt(mms.size()))[0];
            final int n = space.pasidsOf(mm, scratch);
            final long address = 0x7f0000000000L + ((long)random.nextInt(1 << 20) << 12);
            final long length = 4096L << random.nextInt(12);
            for (int i = 0; i < n; i++)
            {
                for (final Device device : devices)
                {
                    iommu.touch(device, scratch[i], address);
                    iommu.touch(device, scratch[i], address + length - 1);
                }
            }
            if (producer.invalidate(mm, address, length) < 0)
            {
                violation("sync-timeout", "CMD_SYNC of mm " + mm + " timed out");
            }
        }

        private void cleanup()
        {
            for (final long[] mm : new ArrayList<>(mms))
            {
                mms.remove(mm);
                final int n = space.pasidsOf(mm[0], scratch);
                for (int i = 0; i < n; i++)
                {
                    if (0 == outstanding.get(scratch[i]))
                    {
                        released(scratch[i]);
                    }
                }
                exitSpace(addressSpaces.remove(mm[0]));
            }
            for (int which = 0; which < owners.size(); which++)
            {
                close(which);
            }
            pendingUnbinds.addAll(lateUnbinds);
            lateUnbinds.clear();
            stuckBonds.addAndGet(-neverUnbind.size());
            pendingUnbinds.addAll(neverUnbind);
            neverUnbind.clear();
            while (!pendingUnbinds.isEmpty())
            {
                driverUnbind(pendingUnbinds.remove(pendingUnbinds.size() - 1));
            }
        }
    }
}
