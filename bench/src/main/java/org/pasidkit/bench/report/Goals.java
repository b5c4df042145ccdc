package org.pasidkit.bench.report;

import java.util.List;
import java.util.Locale;

/**
 * The goals the issues set, checked against the rows that measure them: each says met or missed, and by how much.
 * A goal whose benchmark did not run says "not measured" and counts as missed. Comparisons use the median of the
 * measurement iterations (JMH's mean when no median is known), within one run.
 */
final class Goals
{
    /** The allocator baselines that never strand ids: every one of DESIGN.md's but {@code tl-magazine}. */
    static final List<String> NON_STRANDING = List.of("locked-bitset", "mpmc-queue", "clq", "atomic-bitmap", "sbitmap");
    static final String ALLOC_FREE = "PasidAllocatorAllocFreeBenchmark.";
    static final String FLOOR = "AllocFreeFloorBenchmark.";

    private Goals()
    {
    }

    static String render(final List<BenchRow> rows)
    {
        final StringBuilder md = new StringBuilder("## Goals\n\n| issue | goal | measured | verdict |\n|---|---|---|---|\n");
        allocator(md, rows);
        allocatorAsUsed(md, rows);
        fences(md, rows);
        reclaim(md, rows);
        tables(md, rows);
        fanout(md, rows);
        zeroAllocation(md, rows);
        return md.append('\n').toString();
    }

    private static void allocator(final StringBuilder md, final List<BenchRow> rows)
    {
        final BenchRow t1 = find(rows, ALLOC_FREE + "pairT1", "pasidkit");
        final BenchRow t2 = find(rows, ALLOC_FREE + "pairT2", "pasidkit");
        final BenchRow cross = find(rows, ALLOC_FREE + "cross", "pasidkit");
        atMost(md, "#2", "allocate+free, 1 thread, cache hit: <= 10 ns per pair", t1, 10, "ns");
        if (null == t1 || null == t2)
        {
            line(md, "#2", "2 threads get >= 1.6x the throughput of 1", "not measured", false);
        }
        else
        {
            final double scaling = 2 * value(t1) / value(t2);
            line(md, "#2", "2 threads get >= 1.6x the throughput of 1", String.format(Locale.ROOT,
                "%.2fx (%s ns per pair per thread at 2 threads, %s at 1%s)", scaling, fmt(value(t2)), fmt(value(t1)),
                probes(t2, t1)), scaling >= 1.6);
        }
        final BenchRow casT1 = find(rows, FLOOR + "casPairT1", null);
        final BenchRow casT2 = find(rows, FLOOR + "casPairT2", null);
        floor(md, "#2", "two uncontended CASes of a byte per pair and nothing else, 1 thread (the least an allocator " +
            "that never strands ids and rejects racing double frees can do)", casT1, 10, t1);
        final BenchRow bestT1 = best(rows, ALLOC_FREE + "pairT1");
        final BenchRow bestT2 = best(rows, ALLOC_FREE + "pairT2");
        againstBest(md, "#7", "allocate+free, 1 thread: >= 1.5x the best non-stranding baseline", t1, bestT1, 1.5);
        floor(md, "#7", "the same two CASes, 1 thread", casT1, valueOrNaN(bestT1) / 1.5, t1);
        againstBest(md, "#7", "allocate+free, 2 threads: >= 1.5x the best non-stranding baseline", t2, bestT2, 1.5);
        floor(md, "#7", "the same two CASes, 2 threads (each on its own line)", casT2,
            valueOrNaN(bestT2) / 1.5, t2);
        againstBest(md, "#7", "allocated on one thread, freed on another: >= 3x the best non-stranding baseline",
            cross, best(rows, ALLOC_FREE + "cross"), 3);
        // NOTE: not a floor: with nothing to do between items the two sides hand every single item over (a cache
        // line round trip each), so the ring alone can cost more than the ring plus an allocator. It shows how far
        // the harness's rhythm alone swings the cross figures.
        final BenchRow ring = find(rows, FLOOR + "crossRingOnly", null);
        md.append("| #7 | context (not a floor): the cross workload's SPSC ring alone, no allocator (a counter passed " +
            "from thread to thread) | ").append(null == ring ? "not measured" : String.format(Locale.ROOT,
            "%s ns (mean %s ± %s): the harness alone swings as much as the allocators differ", fmt(value(ring)),
            fmt(ring.score), fmt(ring.scoreError))).append(" | context |\n");
        for (final String method : new String[]{"pairT1", "pairT2"})
        {
            final BenchRow mine = find(rows, ALLOC_FREE + method, "pasidkit");
            final BenchRow magazine = find(rows, ALLOC_FREE + method, "tl-magazine");
            final String goal = "within 2x of tl-magazine (" + method + "), with 100% of the range allocatable";
            if (null == mine || null == magazine)
            {
                line(md, "#7", goal, "not measured", false);
                continue;
            }
            final double ratio = value(mine) / value(magazine);
            line(md, "#7", goal, String.format(Locale.ROOT, "%.2fx slower (%s vs %s ns)", ratio, fmt(value(mine)),
                fmt(value(magazine))), ratio <= 2);
        }
        for (final String freeIds : new String[]{"105", "1"})
        {
            final BenchRow full = find(rows, "PasidAllocatorFullRangeBenchmark.freeRandomThenAllocate", "pasidkit",
                "freeIds", freeIds);
            final String what = "105".equals(freeIds) ? "99.99% full" : "1 id free (the last id)";
            final Double p999 = null == full ? null : full.percentiles.get("p999");
            if (null == p999)
            {
                line(md, "#7", "allocate at " + what + ", cache miss: p99.9 < 50 us", "not measured", false);
                continue;
            }
            line(md, "#7", "allocate at " + what + ", cache miss: p99.9 < 50 us", String.format(Locale.ROOT,
                "p50 %s ns, p99.9 %s ns, max %s ns", fmt(full.percentiles.get("p50")), fmt(p999),
                fmt(full.percentiles.getOrDefault("p100", Double.NaN))), p999 < 50_000);
        }
    }

