package org.pasidkit.bench.report;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
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
import picocli.CommandLine.Command;
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
    /** The suite, in report order. */
    static final String[] SUITE = {
        "org.pasidkit.allocator.PasidAllocatorAllocFreeBenchmark",
        "org.pasidkit.allocator.EpochDomainEnterExitBenchmark",
        "org.pasidkit.allocator.EpochReclaimQueueRetireBenchmark",
        "org.pasidkit.allocator.GraceLatencyBenchmark",
        "org.pasidkit.allocator.PasidAllocatorLatencyBenchmark",
        "org.pasidkit.tables.PasidSpaceLookupBenchmark",
        "org.pasidkit.tables.PasidSpaceBindBenchmark",
        "org.pasidkit.tables.PasidSpaceFaultBenchmark",
        "org.pasidkit.tables.AtcInvalidatorFanoutBenchmark"};

    @Option(names = "--quick", description = "A run of at most about 15 minutes: 1 fork (2 for multi-threaded), " +
        "short iterations. Default: the forks and iterations each benchmark declares.")
    boolean quick;

    @Option(names = "--include", description = "Only benchmarks matching this regex (JMH include).")
    String include;

    @Option(names = "--out", defaultValue = "bench/results", description = "Output folder (default bench/results).")
    File out;

    @Option(names = "--report-only", description = "Rebuild summary.json, REPORT.md and charts from --from (a JMH JSON).")
    boolean reportOnly;

    @Option(names = "--from", description = "JMH JSON results to report on (with --report-only).")
    File from;

    @Override
    public Integer call() throws Exception
    {
        Files.createDirectories(out.toPath());
        final List<BenchRow> rows;
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        final Path json = out.toPath().resolve("jmh-" + stamp + ".json");
        if (reportOnly)
        {
            rows = JmhJson.read(from.toPath());
        }
        else
        {
            final ChainedOptionsBuilder options = new OptionsBuilder()
                .addProfiler("gc")
                .shouldFailOnError(true)
                .result(json.toString())
                .resultFormat(ResultFormatType.JSON);
            if (null != include)
            {
                options.include(include);
            }
            else
            {
                for (final String benchmark : SUITE)
                {
                    options.include(benchmark.replace(".", "\\.") + "\\.");
                }
            }
            if (quick)
            {
                options.forks(1).warmupIterations(2).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(3).measurementTime(TimeValue.seconds(1));
            }
            final long startNs = System.nanoTime();
            final Collection<RunResult> results = new Runner(options.build()).run();
            System.out.printf("JMH finished in %d s; raw results in %s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs), json);
            rows = fromRunResults(results);
        }
        Files.writeString(out.toPath().resolve("summary.json"), summaryJson(rows), StandardCharsets.UTF_8);
        final Report report = new Report(rows, out.toPath(), quick ? "quick" : (reportOnly ? "report-only" : "full"),
            reportOnly ? from.getName() : json.getFileName().toString());
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
