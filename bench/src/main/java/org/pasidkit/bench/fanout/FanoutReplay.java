package org.pasidkit.bench.fanout;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.tables.AddressSpace;
import org.pasidkit.tables.AtcInvalidator;
import org.pasidkit.tables.Bond;
import org.pasidkit.tables.Device;
import org.pasidkit.tables.ExitEvent;
import org.pasidkit.tables.IommuArch;
import org.pasidkit.tables.IommuCounts;
import org.pasidkit.tables.PasidHandle;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.PasidSpaceCounts;
import org.pasidkit.tables.counters.PasidkitCounterTypes;
import org.pasidkit.tables.SimulatedIommu;

/**
 * Replays a trace through the whole life cycle: bind at {@code start} (every address space to every device, plus
 * {@code privatePasids} private PASIDs bound to every device), one fan-out per change (the devices first touch pages
 * of the range so there is something to invalidate), exit at {@code exit}; each driver flushes its ATC for the PASID
 * and unbinds {@code unbindDelayUs} of trace time later; reclaim and reuse follow.
 *
 * <p>The run checks itself: commands per change equal (devices with ATS) x (PASIDs of the address space); after every
 * sync no stale translation remains ({@link SimulatedIommu}); a PASID handed out again had every bond of its previous
 * life unbound, two epoch advances since, and an empty ATC. Every breach is a violation.</p>
 */
public final class FanoutReplay
{
    /** How long a bind keeps retrying while every free PASID is in its grace period. */
    static final long BIND_RETRY_NS = TimeUnit.SECONDS.toNanos(5);

    /** Replay settings. */
    public static final class Config
    {
        public int devices = 2;
        public int privatePasids = 0;
        public int batch = AtcInvalidator.DEFAULT_BATCH;
        public long flushAllAboveBytes = 2L << 20;
        public int threads = 1;
        public long unbindDelayUs = 1000;
        public int maxPasid = (1 << 20) - 1;
        public int ringBytes = 1 << 20;
        public long syncTimeoutMs = 5000;
        /** Architecture models driven beside the generic one (none: the generic model only). */
        public List<IommuArch> iommus = List.of();
        /** Queue a page request every this many changes per PASID (device 0); 0: none besides those at exit. */
        public int pageRequestEvery = 16;
        /** Publish live counters into a file in this directory ({@code ./pasidkit stat}), or null. */
        public java.nio.file.Path countersDir;
    }

    private final Trace trace;
    private final Config config;
    private final PasidSpace space;
    private final AtcInvalidator invalidator;
    private final SimulatedIommu iommu;
    private final Device[] devices;
    private final IommuModelFan models;
    private final AtomicIntegerArray outstanding;
    private final AtomicIntegerArray everUsed;
    private final AtomicLongArray releaseEpoch;
    private final AtomicLong progress = new AtomicLong();
    private final AtomicLong violations = new AtomicLong();
    private final List<String> firstViolations = new ArrayList<>();
    private final ThreadLocal<Worker> currentWorker = new ThreadLocal<>();

    public FanoutReplay(final Trace trace, final Config config)
    {
        if (config.devices < 1 || config.devices > 256)
        {
            throw new IllegalArgumentException("devices " + config.devices + " must be in [1, 256]");
        }
        if (config.privatePasids < 0 || config.privatePasids > 62)
        {
            throw new IllegalArgumentException("private PASIDs " + config.privatePasids + " must be in [0, 62]");
        }
        if (config.threads < 1 || config.threads > 64)
        {
            throw new IllegalArgumentException("threads " + config.threads + " must be in [1, 64]");
        }
        this.trace = trace;
        this.config = config;
        final PasidSpace.Builder builder = PasidSpace.builder().maxPasid(config.maxPasid)
            .addressSpaceQuota(1 + config.privatePasids).maxBonds(1 << 20);
        this.space = (null == config.countersDir ? builder : builder.counters(config.countersDir, "fanout")).build();
        this.invalidator = new AtcInvalidator(space, config.ringBytes, config.batch, config.flushAllAboveBytes,
            TimeUnit.MILLISECONDS.toNanos(config.syncTimeoutMs), config.threads + 1);
        if (null != space.counters())
        {
            space.counters().addInvalidator(invalidator)
                .addTotal(PasidkitCounterTypes.FANOUT, "fanout events replayed", progress::get)
                .addTotal(PasidkitCounterTypes.FANOUT, "fanout violations", violations::get);
        }
        this.iommu = new SimulatedIommu(invalidator);
        invalidator.assist(() -> iommu.poll(64));
        this.devices = new Device[config.devices];
        for (int d = 0; d < config.devices; d++)
        {
            devices[d] = space.addDevice(0x100 + d * 8, 20, true, this::onExit);
        }
        this.models = new IommuModelFan(config.iommus, config.flushAllAboveBytes, devices);
        this.outstanding = new AtomicIntegerArray(config.maxPasid + 1);
        this.everUsed = new AtomicIntegerArray(config.maxPasid + 1);
        this.releaseEpoch = new AtomicLongArray(config.maxPasid + 1);
    }