    static final String CHURN = "PasidAllocatorExhaustionChurnBenchmark.churn";
    static final String HELD = "PasidAllocatorHeldSetBenchmark.allocateFreeRandomHeld";

    /** Issue #12: the default (grace) build, scattered held sets and exhaustion, against the baselines. */
    private static void allocatorAsUsed(final StringBuilder md, final List<BenchRow> rows)
    {
        final BenchRow graceT1 = find(rows, ALLOC_FREE + "pairT1", "pasidkit-grace");
        final BenchRow graceT2 = find(rows, ALLOC_FREE + "pairT2", "pasidkit-grace");
        againstBest(md, "#12", "grace (default build) allocate+free, 1 thread: >= 1.0x the best non-stranding baseline",
            graceT1, best(rows, ALLOC_FREE + "pairT1"), 1.0);
        againstBest(md, "#12", "grace allocate+free, 2 threads: >= 1.0x the best non-stranding baseline", graceT2,
            best(rows, ALLOC_FREE + "pairT2"), 1.0);
        if (null == graceT1 || null == graceT2)
        {
            line(md, "#12", "grace: 2 threads get >= 1.8x the throughput of 1", "not measured", false);
        }
        else
        {
            final double scaling = 2 * value(graceT1) / value(graceT2);
            line(md, "#12", "grace: 2 threads get >= 1.8x the throughput of 1", String.format(Locale.ROOT,
                "%.2fx (%s ns per pair per thread at 2 threads, %s at 1%s)", scaling, fmt(value(graceT2)),
                fmt(value(graceT1)), probes(graceT2, graceT1)), scaling >= 1.8);
        }
        for (final String method : new String[]{"pairT1", "pairT2", "pairT4"})
        {
            for (final String impl : new String[]{"pasidkit-grace", "pasidkit-grace-reader"})
            {
                final BenchRow row = find(rows, ALLOC_FREE + method, impl);
                final BenchRow base = best(rows, ALLOC_FREE + method);
                md.append("| #12 | context: ").append(impl).append(" allocate+free, ").append(method)
                    .append(" (grace-reader: one registered reader that never enters) | ")
                    .append(null == row ? "not measured" : String.format(Locale.ROOT, "%s ns per pair per thread%s",
                        fmt(value(row)), null == base ? "" : String.format(Locale.ROOT, " (%.2fx %s, %s ns)",
                        value(base) / value(row), base.params.get("impl"), fmt(value(base)))))
                    .append(" | context |\n");
            }
        }
        againstBest(md, "#12", "immediate allocate+free, 1 thread: stays >= 1.2x the best non-stranding baseline",
            find(rows, ALLOC_FREE + "pairT1", "pasidkit"), best(rows, ALLOC_FREE + "pairT1"), 1.2);
        againstBest(md, "#12", "immediate allocate+free, 2 threads: stays >= 1.2x the best non-stranding baseline",
            find(rows, ALLOC_FREE + "pairT2", "pasidkit"), best(rows, ALLOC_FREE + "pairT2"), 1.2);
        for (final String impl : new String[]{"pasidkit", "pasidkit-grace"})
        {
            for (final String percent : new String[]{"50", "99.99"})
            {
                againstBest(md, "#12", impl + ", random held set at " + percent + "% of 2^20: >= 1.0x the best " +
                    "non-stranding baseline", find(rows, HELD, impl, "heldPercent", percent),
                    best(rows, HELD, "heldPercent", percent), 1.0);
            }
        }
        final BenchRow sbitmap = find(rows, CHURN, "sbitmap");
        for (final String impl : new String[]{"pasidkit", "pasidkit-grace"})
        {
            final BenchRow mine = find(rows, CHURN, impl);
            againstBest(md, "#12", impl + ", exhaustion churn (2 threads, 512 ids): >= 1.0x sbitmap's ops/s", mine,
                sbitmap, 1.0);
            final Double p999 = null == mine ? null : mine.secondary.get("exhausted.p99.9");
            final Double sbitmapP999 = null == sbitmap ? null : sbitmap.secondary.get("exhausted.p99.9");
            final String goal = impl + ", exhaustion churn: p99.9 of a 'no id' answer within 2x of sbitmap's";
            if (null == p999 || null == sbitmapP999)
            {
                line(md, "#12", goal, "not measured", false);
                continue;
            }
            final double ratio = p999 / sbitmapP999;
            line(md, "#12", goal, String.format(Locale.ROOT, "%.2fx (%s ns vs %s ns)", ratio, fmt(p999),
                fmt(sbitmapP999)), ratio <= 2);
        }
    }

