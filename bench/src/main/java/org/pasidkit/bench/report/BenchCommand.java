package org.pasidkit.bench.report;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;
import org.pasidkit.allocator.AsymmetricFence;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./pasidkit bench}: runs the JMH suite with {@code -prof gc} and {@code -foe true}, writes the JMH JSON under
 * {@code bench/results/}, a flat {@code summary.json}, {@code REPORT.md} (tables per workload, ratios to the best
 * baseline, goals met or missed) and PNG charts.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Run the JMH suite against the baselines and write bench/results/ (JSON, summary, REPORT.md, charts).")
public final class BenchCommand implements Callable<Integer>
{
    @Mixin
    org.pasidkit.bench.CliErrors.Verbose verbose;

    /**
     * One JMH run of the suite: a benchmark-name regex, parameter restrictions, forks in {@code --quick} mode (more for
     * multi-threaded figures, which swing between forks here; 0: the entry runs in the full suite only), and extra
     * profilers.
     */
    record Entry(String regex, Map<String, String[]> params, int quickForks, int quickWarmups, List<String> profilers)
    {
        static Entry of(final String regex, final int quickForks)
        {
            return new Entry(regex, Map.of(), quickForks, 1, List.of());
        }

        Entry with(final String param, final String... values)
        {
            final Map<String, String[]> merged = new LinkedHashMap<>(params);
            merged.put(param, values);
            return new Entry(regex, merged, quickForks, quickWarmups, profilers);
        }

        /** Warm-up iterations (1 s each) in {@code --quick} mode: 1 unless a benchmark is still speeding up after. */
        Entry warmups(final int iterations)
        {
            return new Entry(regex, params, quickForks, iterations, profilers);
        }

        Entry profiler(final String className)
        {
            final List<String> merged = new ArrayList<>(profilers);
            merged.add(className);
            return new Entry(regex, params, quickForks, quickWarmups, merged);
        }
    }

