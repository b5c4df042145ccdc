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
import org.pasidkit.allocator.AsymmetricFence;

/**
 * JMH profiler (runs in the fork): the heavy barriers ({@link AsymmetricFence#heavy()}) each measured iteration paid,
 * as secondary results: {@code fence.heavy} (count; summed over iterations and forks), {@code fence.heavy.per.s} and
 * {@code fence.heavy.per.Mop} (per second and per million benchmark operations; averaged), and
 * {@code fence.membarrier} (1 when the fork's mode is membarrier, 0 when fenced). {@code ./pasidkit bench} adds it to
 * every benchmark; by hand: {@code -prof org.pasidkit.bench.HeavyBarrierProfiler}. It reads one counter at each
 * iteration's start and end: nothing on the measured path.
 */
public final class HeavyBarrierProfiler implements InternalProfiler
{
    private long heavyBefore;
    private long startNs;

    @Override
    public String getDescription()
    {
        return "AsymmetricFence heavy barriers per iteration, per second and per million ops; the fork's fence mode";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
    {
        heavyBefore = AsymmetricFence.heavyBarriers();
        startNs = System.nanoTime();
    }

    @Override
    @SuppressWarnings("rawtypes") // the InternalProfiler signature uses the raw Result type
    public Collection<? extends Result> afterIteration(
        final BenchmarkParams benchmarkParams, final IterationParams iterationParams, final IterationResult result)
    {
        final long elapsedNs = System.nanoTime() - startNs;
        final long heavy = AsymmetricFence.heavyBarriers() - heavyBefore;
        final long ops = null == result.getMetadata() ? 0 : result.getMetadata().getMeasuredOps();
        return List.of(
            new ScalarResult("fence.heavy", heavy, "barriers", AggregationPolicy.SUM),
            new ScalarResult("fence.heavy.per.s", heavy * 1e9 / Math.max(1, elapsedNs), "barriers/s",
                AggregationPolicy.AVG),
            new ScalarResult("fence.heavy.per.Mop", 0 == ops ? Double.NaN : heavy * 1e6 / ops, "barriers/Mop",
                AggregationPolicy.AVG),
            new ScalarResult("fence.membarrier", AsymmetricFence.isAsymmetric() ? 1 : 0, "mode",
                AggregationPolicy.AVG));
    }
}