    /**
     * Issue #13: the asymmetric fences' light sides against their goals. The run's fence mode is in the report's Fence
     * section (the goals hold for the membarrier path; a fenced run shows what the fallback gives).
     */
    private static void fences(final StringBuilder md, final List<BenchRow> rows)
    {
        atMost(md, "#13", "epoch enter+exit, 1 thread: <= 2 ns",
            find(rows, "EpochDomainEnterExitBenchmark.enterExit", null), 2, "ns");
        // NOTE: each pair goal with the asymmetric path's floor beside it: one plain store and one CAS per pair (the
        // pop's IN_USE store, the free's CAS that issue 13 keeps), measured in the same run.
        final BenchRow storeCasT1 = find(rows, FLOOR + "storeCasPairT1", null);
        final BenchRow storeCasT2 = find(rows, FLOOR + "storeCasPairT2", null);
        final BenchRow protocolT1 = find(rows, FLOOR + "protocolPairT1", null);
        final BenchRow protocolT2 = find(rows, FLOOR + "protocolPairT2", null);
        final BenchRow graceProtocolT1 = find(rows, FLOOR + "graceProtocolPairT1", null);
        final BenchRow graceProtocolT2 = find(rows, FLOOR + "graceProtocolPairT2", null);
        final BenchRow bestT1 = best(rows, ALLOC_FREE + "pairT1");
        final BenchRow bestT2 = best(rows, ALLOC_FREE + "pairT2");
        final double bestT1Ns = valueOrNaN(bestT1);
        final double bestT2Ns = valueOrNaN(bestT2);
        final BenchRow t1 = find(rows, ALLOC_FREE + "pairT1", "pasidkit");
        final BenchRow t2 = find(rows, ALLOC_FREE + "pairT2", "pasidkit");
        final BenchRow graceT1 = find(rows, ALLOC_FREE + "pairT1", "pasidkit-grace");
        final BenchRow graceT2 = find(rows, ALLOC_FREE + "pairT2", "pasidkit-grace");
        againstBest(md, "#13", "immediate allocate+free, 1 thread: >= 1.5x the best non-stranding baseline", t1,
            bestT1, 1.5);
        floor(md, "#13", "one plain store and one CAS of a byte per pair (an owner's pop, the free's CAS) and nothing " +
            "else, 1 thread: the least the asymmetric path does", storeCasT1, bestT1Ns / 1.5, t1);
        floor(md, "#13", "every memory access of the cache-hit pair's protocol in its order (enter, pop, exit, " +
            "enter, CAS, push, CACHED, exit: nine stores and the CAS; the free's loads before its CAS) and nothing " +
            "else, 1 thread", protocolT1,
            bestT1Ns / 1.5, t1);
        againstBest(md, "#13", "immediate allocate+free, 2 threads: >= 1.5x the best non-stranding baseline", t2,
            bestT2, 1.5);
        floor(md, "#13", "the same store and CAS, 2 threads (each on its own line)", storeCasT2, bestT2Ns / 1.5, t2);
        floor(md, "#13", "the protocol's accesses, 2 threads (each on its own stripe)", protocolT2, bestT2Ns / 1.5,
            t2);
        againstBest(md, "#13", "grace allocate+free (heavy barriers in the loop), 1 thread: >= 1.3x the best " +
            "non-stranding baseline", graceT1, bestT1, 1.3);
        floor(md, "#13", "the same store and CAS, 1 thread", storeCasT1, bestT1Ns / 1.3, graceT1);
        floor(md, "#13", "every memory access of the grace build's cache-hit pair in its order (the pop; the free's " +
            "CAS, epoch load and retire-ring append; the owner's move of aged ids into the dry cache ring) and nothing " +
            "else, 1 thread", graceProtocolT1, bestT1Ns / 1.3, graceT1);
        againstBest(md, "#13", "grace allocate+free (heavy barriers in the loop), 2 threads: >= 1.3x the best " +
            "non-stranding baseline", graceT2, bestT2, 1.3);
        floor(md, "#13", "the same store and CAS, 2 threads", storeCasT2, bestT2Ns / 1.3, graceT2);
        floor(md, "#13", "the grace protocol's accesses, 2 threads (each on its own stripe)", graceProtocolT2,
            bestT2Ns / 1.3, graceT2);
        atMost(md, "#13", "driver-data lookup inside an epoch critical section (enter, lookup, exit): <= 5 ns",
            find(rows, "PasidSpaceEpochLookupBenchmark.enterLookupExit", null), 5, "ns");
        final BenchRow latency = find(rows, "PasidAllocatorGraceLatencyBenchmark.freeToReusable", null,
            "readers", "2");
        final Double p50 = null == latency ? null : latency.secondary.get("grace.p50");
        line(md, "#13", "grace latency median with 2 reader threads (an epoch advance pays the heavy barrier): " +
            "<= 100 us", null == p50 ? "not measured" : String.format(Locale.ROOT, "p50 %s ns", fmt(p50)),
            null != p50 && p50 <= 100_000);
        final BenchRow full = find(rows, "PasidAllocatorFullRangeBenchmark.freeRandomThenAllocate", "pasidkit",
            "freeIds", "105");
        final Double p999 = null == full ? null : full.percentiles.get("p999");
        line(md, "#13", "allocate at 99.99% full (steals pay at most one heavy barrier per stripe): p99.9 <= 100 us",
            null == p999 ? "not measured" : String.format(Locale.ROOT, "p99.9 %s ns", fmt(p999)),
            null != p999 && p999 <= 100_000);
    }