    /** The suite, in report order: what the issues' goals need, with every baseline those goals compare against. */
    static final List<Entry> SUITE = List.of(
        // NOTE: 3 warm-ups where one left the score still falling (pairT1) or rising (end to end) over the measured
        // iterations in a quick run.
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.pairT1$", 1).warmups(3),
        // NOTE (time): 2-thread figures swing between forks, so 3 forks for pasidkit and the baselines that were best
        // in earlier runs; 1 for the baselines far behind (their rows show the order of magnitude). Together the two
        // entries of each pair are every impl once, also in the full suite.
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.pairT2$", 3).with("impl", "pasidkit",
            "pasidkit-grace", "atomic-bitmap", "sbitmap"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.pairT2$", 1).with("impl",
            "pasidkit-grace-reader", "locked-bitset", "mpmc-queue", "clq", "tl-magazine"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.cross$", 3).with("impl", "pasidkit",
            "pasidkit-grace", "atomic-bitmap"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.cross$", 1).with("impl",
            "locked-bitset", "mpmc-queue", "clq", "sbitmap", "tl-magazine"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.cross$", 0).with("impl",
            "pasidkit-grace-reader"),
        // #12: the grace build at 4 threads on 2 cores (two threads without a stripe), beside the immediate build and
        // the best baselines of the 1- and 2-thread pairs.
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.pairT4$", 1).with("impl", "pasidkit",
            "pasidkit-grace", "atomic-bitmap", "sbitmap"),
        Entry.of("org\\.pasidkit\\.allocator\\.AllocFreeFloorBenchmark\\.(casPairT1|storeCasPairT1|protocolPairT1|graceProtocolPairT1)$", 1),
        Entry.of("org\\.pasidkit\\.allocator\\.AllocFreeFloorBenchmark\\.(casPairT2|storeCasPairT2|protocolPairT2|graceProtocolPairT2|crossRingOnly)$", 2),
        // NOTE: 0% held is the pairT1 workload, measured above with every implementation: the quick suite leaves it
        // and 99% out, as it leaves out 4 threads and the window workload, to stay within 15 minutes.
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorHeldSetBenchmark\\.", 1)
            .with("heldPercent", "50", "99.99"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorHeldSetBenchmark\\.", 0).with("heldPercent", "0", "99"),
        // NOTE: pairT4 of the other impls and the window workload run in the full suite only.
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.(windowT1|windowT2|windowT4)$", 0),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorAllocFreeBenchmark\\.pairT4$", 0).with("impl",
            "pasidkit-grace-reader", "locked-bitset", "mpmc-queue", "clq", "tl-magazine"),
        // #12: 2 threads churning on 512 ids, most allocations answering "no id"; 2 forks (2-thread figures swing).
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorExhaustionChurnBenchmark\\.churn$", 2)
            .with("impl", "pasidkit", "pasidkit-grace", "sbitmap")
            .profiler("org.pasidkit.allocator.PasidAllocatorExhaustionChurnBenchmark$Percentiles"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorExhaustionChurnBenchmark\\.churn$", 1)
            .with("impl", "locked-bitset", "mpmc-queue", "clq", "atomic-bitmap", "tl-magazine")
            .profiler("org.pasidkit.allocator.PasidAllocatorExhaustionChurnBenchmark$Percentiles"),
        // #12: "no id" on a full 512-id range, one thread (the churn's failing allocations without contention).
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorNoIdBenchmark\\.", 1).with("impl", "pasidkit",
            "pasidkit-grace", "sbitmap", "atomic-bitmap"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorNoIdBenchmark\\.", 0).with("impl", "locked-bitset"),
        // NOTE (time): #7's goal reads pasidkit's tail; sbitmap beside it, the other baselines in the full suite.
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorFullRangeBenchmark\\.", 1).with("impl", "pasidkit", "sbitmap"),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorFullRangeBenchmark\\.", 0).with("impl", "atomic-bitmap",
            "locked-bitset"),
        // #13: the asymmetric pin (<= 2 ns), its floors, and the latency of one epoch advance with and without the heavy
        // barrier.
        Entry.of("org\\.pasidkit\\.allocator\\.EpochDomainEnterExitBenchmark\\.(enterExit|pinStoreFloor|pinStoreLightFloor|" +
            "advanceWithIdleReader|advanceNoReader)$", 1),
        Entry.of("org\\.pasidkit\\.allocator\\.EpochDomainEnterExitBenchmark\\.(enterExit2Threads|underReclaimScan)$", 2),
        // NOTE (time): the quick suite measures what #3's goals read; the 2-thread and held variants in the full suite.
        Entry.of("org\\.pasidkit\\.allocator\\.EpochReclaimQueueRetireBenchmark\\.(allocateFree|retireReclaimBatch|" +
            "retireReclaimBatchBagged)$", 1),
        Entry.of("org\\.pasidkit\\.allocator\\.EpochReclaimQueueRetireBenchmark\\.(allocateFree2Threads|" +
            "retireHeldReleaseBatch)$", 0),
        Entry.of("org\\.pasidkit\\.allocator\\.PasidAllocatorGraceLatencyBenchmark\\.", 1)
            .profiler("org.pasidkit.allocator.PasidAllocatorGraceLatencyBenchmark$Percentiles"),
        // NOTE (time): #4's goal compares pasidkit with the three maps; the by-handle lookup and the Object[] floor run
        // in the full suite (and in the dedicated lookup runs of bench/RESULTS.md).
        Entry.of("org\\.pasidkit\\.tables\\.PasidSpaceLookupBenchmark\\.lookup$", 1).with("impl", "pasidkit",
            "ConcurrentHashMap", "ConcurrentHashMapPreboxed", "NonBlockingHashMapLong"),
        Entry.of("org\\.pasidkit\\.tables\\.PasidSpaceLookupBenchmark\\.lookup$", 0).with("impl", "pasidkitByHandle",
            "ObjectArray"),
        // #13: the driver-data lookup inside an epoch critical section (<= 5 ns), against the bare lookup.
        Entry.of("org\\.pasidkit\\.tables\\.PasidSpaceEpochLookupBenchmark\\.", 1),
        Entry.of("org\\.pasidkit\\.tables\\.PasidSpaceBindBenchmark\\.", 1),
        Entry.of("org\\.pasidkit\\.tables\\.PasidSpaceFaultBenchmark\\.", 1),
        Entry.of("org\\.pasidkit\\.tables\\.AtcInvalidatorFanoutBenchmark\\.emit$", 1)
            .with("batch", "64").with("devices", "1", "4", "16").with("privatePasids", "0", "3"),
        Entry.of("org\\.pasidkit\\.tables\\.AtcInvalidatorFanoutBenchmark\\.(endToEnd|pipelined)$", 1).warmups(3)
            .with("batch", "64").with("devices", "1", "4", "16").with("privatePasids", "0", "3"),
        Entry.of("org\\.pasidkit\\.tables\\.AtcInvalidatorFanoutBenchmark\\.(emit|pipelined)$", 1)
            .with("batch", "1").with("devices", "16").with("privatePasids", "3"),
        // The architecture models (VT-d, SMMUv3, AMD-Vi), 16 devices x 4 PASIDs, single thread.
        Entry.of("org\\.pasidkit\\.tables\\.IommuModelFanoutBenchmark\\.endToEnd$", 1));

    @Option(names = "--quick", description = "A run of at most about 15 minutes: 1 fork (3 for multi-threaded), " +
        "short iterations. Default: the forks and iterations each benchmark declares.")
    boolean quick;

    @Option(names = "--include", description = "Only benchmarks matching this regex (JMH include).")
    String include;

    @Option(names = "--out", defaultValue = "bench/results", description = "Output folder (default bench/results).")
    File out;

    @Option(names = "--report-only", description = "Rebuild summary.json, REPORT.md and charts from --from (a JMH JSON).")
    boolean reportOnly;

    @Option(names = "--from", description = "JMH JSON results to report on (with --report-only): a file, or a folder " +
        "holding the jmh-<stamp>-<n>.json parts of one suite run.")
    File from;

    @Override
    public Integer call() throws Exception
    {
        if (reportOnly && null == from)
        {
            throw new IllegalArgumentException("--report-only needs --from FILE|DIR (the JMH JSON to report on)");
        }
        if (!reportOnly && null != from)
        {
            throw new IllegalArgumentException("--from " + from + " is only read with --report-only");
        }
        if (null != from && !from.exists())
        {
            throw new IllegalArgumentException("--from " + from + ": no such file or folder");
        }
        if (null != include)
        {
            try
            {
                java.util.regex.Pattern.compile(include);
            }
            catch (final java.util.regex.PatternSyntaxException e)
            {
                throw new IllegalArgumentException("--include '" + include + "' must be a regular expression (" +
                    e.getDescription() + " at index " + e.getIndex() + ")");
            }
        }
        Files.createDirectories(out.toPath());
        final List<BenchRow> rows;
        String source = null;
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        if (reportOnly)
        {
            rows = new ArrayList<>();
            if (from.isDirectory())
            {
                // the parts of one suite run (jmh-<stamp>-<n>.json), in suite order
                final List<Path> parts = new ArrayList<>();
                try (var files = Files.list(from.toPath()))
                {
                    files.filter((f) -> f.getFileName().toString().matches("jmh-.*-\\d+\\.json")).forEach(parts::add);
                }
                parts.sort(java.util.Comparator.comparingInt((Path f) -> Integer.parseInt(
                    f.getFileName().toString().replaceAll(".*-(\\d+)\\.json", "$1"))));
                final java.util.Set<String> stamps = new java.util.TreeSet<>();
                parts.forEach((f) -> stamps.add(f.getFileName().toString().replaceAll("-\\d+\\.json$", "")));
                if (stamps.size() != 1)
                {
                    throw new IllegalArgumentException(from + " holds the parts of " + stamps.size() + " suite runs " +
                        stamps + ": the report must come from exactly one (move the others away)");
                }
                source = stamps.iterator().next() + "-*.json";
                for (final Path part : parts)
                {
                    rows.addAll(JmhJson.read(part));
                }
            }
            else
            {
                rows.addAll(JmhJson.read(from.toPath()));
            }
        }
        else
        {
            final long startNs = System.nanoTime();
            rows = new ArrayList<>();
            final List<Entry> entries = new ArrayList<>();
            for (final Entry entry : null == include ? SUITE : List.of(Entry.of(include, 1)))
            {
                if (!quick || entry.quickForks() > 0)
                {
                    entries.add(entry);
                }
            }
            for (int i = 0; i < entries.size(); i++)
            {
                final Entry entry = entries.get(i);
                final Path part = out.toPath().resolve("jmh-" + stamp + "-" + (i + 1) + ".json");
                final ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(entry.regex())
                    .addProfiler("gc")
                    .addProfiler(org.pasidkit.bench.HeavyBarrierProfiler.class)
                    .addProfiler(org.pasidkit.bench.HostProbeProfiler.class)
                    .shouldFailOnError(true)
                    .result(part.toString())
                    .resultFormat(ResultFormatType.JSON);
                for (final Map.Entry<String, String[]> p : entry.params().entrySet())
                {
                    options.param(p.getKey(), p.getValue());
                }
                // NOTE: the forks choose their fence mode themselves; -Dpasidkit.fence given to the launcher is passed
                // on (prepended: the benchmarks' own jvmArgsAppend stay).
                final String fence = System.getProperty(AsymmetricFence.PROPERTY);
                if (null != fence)
                {
                    options.jvmArgsPrepend("-D" + AsymmetricFence.PROPERTY + "=" + fence);
                }
                for (final String profiler : entry.profilers())
                {
                    options.addProfiler(profiler);
                }
                if (quick)
                {
                    options.forks(entry.quickForks()).warmupIterations(entry.quickWarmups()).warmupTime(TimeValue.seconds(1))
                        .measurementIterations(3).measurementTime(TimeValue.seconds(1));
                }
                System.out.printf("[bench] %d/%d %s (%d s so far)%n", i + 1, entries.size(), entry.regex(),
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs));
                final Collection<RunResult> results = new Runner(options.build()).run();
                rows.addAll(fromRunResults(results));
            }
            System.out.printf("JMH finished in %d s; raw results in %s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs), out.toPath().resolve("jmh-" + stamp + "-*.json"));
        }
        Files.writeString(out.toPath().resolve("summary.json"), summaryJson(rows), StandardCharsets.UTF_8);
        final Report report = new Report(rows, out.toPath(), quick ? "quick" : (reportOnly ? "report-only" : "full"),
            reportOnly ? (null == source ? from.getName() : source) : "jmh-" + stamp + "-*.json");
        report.write();
        System.out.println("wrote " + out.toPath().resolve("summary.json") + ", " + out.toPath().resolve("REPORT.md") +
            " and " + report.charts() + " chart(s)");
        return 0;
    }

    static String summaryJson(final List<BenchRow> rows)
    {
        final StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++)
        {
            sb.append("  ").append(rows.get(i).json()).append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        return sb.append("]\n").toString();
    }

    static List<BenchRow> fromRunResults(final Collection<RunResult> results)
    {
        final List<BenchRow> rows = new ArrayList<>();
        for (final RunResult run : results)
        {
            final BenchRow row = new BenchRow();
            row.benchmark = run.getParams().getBenchmark();
            row.mode = run.getParams().getMode().shortLabel();
            row.threads = run.getParams().getThreads();
            for (final String key : run.getParams().getParamsKeys())
            {
                row.params.put(key, run.getParams().getParam(key));
            }
            final Result<?> primary = run.getPrimaryResult();
            row.score = primary.getScore();
            row.scoreError = primary.getScoreError();
            row.unit = primary.getScoreUnit();
            final Statistics stats = primary.getStatistics();
            row.median = stats.getN() > 0 ? stats.getPercentile(50) : Double.NaN;
            if ("sample".equals(row.mode))
            {
                for (final double p : new double[]{50, 90, 99, 99.9, 99.99, 100})
                {
                    row.percentiles.put(pct(p), stats.getPercentile(p));
                }
            }
            for (final java.util.Map.Entry<String, Result> e : run.getSecondaryResults().entrySet())
            {
                final String key = e.getKey().replace("\u00b7", "");
                if ("gc.alloc.rate.norm".equals(key))
                {
                    row.allocBytesPerOp = e.getValue().getScore();
                }
                else if (!key.startsWith("gc."))
                {
                    row.secondary.put(key, e.getValue().getScore());
                }
            }
            Classify.classify(row);
            rows.add(row);
        }
        return rows;
    }

    static String pct(final double p)
    {
        return p == Math.rint(p) ? "p" + (int)p : "p" + String.valueOf(p).replace(".", "");
    }
}
