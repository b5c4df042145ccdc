package org.pasidkit.bench;

import java.util.Collection;
import java.util.List;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * JMH profiler (runs in the fork): reports what the iteration's benchmark threads recorded with {@link HostProbe} (in
 * their iteration-level {@code TearDown}) as secondary results: {@code host.probe} (ns per probe step, mean over the
 * threads, iterations and forks), {@code host.probe.min} and {@code host.probe.max} (the fastest and slowest thread
 * iteration), {@code host.probe.cas} (ns per uncontended CAS of the second probe, mean) and {@code host.cpu} (the
 * mean CPU number the threads ran on: on 2 CPUs, the share of thread iterations on CPU 1). A benchmark whose threads
 * do not record reports none of them (the probe must run on the measured thread: the fork's main thread may sit on
 * the other vCPU). {@code ./pasidkit bench} adds it to every benchmark; by hand:
 * {@code -prof org.pasidkit.bench.HostProbeProfiler}.
 */
public final class HostProbeProfiler implements InternalProfiler
{
    @Override
    public String getDescription()
    {
        return "the host probe the benchmark threads ran after each iteration: the state of the vCPUs they ran on";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
    {
        HostProbe.drain(); // NOTE: forget what a warm-up iteration recorded
    }

    @Override
    @SuppressWarnings("rawtypes") // the InternalProfiler signature uses the raw Result type
    public Collection<? extends Result> afterIteration(
        final BenchmarkParams benchmarkParams, final IterationParams iterationParams, final IterationResult result)
    {
        final double[] sample = HostProbe.drain();
        if (null == sample)
        {
            return List.of();
        }
        final ScalarResult probe = new ScalarResult("host.probe", sample[1], "ns/step", AggregationPolicy.AVG);
        final ScalarResult min = new ScalarResult("host.probe.min", sample[2], "ns/step", AggregationPolicy.MIN);
        final ScalarResult max = new ScalarResult("host.probe.max", sample[3], "ns/step", AggregationPolicy.MAX);
        final ScalarResult cas = new ScalarResult("host.probe.cas", sample[5], "ns/CAS", AggregationPolicy.AVG);
        return Double.isNaN(sample[4]) ? List.of(probe, min, max, cas) :
            List.of(probe, min, max, cas, new ScalarResult("host.cpu", sample[4], "cpu", AggregationPolicy.AVG));
    }
}