    private static void reclaim(final StringBuilder md, final List<BenchRow> rows)
    {
        atMost(md, "#3", "enter+exit of a critical section, 1 thread: <= 10 ns",
            find(rows, "EpochDomainEnterExitBenchmark.enterExit", null), 10, "ns");
        atMost(md, "#3", "enter+exit, 2 threads (each): <= 10 ns",
            find(rows, "EpochDomainEnterExitBenchmark.enterExit2Threads", null), 10, "ns");
        atMost(md, "#3", "retire, amortised with its reclaim (queue alone, a thread without a stripe: one ticket " +
            "per id): <= 20 ns", find(rows, "EpochReclaimQueueRetireBenchmark.retireReclaimBatch", null), 20, "ns");
        atMost(md, "#3", "retire, amortised with its reclaim (queue alone, through a stripe's retire ring): <= 20 ns",
            find(rows, "EpochReclaimQueueRetireBenchmark.retireReclaimBatchBagged", null), 20, "ns");
        final BenchRow grace = find(rows, "EpochReclaimQueueRetireBenchmark.allocateFree", null, "reuse", "grace");
        final BenchRow immediate = find(rows, "EpochReclaimQueueRetireBenchmark.allocateFree", null, "reuse",
            "immediate");
        if (null == grace || null == immediate)
        {
            line(md, "#3", "retire + inline reclaim through the public allocator (grace - immediate): <= 20 ns",
                "not measured", false);
        }
        else
        {
            final double extra = value(grace) - value(immediate);
            line(md, "#3", "retire + inline reclaim through the public allocator (grace - immediate): <= 20 ns",
                String.format(Locale.ROOT, "%s ns (%s - %s)", fmt(extra), fmt(value(grace)), fmt(value(immediate))),
                extra <= 20);
        }
        final BenchRow latency = find(rows, "PasidAllocatorGraceLatencyBenchmark.freeToReusable", null,
            "readers", "2");
        final Double p50 = null == latency ? null : latency.secondary.get("grace.p50");
        if (null == p50)
        {
            line(md, "#3", "grace latency median with 2 reader threads: <= 10 us", "not measured", false);
        }
        else
        {
            line(md, "#3", "grace latency median with 2 reader threads: <= 10 us", String.format(Locale.ROOT,
                "p50 %s ns, p99 %s ns, p99.9 %s ns", fmt(p50), fmt(latency.secondary.getOrDefault("grace.p99",
                Double.NaN)), fmt(latency.secondary.getOrDefault("grace.p99.9", Double.NaN))), p50 <= 10_000);
        }
    }

