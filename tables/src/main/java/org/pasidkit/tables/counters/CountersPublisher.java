package org.pasidkit.tables.counters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.LongSupplier;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.status.AtomicCounter;
import org.pasidkit.allocator.AllocatorCounts;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.AtcInvalidator;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.PasidSpaceCounts;
import org.pasidkit.tables.RefusalKind;

/**
 * Copies the counts of a {@link PasidSpace}, a bare {@link PasidAllocator}, {@link AtcInvalidator}s and an
 * application's own figures into a {@link PasidkitCounters} file, every publish interval, from an Agrona
 * {@link Agent} on its own daemon thread ({@link AgentRunner}, idle strategy {@link SleepingMillisIdleStrategy}).
 *
 * <p><b>What it costs.</b> The hot paths (allocate, free, lookups, fault attribution, the fan-out) are not touched:
 * they keep counting what they counted before, and nothing else. The price is the publisher's thread: each publish
 * runs {@link PasidSpace#counts} ({@link PasidAllocator#counts}: a scan of the allocator's state table, O(range)) and
 * the invalidators' counter sums, then one {@code setRelease} per counter. The figures in the file are therefore as
 * old as one publish interval (100 ms by default), and counts the allocator does not keep (allocations, frees,
 * "exhausted" and "all in grace" answers) are not in it: an application that counts them (the stress tool does)
 * publishes them with {@link #addTotal}.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: the agent thread publishes; {@link #publishNow} may be called from any thread (publishes are
 *       serialized by this object's monitor, so a later publish never overwrites a newer snapshot with an older
 *       one); {@code add*} and {@link #close} from any thread.</li>
 *   <li>Progress: blocking (the monitor, the sleep between publishes); nothing here ever blocks the objects it reads,
 *       whose {@code counts} methods are allocation-free scans that do not stop them.</li>
 *   <li>Each published value is exact for some instant of its scan (see {@link AllocatorCounts}); at quiescence a
 *       publish equals the objects' own counts.</li>
 * </ul>
 */
public final class CountersPublisher implements Agent, AutoCloseable
{
    /** One group of counters filled from one source. */
    private interface Source
    {
        void publish(long nowNs);
    }

    private final PasidkitCounters counters;
    private final AgentRunner runner;
    private final AtomicCounter publishes;
    private volatile Source[] sources = new Source[0];
    private boolean closed;

    private CountersPublisher(final PasidkitCounters counters, final long intervalMs)
    {
        this.counters = counters;
        final AtomicCounter pid = counters.newCounter(PasidkitCounterTypes.PROCESS, "process id", CounterKind.GAUGE);
        pid.setRelease(counters.pid());
        final AtomicCounter start = counters.newCounter(PasidkitCounterTypes.PROCESS, "process start time (epoch ms)",
            CounterKind.GAUGE);
        start.setRelease(counters.startTimeMs());
        this.publishes = counters.newCounter(PasidkitCounterTypes.PROCESS, "counter publishes", CounterKind.TOTAL);
        this.runner = new AgentRunner(new SleepingMillisIdleStrategy(intervalMs), Throwable::printStackTrace, null,
            this);
    }

    /**
     * A publisher over a new counters file in {@code directory} (see {@link PasidkitCounters#create}); add sources,
     * then {@link #start} it.
     */
    public static CountersPublisher create(final Path directory, final String label, final long intervalMs)
    {
        if (intervalMs < 1)
        {
            throw new IllegalArgumentException("publish interval " + intervalMs + " ms must be >= 1");
        }
        final PasidkitCounters file = PasidkitCounters.create(directory, label,
            PasidkitCounters.DEFAULT_MAX_COUNTERS, intervalMs);
        return new CountersPublisher(file, intervalMs);
    }

    /** A started publisher of a bare allocator's counts (a file in {@code directory}, published every 100 ms). */
    public static CountersPublisher forAllocator(final PasidAllocator allocator, final Path directory,
        final String label)
    {
        return create(directory, label, PasidkitCounters.DEFAULT_PUBLISH_INTERVAL_MS).addAllocator(allocator).start();
    }

    /*
     * NOTE: this publisher's own monitor (start, add, publishNow, close) serializes its agent thread's publishes with a
     * caller's final publishNow and with adding sources. It is never taken by the allocator's or the space's hot
     * paths: they are only read (their counts) by the publisher, off those paths, every publish interval.
     */

    /** Starts the agent thread ("pasidkit-counters", daemon). */
    public synchronized CountersPublisher start()
    {
        publishNow();
        AgentRunner.startOnThread(runner, (runnable) ->
        {
            final Thread thread = new Thread(runnable);
            thread.setDaemon(true);
            return thread;
        });
        return this;
    }

    /** Publishes a bare allocator's {@link AllocatorCounts}. */
    public CountersPublisher addAllocator(final PasidAllocator allocator)
    {
        final AllocatorCounts counts = new AllocatorCounts();
        final AllocatorCounters section = new AllocatorCounters(counters);
        return add((nowNs) -> section.publish(allocator.counts(counts), nowNs));
    }

