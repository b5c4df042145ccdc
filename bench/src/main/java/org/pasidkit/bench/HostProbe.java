package org.pasidkit.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

/**
 * A fixed probe loop that a benchmark thread runs after each measured iteration (an iteration-level {@code TearDown}
 * of its thread state, outside the measured time): its ns per step and the CPU the thread ran on say which state the
 * host was in where that thread was measured. {@link HostProbeProfiler} reports what the iteration's threads recorded.
 *
 * <p>Why: this 2-vCPU VM's vCPUs run at different speeds at times, for tens of seconds or more, with no sign inside the
 * guest (no steal time). On 2026-12-05, two copies of this loop pinned one to each vCPU at the same moment took 6.3 ns
 * per step on one and 8.3-8.7 on the other; in those JVMs pasidkit's immediate pair took 11 and 16 ns, sbitmap's 14
 * and 15-16 ns. An unpinned benchmark thread stays on the vCPU where it started, so a fork's figure depends on where it
 * landed (bench/results/host-state-probe-20261205.txt): rows measured on different vCPU states compare the host as
 * much as the code.</p>
 *
 * <p>The loop: 12 loads, adds and stores of longs per step, each in its own line of one native page (L1-resident, no
 * atomic), the fastest of {@value #ROUNDS} rounds of {@value #STEPS} steps (a round can be interrupted, or run before
 * the loop is compiled): about 8 ms; then {@link #probeCasNs} (uncontended CASes, about 4 ms). One instance per
 * benchmark thread (its page is that thread's).</p>
 */
public final class HostProbe
{
    /** Native lines the probe touches per step. */
    static final int LINES = 12;
    /** Steps per round. */
    static final int STEPS = 200_000;
    /** Rounds per probe; the fastest counts. */
    static final int ROUNDS = 5;
    /** CASes per round of the second probe. */
    static final int CAS_STEPS = 100_000;

    private static final Path THREAD_STAT = Path.of("/proc/thread-self/stat");
    private static final Object LOCK = new Object();
    private static int samples;
    private static double sumNs;
    private static double minNs = Double.NaN;
    private static double maxNs = Double.NaN;
    private static int cpuSamples;
    private static double cpuSum;
    private static double casSumNs;

    private final ByteBuffer page = BufferUtil.allocateDirectAligned(4096, 4096);
    private final long[] addresses = new long[LINES];
    private long sink;

    public HostProbe()
    {
        final long base = BufferUtil.address(page);
        for (int i = 0; i < LINES; i++)
        {
            addresses[i] = base + 128L * i; // one line each, no two in an adjacent-line pair
        }
    }

    /** Runs the probes on the calling thread and records their figures and CPU for {@link HostProbeProfiler}. */
    public void record()
    {
        final double ns = probeNs();
        final double casNs = probeCasNs();
        final int cpu = currentCpu();
        synchronized (LOCK)
        {
            samples++;
            sumNs += ns;
            casSumNs += casNs;
            minNs = samples == 1 ? ns : Math.min(minNs, ns);
            maxNs = samples == 1 ? ns : Math.max(maxNs, ns);
            if (cpu >= 0)
            {
                cpuSamples++;
                cpuSum += cpu;
            }
        }
    }

    /** The fastest of {@link #ROUNDS} rounds, in ns per step. */
    double probeNs()
    {
        double best = Double.MAX_VALUE;
        for (int r = 0; r < ROUNDS; r++)
        {
            final long startNs = System.nanoTime();
            sink += round(addresses, STEPS);
            best = Math.min(best, (System.nanoTime() - startNs) / (double)STEPS);
        }
        return best;
    }

    /**
     * The second probe: uncontended CASes of a long in the page's last line (the thread's own), the fastest of
     * {@link #ROUNDS} rounds of {@value #CAS_STEPS}, in ns per CAS: the atomic an allocator's pair pays, which the
     * first probe has none of.
     */
    double probeCasNs()
    {
        final long address = BufferUtil.address(page) + 4096 - 64;
        double best = Double.MAX_VALUE;
        for (int r = 0; r < ROUNDS; r++)
        {
            final long startNs = System.nanoTime();
            long v = UnsafeApi.getLong(null, address);
            for (int i = 0; i < CAS_STEPS; i++)
            {
                if (UnsafeApi.compareAndSetLong(null, address, v, v + 1))
                {
                    v++;
                }
            }
            best = Math.min(best, (System.nanoTime() - startNs) / (double)CAS_STEPS);
        }
        return best;
    }

    private static long round(final long[] addresses, final int steps)
    {
        long sum = 0;
        for (int i = 0; i < steps; i++)
        {
            for (final long address : addresses)
            {
                final long v = UnsafeApi.getLong(null, address);
                UnsafeApi.putLong(null, address, v + 1);
                sum += v;
            }
        }
        return sum;
    }

    /**
     * The CPU the calling thread last ran on (Linux: field 39 of {@code /proc/thread-self/stat}), or -1 where that
     * cannot be read.
     */
    static int currentCpu()
    {
        try
        {
            final String stat = Files.readString(THREAD_STAT);
            // NOTE: after the command name's closing parenthesis (a name may hold spaces) the fields start at field 3.
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return fields.length > 36 ? Integer.parseInt(fields[36]) : -1;
        }
        catch (final IOException | RuntimeException e)
        {
            return -1;
        }
    }

    /**
     * What the threads recorded since the last call, then cleared: {samples, mean ns, min ns, max ns, mean CPU, mean ns
     * per CAS}; null if none recorded.
     */
    static double[] drain()
    {
        synchronized (LOCK)
        {
            if (0 == samples)
            {
                return null;
            }
            final double meanCpu = 0 == cpuSamples ? Double.NaN : cpuSum / cpuSamples;
            final double[] out = {samples, sumNs / samples, minNs, maxNs, meanCpu, casSumNs / samples};
            samples = 0;
            sumNs = 0;
            minNs = Double.NaN;
            maxNs = Double.NaN;
            cpuSamples = 0;
            cpuSum = 0;
            casSumNs = 0;
            return out;
        }
    }
}