    private static void tables(final StringBuilder md, final List<BenchRow> rows)
    {
        for (final String layout : new String[]{"random", "dense"})
        {
            final BenchRow mine = find(rows, "PasidSpaceLookupBenchmark.lookup", "pasidkit", "pasidLayout", layout);
            atMost(md, "#4", "driver-data lookup by (PASID, device), 1 thread, " + layout + " PASIDs: <= 3 ns", mine,
                3, "ns");
            for (final String map : new String[]{"NonBlockingHashMapLong", "ConcurrentHashMap",
                "ConcurrentHashMapPreboxed"})
            {
                final BenchRow other = find(rows, "PasidSpaceLookupBenchmark.lookup", map, "pasidLayout", layout);
                againstBest(md, "#4", "lookup, " + layout + ": >= 1.5x " + map, mine, other, 1.5);
            }
        }
    }

    private static void fanout(final StringBuilder md, final List<BenchRow> rows)
    {
        fanoutGoal(md, "emit", "commands generated into the ring, 1 thread: >= 100 M/s", 100e6, rows);
        fanoutGoal(md, "endToEnd", "end to end, producer + simulated IOMMU, each change waiting for its sync: >= 30 M/s",
            30e6, rows);
        fanoutGoal(md, "pipelined", "end to end, producer + simulated IOMMU, syncs of 8 address spaces overlapped: " +
            ">= 30 M/s", 30e6, rows);
    }