    /** Publishes a space's {@link PasidSpaceCounts}, its allocator's included. */
    public CountersPublisher addSpace(final PasidSpace space)
    {
        final PasidSpaceCounts counts = new PasidSpaceCounts();
        final AllocatorCounters allocator = new AllocatorCounters(counters);
        final SpaceCounters section = new SpaceCounters(counters);
        return add((nowNs) ->
        {
            space.counts(counts);
            allocator.publish(counts.allocator(), nowNs);
            section.publish(counts);
        });
    }

    /** Publishes an invalidator's counters (commands, syncs, full flushes, changes, timeouts). */
    public CountersPublisher addInvalidator(final AtcInvalidator invalidator)
    {
        final String[] names = {"ATC invalidation commands", "ATC syncs", "ATC full flushes", "ATC changes",
            "ATC sync timeouts"};
        final AtomicCounter[] out = new AtomicCounter[names.length];
        for (int i = 0; i < names.length; i++)
        {
            out[i] = counters.newCounter(PasidkitCounterTypes.ATC, names[i], CounterKind.TOTAL);
        }
        final long[] values = new long[names.length];
        return add((nowNs) ->
        {
            invalidator.counters(values);
            for (int i = 0; i < out.length; i++)
            {
                out[i].setRelease(values[i]);
            }
        });
    }

    /** Publishes an application's total (a count that only grows; readers show its rate), read by {@code value}. */
    public CountersPublisher addTotal(final int typeId, final String label, final LongSupplier value)
    {
        return addSupplier(typeId, label, CounterKind.TOTAL, value);
    }

    /** Publishes an application's level (goes up and down), read by {@code value}. */
    public CountersPublisher addGauge(final int typeId, final String label, final LongSupplier value)
    {
        return addSupplier(typeId, label, CounterKind.GAUGE, value);
    }

    private CountersPublisher addSupplier(final int typeId, final String label, final CounterKind kind,
        final LongSupplier value)
    {
        final AtomicCounter counter = counters.newCounter(typeId, label, kind);
        return add((nowNs) -> counter.setRelease(value.getAsLong()));
    }

    private synchronized CountersPublisher add(final Source source)
    {
        final Source[] next = Arrays.copyOf(sources, sources.length + 1);
        next[sources.length] = source;
        sources = next;
        if (!closed)
        {
            source.publish(System.nanoTime());
        }
        return this;
    }

    /**
     * Publishes every source now, from the calling thread (serialized with the agent's publishes). Call it at
     * quiescence for final figures.
     */
    public synchronized void publishNow()
    {
        if (closed)
        {
            return;
        }
        final long nowNs = System.nanoTime();
        for (final Source source : sources)
        {
            source.publish(nowNs);
        }
        publishes.incrementRelease();
        counters.heartbeat(System.currentTimeMillis());
    }

    @Override
    public int doWork()
    {
        publishNow();
        return 0; // NOTE: no "work" in the AgentRunner's sense: its idle strategy then sleeps one interval.
    }

    @Override
    public String roleName()
    {
        return "pasidkit-counters";
    }

    /** The counters file. */
    public Path path()
    {
        return counters.path();
    }

    /** The file (for an application's own {@link PasidkitCounters#newCounter} counters). */
    public PasidkitCounters file()
    {
        return counters;
    }