    public long progress()
    {
        return progress.get();
    }

    public PasidSpace space()
    {
        return space;
    }

    /** Runs the replay to the end and returns what it measured. */
    public FanoutResult run() throws InterruptedException
    {
        final AtomicBoolean producersDone = new AtomicBoolean();
        final Thread consumer = new Thread(() ->
        {
            final IdleStrategy idle = config.threads > 1 ?
                new BackoffIdleStrategy(1_000, 100, 1_000, 50_000) : new BackoffIdleStrategy(100_000, 1_000, 1_000, 20_000);
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

        final Worker[] workers = new Worker[config.threads];
        final Thread[] threads = new Thread[config.threads];
        final long startNs = System.nanoTime();
        for (int t = 0; t < config.threads; t++)
        {
            workers[t] = new Worker(t);
            threads[t] = new Thread(workers[t], "fanout-producer-" + t);
            threads[t].start();
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        final long producerNs = System.nanoTime() - startNs;
        producersDone.set(true);
        consumer.join();
        for (final Worker worker : workers)
        {
            if (null != worker.failure)
            {
                throw new IllegalStateException("replay thread " + worker.index + " failed: " + worker.failure,
                    worker.failure);
            }
        }

        final FanoutResult result = new FanoutResult();
        result.trace = trace.name();
        result.config = config;
        result.elapsedNs = producerNs;
        final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        for (final Worker worker : workers)
        {
            latency.add(worker.latency);
            result.events += worker.events;
            result.addressSpaces += worker.starts;
            result.changes += worker.changes;
            result.expectedInvalidations += worker.expectedCommands;
            result.pasidsAllocated += worker.pasidsAllocated;
            result.pasidsReused += worker.pasidsReused;
            result.reuseStale += worker.reuseStale;
            result.unbinds += worker.unbinds;
            result.unbindFlushes += worker.unbindFlushes;
            violations.addAndGet(worker.violationCount);
            synchronized (firstViolations)
            {
                for (final String v : worker.violationsSeen)
                {
                    if (firstViolations.size() < 5)
                    {
                        firstViolations.add(v);
                    }
                }
            }
        }
        final long[] counters = new long[5];
        invalidator.counters(counters);
        result.atcInvalidations = counters[0] - result.unbindFlushes;
        result.syncs = counters[1];
        result.fullFlushes = counters[2] - result.unbindFlushes;
        result.timeouts = counters[4];
        result.staleTranslations = iommu.staleTranslations() + result.reuseStale;
        result.commandsConsumed = iommu.commandsConsumed();
        result.latencyP50Ns = latency.getValueAtPercentile(50);
        result.latencyP99Ns = latency.getValueAtPercentile(99);
        result.latencyP999Ns = latency.getValueAtPercentile(99.9);
        result.latencyMaxNs = latency.getMaxValue();
        if (result.atcInvalidations != result.expectedInvalidations)
        {
            addViolation("ATC invalidations " + result.atcInvalidations + " != expected " +
                result.expectedInvalidations + " (sum over changes of devices x PASIDs)");
        }
        if (result.staleTranslations != 0)
        {
            addViolation(result.staleTranslations + " stale translations after sync");
        }
        if (result.timeouts != 0)
        {
            addViolation(result.timeouts + " sync or ring waits timed out");
        }
        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        if (counts.activePasids() != 0 || counts.teardownPasids() != 0 || counts.bonds() != 0)
        {
            addViolation("after the replay: " + counts.activePasids() + " active, " + counts.teardownPasids() +
                " teardown PASIDs and " + counts.bonds() + " bonds remain (every address space exited and unbound)");
        }
        result.counts = counts.toString();
        result.byIommu = models.counts();
        for (final IommuCounts model : result.byIommu)
        {
            final String name = model.arch().cliName();
            if (model.deviceTlbInvalidationsInChanges() != result.atcInvalidations)
            {
                addViolation(name + ": " + model.deviceTlbInvalidationsInChanges() + " device-TLB invalidations in " +
                    "changes != the generic model's " + result.atcInvalidations + " ATC invalidations");
            }
            for (final String v : model.firstViolations())
            {
                addViolation(v);
            }
            violations.addAndGet(Math.max(0, model.violations() - model.firstViolations().size()));
        }
        result.violations = violations.get();
        if (null != space.counters())
        {
            space.counters().close(); // NOTE: a last publish at the end; the file stays, marked closed
        }
        synchronized (firstViolations)
        {
            result.firstViolations = new ArrayList<>(firstViolations);
        }
        return result;
    }

    private void addViolation(final String what)
    {
        violations.incrementAndGet();
        synchronized (firstViolations)
        {
            if (firstViolations.size() < 5)
            {
                firstViolations.add(what);
            }
        }
    }

    private void onExit(final ExitEvent event)
    {
        currentWorker.get().scheduleUnbind(event);
    }

    /** One producer thread: replays the events of the address spaces with {@code mm % threads == index}. */
    private final class Worker implements Runnable
    {
        final int index;
        final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        final ArrayDeque<long[]> pendingUnbinds = new ArrayDeque<>();
        final ArrayDeque<Bond> pendingBonds = new ArrayDeque<>();
        final java.util.HashMap<Long, AddressSpace> open = new java.util.HashMap<>();
        final List<String> violationsSeen = new ArrayList<>();
        final int[] pasids = new int[64];
        AtcInvalidator.Producer producer;
        long nowUs;
        long events;
        long starts;
        long changes;
        long expectedCommands;
        long pasidsAllocated;
        long pasidsReused;
        long reuseStale;
        long unbinds;
        /** Binds retried because every free PASID was in its grace period (see bindRetrying). */
        long bindRetries;

        Worker(final int index)
        {
            this.index = index;
        }

        /** What stopped this worker, if anything (rethrown by the replay). */
        volatile Throwable failure;

        @Override
        public void run()
        {
            try
            {
                replay();
            }
            catch (final RuntimeException | Error e)
            {
                failure = e;
            }
        }

        private void replay()
        {
            currentWorker.set(this);
            producer = invalidator.newProducer();
            final int threads = config.threads;
            for (int i = 0; i < trace.size(); i++)
            {
                final long mm = trace.mm(i);
                if (Math.floorMod(mm, threads) != index)
                {
                    continue;
                }
                nowUs = trace.timeUs(i);
                unbindDue(nowUs);
                events++;
                switch (trace.event(i))
                {
                    case START:
                        start(mm);
                        break;
                    case EXIT:
                        exit(mm);
                        break;
                    default:
                        change(mm, trace.address(i), trace.length(i));
                }
                if (0 == (events & 255))
                {
                    progress.addAndGet(256);
                }
            }
            unbindDue(Long.MAX_VALUE);
            progress.addAndGet(events & 255);
        }

        private void start(final long mm)
        {
            starts++;
            // NOTE: the replay plays every process: it holds each address space's capability from start to exit.
            final AddressSpace as = space.openAddressSpace(mm);
            open.put(mm, as);
            final long shared = bindRetrying(as, "drv0-mm" + mm, 0);
            newPasid(shared);
            for (int d = 1; d < devices.length; d++)
            {
                space.bind(as, devices[d], "drv" + d + "-mm" + mm, 0);
            }
            for (int k = 0; k < config.privatePasids; k++)
            {
                final long extra = bindRetrying(as, "drv0-mm" + mm + "-p" + k, PasidSpace.PRIVATE);
                newPasid(extra);
                for (int d = 1; d < devices.length; d++)
                {
                    space.bindTo(as, extra, devices[d], "drv" + d + "-mm" + mm + "-p" + k);
                }
            }
            final int n = space.pasidsOf(mm, pasids);
            for (int p = 0; p < n; p++)
            {
                outstanding.set(pasids[p], devices.length);
            }
            models.bound(mm, pasids, n, devices);
        }

        private void newPasid(final long handle)
        {
            final int pasid = PasidHandle.pasid(handle);
            pasidsAllocated++;
            if (0 != everUsed.getAndSet(pasid, 1))
            {
                pasidsReused++;
                if (0 != outstanding.get(pasid))
                {
                    violation("PASID " + pasid + " reused while " + outstanding.get(pasid) +
                        " bonds of its previous life were not unbound");
                }
                final long epoch = space.epochDomain().epoch();
                if (epoch < releaseEpoch.get(pasid) + 2)
                {
                    violation("PASID " + pasid + " reused in epoch " + epoch + ", its last bond went in epoch " +
                        releaseEpoch.get(pasid) + " (grace is 2 advances)");
                }
                for (final Device device : devices)
                {
                    final int left = iommu.cached(device, pasid);
                    if (left != 0)
                    {
                        reuseStale += left;
                        violation("PASID " + pasid + " reused with " + left + " translations of its previous life " +
                            "in the ATC of " + device);
                    }
                }
            }
        }

        private void exit(final long mm)
        {
            if (!models.isEmpty())
            {
                models.exiting(pasids, space.pasidsOf(mm, pasids), devices);
            }
            space.exit(open.remove(mm));
        }

        private void change(final long mm, final long address, final long length)
        {
            changes++;
            final int n = space.pasidsOf(mm, pasids);
            for (int p = 0; p < n; p++)
            {
                for (final Device device : devices)
                {
                    iommu.touch(device, pasids[p], address);
                    iommu.touch(device, pasids[p], address + length / 2);
                    iommu.touch(device, pasids[p], address + length - 1);
                    iommu.touch(device, pasids[p], address - 4096);
                }
            }
            expectedCommands += (long)n * devices.length;
            final long startNs = System.nanoTime();
            final int commands = producer.invalidate(mm, address, length);
            latency.recordValue(Math.min(System.nanoTime() - startNs, latency.getHighestTrackableValue()));
            if (!models.isEmpty())
            {
                models.changed(changes, pasids, n, address, length, devices[0], config.pageRequestEvery);
            }
            if (commands != (long)n * devices.length)
            {
                violation("change of mm " + mm + " emitted " + commands + " commands, expected " +
                    ((long)n * devices.length));
            }
        }

        /**
         * Binds device 0 (allocating a PASID). When every free PASID is in its grace period (a small range, as in the
         * tests), this worker's drivers finish their pending unbinds at once instead of at their trace time, and the
         * bind is retried until a PASID comes back or {@link #BIND_RETRY_NS} passes: a driver that finds the range
         * dry waits for reclaim, it does not give up. Any other refusal is thrown at once.
         */
        private long bindRetrying(final AddressSpace mm, final Object drvdata, final int flags)
        {
            final long deadlineNs = System.nanoTime() + BIND_RETRY_NS;
            while (true)
            {
                try
                {
                    return space.bind(mm, devices[0], drvdata, flags).handle();
                }
                catch (final IdsExhaustedException e)
                {
                    if (!e.inGrace() || System.nanoTime() - deadlineNs > 0)
                    {
                        throw e;
                    }
                    bindRetries++;
                    unbindDue(Long.MAX_VALUE);
                    Thread.yield();
                }
            }
        }

        void scheduleUnbind(final ExitEvent event)
        {
            pendingUnbinds.addLast(new long[]{nowUs + config.unbindDelayUs, event.handle()});
            pendingBonds.addLast(event.bond());
        }

        private void unbindDue(final long nowUs)
        {
            while (!pendingUnbinds.isEmpty() && pendingUnbinds.peekFirst()[0] <= nowUs)
            {
                final long handle = pendingUnbinds.pollFirst()[1];
                final Bond bond = pendingBonds.pollFirst();
                final Device device = bond.device();
                final int pasid = PasidHandle.pasid(handle);
                if (producer.invalidateAll(device, pasid) < 0)
                {
                    violation("ATC flush of PASID " + pasid + " on " + device + " timed out");
                }
                unbindFlushes++;
                // NOTE: bookkeeping before the unbind: the PASID can only be reused after unbind() releases it, so
                // another worker never sees a stale count (a reuse inside the unbind itself would go unnoticed).
                if (0 == outstanding.get(pasid) - 1)
                {
                    releaseEpoch.set(pasid, space.epochDomain().epoch());
                }
                outstanding.decrementAndGet(pasid);
                models.unbinding(device, pasid);
                space.unbind(bond);
                unbinds++;
            }
        }

        long unbindFlushes;
        long violationCount;

        private void violation(final String what)
        {
            violationCount++;
            if (violationsSeen.size() < 5)
            {
                violationsSeen.add(what);
            }
        }
    }
}