    /**
     * A fan-out goal, judged at 16 devices x 4 PASIDs (64 commands a change, one full batch, the case batching is
     * for); the smallest configuration measured is shown beside it. Commands per second is the {@code commands}
     * counter.
     */
    private static void fanoutGoal(final StringBuilder md, final String group, final String goal,
        final double perSecond, final List<BenchRow> rows)
    {
        final BenchRow wide = find(rows, "AtcInvalidatorFanoutBenchmark." + group, null, "batch", "64", "devices", "16",
            "privatePasids", "3");
        BenchRow slowest = null;
        for (final BenchRow row : rows)
        {
            if (row.benchmark.endsWith("AtcInvalidatorFanoutBenchmark." + group) &&
                "64".equals(row.params.get("batch")) && row.secondary.containsKey("commands") &&
                (null == slowest || row.secondary.get("commands") < slowest.secondary.get("commands")))
            {
                slowest = row;
            }
        }
        if (null == wide || !wide.secondary.containsKey("commands"))
        {
            line(md, "#5", goal + " (16 devices x 4 PASIDs)", "not measured", false);
            return;
        }
        final double v = wide.secondary.get("commands");
        line(md, "#5", goal + " (16 devices x 4 PASIDs)", String.format(Locale.ROOT,
            "%.1f M/s; smallest configuration: %.1f M/s (%s)", v / 1e6, slowest.secondary.get("commands") / 1e6,
            slowest.workload), v >= perSecond);
    }

    private static void zeroAllocation(final StringBuilder md, final List<BenchRow> rows)
    {
        int pasidkitRows = 0;
        double worst = 0;
        String worstName = "";
        BenchRow bindSecond = null;
        for (final BenchRow row : rows)
        {
            if (row.benchmark.endsWith(".bindSecondDevice") && !Double.isNaN(row.allocBytesPerOp))
            {
                bindSecond = row;
                continue;
            }
            if (!row.implementation.startsWith("pasidkit") || Double.isNaN(row.allocBytesPerOp) ||
                row.benchmark.contains("GraceLatency") || row.benchmark.contains(".PasidSpaceBindBenchmark.bind"))
            {
                continue;
            }
            pasidkitRows++;
            if (row.allocBytesPerOp > worst)
            {
                worst = row.allocBytesPerOp;
                worstName = row.workload + " x" + row.threads;
            }
        }
        // JMH's own infrastructure shows up as a few hundredths of a byte per op; an allocation on the measured path
        // is at least 16 B per op that performs it. The grace-latency benchmark is left out: its few ops per
        // iteration carry the trial's set-up and report bytes (see its javadoc); so is every bind benchmark: each
        // bind returns a new Bond, those that create an address space also allocate it and its copy-on-write array,
        // and bindWhileReading's one row averages its binder's Bonds over its reader's lookups (measured allocation-free
        // on their own in PasidSpaceLookupBenchmark).
        line(md, "#2-#7", "0 B/op on every pasidkit hot path (< 0.5 B/op: JMH noise; not the binds, which return a " +
            "new Bond)", pasidkitRows == 0 ? "not measured" : String.format(Locale.ROOT, "max %.3f B/op over %d rows%s",
            worst, pasidkitRows, worst > 0 ? " (" + worstName + ")" : ""), pasidkitRows > 0 && worst < 0.5);
        // NOTE: a bind returns the driver's capability (a new Bond object: issue 14), so it allocates by design. Checked
        // apart: a bind of a second device to a live PASID allocates that Bond and nothing else.
        line(md, "#14", "bind of a second device allocates only its Bond (" + BOND_BYTES + " B; < " + BOND_BYTES +
            ".5 B/op)", null == bindSecond ? "not measured" : String.format(Locale.ROOT, "%.3f B/op",
            bindSecond.allocBytesPerOp), null != bindSecond && bindSecond.allocBytesPerOp < BOND_BYTES + 0.5);
    }

    /** Bytes of one {@code Bond} (the capability a bind returns) with compressed oops, as JMH's -prof gc shows it. */
    static final int BOND_BYTES = 48;

    private static void atMost(final StringBuilder md, final String issue, final String goal, final BenchRow row,
        final double limit, final String unit)
    {
        if (null == row)
        {
            line(md, issue, goal, "not measured", false);
            return;
        }
        final double v = value(row);
        line(md, issue, goal, String.format(Locale.ROOT, "%s %s (mean %s ± %s%s)%s", fmt(v), unit, fmt(row.score),
            fmt(row.scoreError), probes(row, null), v <= limit ? "" : String.format(Locale.ROOT, ", %.2fx over",
            v / limit)), v <= limit);
    }