    /** Stops the agent thread, publishes once more (final figures) and marks the file closed. Idempotent. */
    @Override
    public void close()
    {
        runner.close(); // NOTE: outside the monitor: the agent may be inside publishNow, which takes it
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            publishNow();
            closed = true;
            counters.close();
        }
    }

    /** The allocator's figures. */
    private static final class AllocatorCounters
    {
        private final AtomicCounter capacity;
        private final AtomicCounter free;
        private final AtomicCounter cached;
        private final AtomicCounter inUse;
        private final AtomicCounter retired;
        private final AtomicCounter held;
        private final AtomicCounter backlog;
        private final AtomicCounter oldestWaitNs;
        private final AtomicCounter epoch;
        private final AtomicCounter epochStillNs;
        private final AtomicCounter reclaimPasses;
        private final AtomicCounter readersHoldingBack;
        private long lastEpoch = -1;
        private long epochSeenNs;

        AllocatorCounters(final PasidkitCounters file)
        {
            final int t = PasidkitCounterTypes.ALLOCATOR;
            capacity = file.newCounter(t, "allocator ids in range", CounterKind.GAUGE);
            free = file.newCounter(t, "allocator ids free", CounterKind.GAUGE);
            cached = file.newCounter(t, "allocator ids cached", CounterKind.GAUGE);
            inUse = file.newCounter(t, "allocator ids in use", CounterKind.GAUGE);
            retired = file.newCounter(t, "allocator ids retired (in grace)", CounterKind.GAUGE);
            held = file.newCounter(t, "allocator ids held (waiting for unbinds)", CounterKind.GAUGE);
            backlog = file.newCounter(t, "allocator reclaim backlog", CounterKind.GAUGE);
            oldestWaitNs = file.newCounter(t, "allocator oldest retired wait ns", CounterKind.GAUGE_NS);
            epoch = file.newCounter(t, "allocator epoch", CounterKind.TOTAL);
            epochStillNs = file.newCounter(t, "allocator epoch unchanged for ns (publisher resolution)",
                CounterKind.GAUGE_NS);
            reclaimPasses = file.newCounter(t, "allocator reclaim passes", CounterKind.TOTAL);
            readersHoldingBack = file.newCounter(t, "allocator readers holding the epoch back", CounterKind.GAUGE);
        }

        void publish(final AllocatorCounts counts, final long nowNs)
        {
            capacity.setRelease(counts.capacity());
            free.setRelease(counts.free());
            cached.setRelease(counts.cached());
            inUse.setRelease(counts.inUse());
            retired.setRelease(counts.retired());
            held.setRelease(counts.held());
            backlog.setRelease(counts.reclaimBacklog());
            oldestWaitNs.setRelease(counts.oldestWaitNs());
            if (counts.epoch() != lastEpoch)
            {
                lastEpoch = counts.epoch();
                epochSeenNs = nowNs;
            }
            epoch.setRelease(counts.epoch());
            epochStillNs.setRelease(nowNs - epochSeenNs);
            reclaimPasses.setRelease(counts.reclaimPasses());
            readersHoldingBack.setRelease(counts.readersHoldingBack());
        }
    }

    /** The space's figures beyond its allocator's. */
    private static final class SpaceCounters
    {
        private static final RefusalKind[] KINDS = RefusalKind.values();

        private final AtomicCounter active;
        private final AtomicCounter teardown;
        private final AtomicCounter bonds;
        private final AtomicCounter addressSpaces;
        private final AtomicCounter owners;
        private final AtomicCounter[] refusals = new AtomicCounter[RefusalKind.values().length];
        private final AtomicCounter stuckBonds;
        private final AtomicCounter oldestStuckWaitNs;
        private final AtomicCounter revocations;
        private final AtomicCounter pendingFlushes;
        private final AtomicCounter failedFlushes;
        private final AtomicCounter devicesRemoved;
        private final AtomicCounter suppressedFaults;
        private final AtomicCounter exitEvents;
        private final AtomicCounter nativeBytes;

        SpaceCounters(final PasidkitCounters file)
        {
            final int t = PasidkitCounterTypes.SPACE;
            active = file.newCounter(t, "space PASIDs active", CounterKind.GAUGE);
            teardown = file.newCounter(t, "space PASIDs in teardown", CounterKind.GAUGE);
            bonds = file.newCounter(t, "space bonds", CounterKind.GAUGE);
            addressSpaces = file.newCounter(t, "space address spaces", CounterKind.GAUGE);
            owners = file.newCounter(t, "space owners", CounterKind.GAUGE);
            for (final RefusalKind kind : RefusalKind.values())
            {
                refusals[kind.ordinal()] = file.newCounter(PasidkitCounterTypes.SPACE_REFUSALS,
                    "space refusals " + kind.name().toLowerCase(java.util.Locale.ROOT), CounterKind.TOTAL);
            }
            stuckBonds = file.newCounter(t, "space stuck bonds", CounterKind.GAUGE);
            oldestStuckWaitNs = file.newCounter(t, "space oldest stuck bond wait ns", CounterKind.GAUGE_NS);
            revocations = file.newCounter(t, "space revocations", CounterKind.TOTAL);
            pendingFlushes = file.newCounter(t, "space revocation flushes pending", CounterKind.GAUGE);
            failedFlushes = file.newCounter(t, "space revocation flushes failed", CounterKind.TOTAL);
            devicesRemoved = file.newCounter(t, "space devices removed", CounterKind.TOTAL);
            suppressedFaults = file.newCounter(t, "space faults suppressed", CounterKind.TOTAL);
            exitEvents = file.newCounter(t, "space exit events", CounterKind.TOTAL);
            nativeBytes = file.newCounter(t, "space table native bytes", CounterKind.GAUGE);
        }

        void publish(final PasidSpaceCounts counts)
        {
            active.setRelease(counts.activePasids());
            teardown.setRelease(counts.teardownPasids());
            bonds.setRelease(counts.bonds());
            addressSpaces.setRelease(counts.addressSpaces());
            owners.setRelease(counts.owners());
            for (final RefusalKind kind : KINDS)
            {
                refusals[kind.ordinal()].setRelease(counts.refusals(kind));
            }
            stuckBonds.setRelease(counts.stuckBonds());
            oldestStuckWaitNs.setRelease(counts.oldestStuckWaitNs());
            revocations.setRelease(counts.revocations());
            pendingFlushes.setRelease(counts.pendingRevocationFlushes());
            failedFlushes.setRelease(counts.failedRevocationFlushes());
            devicesRemoved.setRelease(counts.devicesRemoved());
            suppressedFaults.setRelease(counts.suppressedFaults());
            exitEvents.setRelease(counts.exitEvents());
            nativeBytes.setRelease(counts.tableNativeBytes());
        }
    }
}