    private static void againstBest(final StringBuilder md, final String issue, final String goal, final BenchRow mine,
        final BenchRow best, final double factor)
    {
        if (null == mine || null == best)
        {
            line(md, issue, goal, "not measured", false);
            return;
        }
        final double speedup = mine.lowerIsBetter() ? value(best) / value(mine) : value(mine) / value(best);
        line(md, issue, goal, String.format(Locale.ROOT, "%.2fx (%s %s vs %s %s%s)", speedup, fmt(value(mine)),
            mine.unit, best.implementation, fmt(value(best)), probes(mine, best)), speedup >= factor);
    }

    /**
     * The host probe means ({@code HostProbeProfiler}) of a row, "; host probe 6.12 ns", or of two compared rows
     * ({@code other} not null), "; host probe 6.12 / 8.40 ns"; "" if a row has none.
     */
    static String probes(final BenchRow mine, final BenchRow other)
    {
        final Double a = mine.secondary.get(Report.HOST_PROBE);
        final Double b = null == other ? a : other.secondary.get(Report.HOST_PROBE);
        return null == a || null == b ? "" : "; host probe " + fmt(a) + (null == other ? "" : " / " + fmt(b)) + " ns";
    }

    /**
     * The best non-stranding baseline row of a benchmark (by median: lowest time, or highest throughput) with these
     * parameter values (pairs of name, value), or null.
     */
    private static BenchRow best(final List<BenchRow> rows, final String benchmark, final String... params)
    {
        BenchRow best = null;
        for (final String impl : NON_STRANDING)
        {
            final BenchRow row = find(rows, benchmark, impl, params);
            if (null != row && (null == best ||
                (row.lowerIsBetter() ? value(row) < value(best) : value(row) > value(best))))
            {
                best = row;
            }
        }
        return best;
    }

    /**
     * The row whose benchmark ends with {@code "." + classAndMethod}, of this implementation (null: any) and with
     * these parameter values (pairs of name, value).
     */
    static BenchRow find(final List<BenchRow> rows, final String classAndMethod, final String impl,
        final String... params)
    {
        for (final BenchRow row : rows)
        {
            if (!row.benchmark.endsWith("." + classAndMethod) || (null != impl && !impl.equals(row.implementation)))
            {
                continue;
            }
            boolean match = true;
            for (int i = 0; i + 1 < params.length; i += 2)
            {
                match &= params[i + 1].equals(row.params.get(params[i]));
            }
            if (match)
            {
                return row;
            }
        }
        return null;
    }

    static double value(final BenchRow row)
    {
        return Double.isNaN(row.median) ? row.score : row.median;
    }

    /** {@link #value} of a row that may not have run: NaN then (a floor row prints no target). */
    static double valueOrNaN(final BenchRow row)
    {
        return null == row ? Double.NaN : value(row);
    }

    static String fmt(final double v)
    {
        return Report.fmt(v);
    }

    /**
     * A floor measured in the same run: not a goal, the context of one. Says how the goal's target and pasidkit's
     * figure compare with it.
     */
    private static void floor(final StringBuilder md, final String issue, final String what, final BenchRow floor,
        final double targetNs, final BenchRow mine)
    {
        final String goal = "floor (context): " + what;
        if (null == floor)
        {
            md.append("| ").append(issue).append(" | ").append(goal).append(" | not measured | context |\n");
            return;
        }
        final double f = value(floor);
        final StringBuilder measured = new StringBuilder(String.format(Locale.ROOT, "%s ns (mean %s ± %s)", fmt(f),
            fmt(floor.score), fmt(floor.scoreError)));
        if (!Double.isNaN(targetNs))
        {
            measured.append(String.format(Locale.ROOT, "; the goal needs <= %s ns = %.2fx the floor", fmt(targetNs),
                targetNs / f));
        }
        if (null != mine)
        {
            measured.append(String.format(Locale.ROOT, "; pasidkit %s ns = %.2fx the floor", fmt(value(mine)),
                value(mine) / f));
        }
        md.append("| ").append(issue).append(" | ").append(goal).append(" | ").append(measured)
            .append(" | context |\n");
    }

    static void line(final StringBuilder md, final String issue, final String goal, final String measured,
        final boolean met)
    {
        md.append("| ").append(issue).append(" | ").append(goal).append(" | ").append(measured).append(" | ")
            .append(met ? "met" : "**missed**").append(" |\n");
    }
}
