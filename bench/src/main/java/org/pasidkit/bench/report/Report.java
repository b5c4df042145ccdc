package org.pasidkit.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.jfree.chart.ChartFactory;
import org.pasidkit.allocator.AsymmetricFence;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Renders {@code REPORT.md}: the machine, then one table per workload with pasidkit and every baseline side by side
 * (score ± error, B/op, per thread count) and pasidkit's ratio to the best baseline; the goals of the issues with
 * met / missed and by how much; and PNG charts (score against threads; latency percentiles).
 */
final class Report
{
    private final List<BenchRow> rows;
    private final Path out;
    private final String runKind;
    private final String source;
    private int charts;

    Report(final List<BenchRow> rows, final Path out, final String runKind, final String source)
    {
        this.rows = rows;
        this.out = out;
        this.runKind = runKind;
        this.source = source;
    }

    int charts()
    {
        return charts;
    }

    void write() throws IOException
    {
        final StringBuilder md = new StringBuilder();
        md.append("# pasidkit benchmark report\n\n");
        md.append("Produced by `./pasidkit bench").append("quick".equals(runKind) ? " --quick" : "")
            .append("` on ").append(LocalDateTime.now().withNano(0)).append(" from `").append(source).append("`.\n\n");
        md.append("Machine: ").append(machine()).append("\n\n");
        md.append(fence());
        md.append(hostState());
        md.append("Every benchmark ran with `-prof gc` (B/op is `gc.alloc.rate.norm`) and `-foe true`, forked with ")
            .append("`-Xms512m -Xmx512m -XX:+AlwaysPreTouch`, Agrona bounds checks off. Scores are JMH means with their ")
            .append("99.9% error, then the median of the measurement iterations; this 2-core machine is noisy, so ")
            .append("compare within one run. The goals table compares medians.\n\n");
        md.append(Goals.render(rows));
        final Map<String, Map<String, List<BenchRow>>> bySubject = new LinkedHashMap<>();
        for (final BenchRow row : rows)
        {
            bySubject.computeIfAbsent(row.subject, (k) -> new LinkedHashMap<>())
                .computeIfAbsent(row.workload, (k) -> new ArrayList<>()).add(row);
        }
        for (final Map.Entry<String, Map<String, List<BenchRow>>> subject : bySubject.entrySet())
        {
            md.append("## ").append(subject.getKey()).append("\n\n");
            for (final Map.Entry<String, List<BenchRow>> workload : subject.getValue().entrySet())
            {
                table(md, workload.getKey(), workload.getValue());
            }
            chart(subject.getKey(), subject.getValue(), md);
        }
        md.append(hostStatePerRow());
        Files.writeString(out.resolve("REPORT.md"), md.toString(), StandardCharsets.UTF_8);
    }

    /** A row's probe mean at or above this multiple of the run's lowest counts as measured in the slow state. */
    static final double SLOW_STATE_FACTOR = 1.15;
    /** The secondary result of {@code HostProbeProfiler} a row's probe mean is read from. */
    static final String HOST_PROBE = "host.probe";

    /** Whether a probe mean counts as the slow state, against the run's fastest ({@link #fastestProbe}). */
    private static boolean slow(final double probe, final double fastest)
    {
        return probe >= SLOW_STATE_FACTOR * fastest;
    }

    /** The lowest {@code host.probe} mean of the run's rows, or NaN if none carries one. */
    static double fastestProbe(final List<BenchRow> rows)
    {
        double fastest = Double.NaN;
        for (final BenchRow row : rows)
        {
            final Double probe = row.secondary.get(HOST_PROBE);
            if (null != probe && !(probe >= fastest))
            {
                fastest = probe;
            }
        }
        return fastest;
    }

    /**
     * The host probe ({@code HostProbeProfiler}): the range of its means over the run's rows and how many rows ran in
     * the slow state (probe mean at least {@link #SLOW_STATE_FACTOR} times the run's lowest).
     */
    private String hostState()
    {
        final double fastest = fastestProbe(rows);
        if (Double.isNaN(fastest))
        {
            return "Host state: the results carry no host probe (run without HostProbeProfiler).\n\n";
        }
        double slowest = fastest;
        int probed = 0;
        int slow = 0;
        for (final BenchRow row : rows)
        {
            final Double probe = row.secondary.get(HOST_PROBE);
            if (null != probe)
            {
                probed++;
                slowest = Math.max(slowest, probe);
                slow += slow(probe, fastest) ? 1 : 0;
            }
        }
        return String.format(Locale.ROOT, "Host state: a fixed probe loop (12 L1-resident loads, adds and stores a step, " +
            "`HostProbe`), run by each benchmark thread after every measured iteration, took %s to %s ns per step " +
            "(means over the %d rows that record it); %d rows ran at %.2fx the fastest or more: this VM's slow state " +
            "(at times one vCPU, or both, runs slower for tens of seconds or more, with no steal time; a thread stays on " +
            "the vCPU it started on, so a fork's figure depends on where it landed; pasidkit's pair slows more than " +
            "sbitmap's: bench/RESULTS.md). A ratio between two rows measured in different states compares the host as " +
            "much as the code: the goals below print each compared row's probe, the last table every row's.\n\n",
            fmt(fastest), fmt(slowest), probed, slow, SLOW_STATE_FACTOR);
    }

    /** Every row's host probe: mean over its measured iterations (all forks), and the fastest and slowest of them. */
    private String hostStatePerRow()
    {
        final double fastest = fastestProbe(rows);
        if (Double.isNaN(fastest))
        {
            return "";
        }
        final StringBuilder md = new StringBuilder("## Host state per row\n\n")
            .append("The probe of `HostProbeProfiler` (ns per step; lower is a faster host) after each measured ")
            .append("iteration: mean, fastest and slowest iteration of the row's forks; 'slow' marks a mean at ")
            .append(String.format(Locale.ROOT, "%.2fx the run's fastest row (%s ns) or more. Beside it, the second ",
                SLOW_STATE_FACTOR, fmt(fastest)))
            .append("probe's ns per uncontended CAS (the same in both states) and the mean CPU number the threads ran ")
            .append("on (on 2 CPUs, the share of thread iterations on CPU 1).\n\n")
            .append("| benchmark | threads | params | probe mean | fastest | slowest | state | ns per CAS | mean CPU |\n")
            .append("|---|---:|---|---:|---:|---:|---|---:|---:|\n");
        for (final BenchRow row : rows)
        {
            final Double probe = row.secondary.get(HOST_PROBE);
            if (null == probe)
            {
                continue;
            }
            md.append("| ").append(row.benchmark).append(" | ").append(row.threads).append(" | ")
                .append(row.params.isEmpty() ? "" : row.params.toString()).append(" | ").append(fmt(probe)).append(" | ")
                .append(fmt(row.secondary.getOrDefault("host.probe.min", Double.NaN))).append(" | ")
                .append(fmt(row.secondary.getOrDefault("host.probe.max", Double.NaN))).append(" | ")
                .append(slow(probe, fastest) ? "slow" : "").append(" | ")
                .append(fmt(row.secondary.getOrDefault("host.probe.cas", Double.NaN))).append(" | ")
                .append(fmt(row.secondary.getOrDefault("host.cpu", Double.NaN))).append(" |\n");
        }
        return md.append('\n').toString();
    }

    private static void table(final StringBuilder md, final String workload, final List<BenchRow> rows)
    {
        final TreeSet<Integer> threads = new TreeSet<>();
        final Map<String, Map<Integer, BenchRow>> byImpl = new LinkedHashMap<>();
        for (final BenchRow row : rows)
        {
            threads.add(row.threads);
            byImpl.computeIfAbsent(row.implementation, (k) -> new TreeMap<>()).put(row.threads, row);
        }
        final BenchRow any = rows.get(0);
        md.append("### ").append(workload).append(" (").append(any.unit).append(any.lowerIsBetter() ?
            ", lower is better" : ", higher is better").append(")\n\n");
        md.append("| implementation |");
        for (final int t : threads)
        {
            md.append(' ').append(t).append(t == 1 ? " thread | B/op |" : " threads | B/op |");
        }
        md.append("\n|---|");
        for (int i = 0; i < threads.size(); i++)
        {
            md.append("---:|---:|");
        }
        md.append('\n');
        for (final Map.Entry<String, Map<Integer, BenchRow>> impl : byImpl.entrySet())
        {
            md.append("| ").append(impl.getKey().equals("pasidkit") ? "**pasidkit**" : impl.getKey()).append(" |");
            for (final int t : threads)
            {
                final BenchRow row = impl.getValue().get(t);
                if (null == row)
                {
                    md.append(" – | – |");
                    continue;
                }
                md.append(' ').append(fmt(row.score)).append(" ± ").append(fmt(row.scoreError));
                if (!Double.isNaN(row.median) && !"sample".equals(row.mode))
                {
                    md.append(" (median ").append(fmt(row.median)).append(')');
                }
                md.append(" | ")
                    .append(Double.isNaN(row.allocBytesPerOp) ? "–" : fmt(row.allocBytesPerOp)).append(" |");
            }
            md.append('\n');
        }
        if (byImpl.containsKey("pasidkit") && byImpl.size() > 1)
        {
            md.append("| *pasidkit vs best baseline* |");
            for (final int t : threads)
            {
                final BenchRow mine = byImpl.get("pasidkit").get(t);
                BenchRow best = null;
                for (final Map.Entry<String, Map<Integer, BenchRow>> impl : byImpl.entrySet())
                {
                    final BenchRow other = impl.getValue().get(t);
                    if (impl.getKey().equals("pasidkit") || impl.getKey().startsWith("pasidkit") || null == other)
                    {
                        continue;
                    }
                    if (null == best || (other.lowerIsBetter() ? other.score < best.score : other.score > best.score))
                    {
                        best = other;
                    }
                }
                if (null == mine || null == best)
                {
                    md.append(" – | |");
                }
                else
                {
                    final double speedup = mine.lowerIsBetter() ? best.score / mine.score : mine.score / best.score;
                    md.append(String.format(Locale.ROOT, " %.2fx (%s) | |", speedup, best.implementation));
                }
            }
            md.append('\n');
        }
        for (final BenchRow row : rows)
        {
            if (!row.percentiles.isEmpty())
            {
                md.append("\n").append(row.implementation).append(" @ ").append(row.threads).append(" threads: ");
                row.percentiles.forEach((k, v) -> md.append(k).append(' ').append(fmt(v)).append(' ')
                    .append(row.unit).append("; "));
            }
            // NOTE: the fence.* metrics of HeavyBarrierProfiler are in the report's Fence section, the host.* of
            // HostProbeProfiler in its host state table, not repeated here.
            if (row.secondary.keySet().stream().anyMatch((k) -> !k.startsWith("fence.") && !k.startsWith("host.")))
            {
                md.append("\n").append(row.implementation).append(" @ ").append(row.threads).append(" threads, counters: ");
                row.secondary.forEach((k, v) ->
                {
                    if (!k.startsWith("fence.") && !k.startsWith("host."))
                    {
                        md.append(k).append(' ').append(fmt(v)).append("; ");
                    }
                });
            }
        }
        md.append("\n\n");
    }

    private void chart(final String subject, final Map<String, List<BenchRow>> workloads, final StringBuilder md)
        throws IOException
    {
        System.setProperty("java.awt.headless", "true");
        for (final Map.Entry<String, List<BenchRow>> workload : workloads.entrySet())
        {
            final List<BenchRow> rows = workload.getValue();
            final TreeSet<Integer> threads = new TreeSet<>();
            rows.forEach((r) -> threads.add(r.threads));
            final boolean sample = rows.stream().anyMatch((r) -> !r.percentiles.isEmpty());
            final String file = (subject + "-" + workload.getKey()).replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(
                Locale.ROOT) + ".png";
            if (sample)
            {
                final DefaultCategoryDataset data = new DefaultCategoryDataset();
                for (final BenchRow r : rows)
                {
                    r.percentiles.forEach((k, v) -> data.addValue(v, r.implementation + " x" + r.threads, k));
                }
                final JFreeChart chart = ChartFactory.createLineChart(workload.getKey() + ": latency percentiles",
                    "percentile", rows.get(0).unit, data, PlotOrientation.VERTICAL, true, false, false);
                ChartUtils.saveChartAsPNG(out.resolve(file).toFile(), chart, 900, 500);
            }
            else if (threads.size() > 1)
            {
                final XYSeriesCollection data = new XYSeriesCollection();
                final Map<String, XYSeries> series = new LinkedHashMap<>();
                // NOTE: time per op per thread becomes throughput of all threads: threads / (ns/op) = ops per ns.
                final boolean perOpTime = "ns/op".equals(rows.get(0).unit);
                for (final BenchRow r : rows)
                {
                    final double v = Double.isNaN(r.median) ? r.score : r.median;
                    series.computeIfAbsent(r.implementation, (k) -> new XYSeries(k)).add(r.threads,
                        perOpTime ? r.threads * 1e3 / v : v);
                }
                series.values().forEach(data::addSeries);
                final JFreeChart chart = ChartFactory.createXYLineChart(workload.getKey() + ": throughput against " +
                    "threads", "threads", perOpTime ? "M ops/s, all threads (medians)" : rows.get(0).unit, data,
                    PlotOrientation.VERTICAL, true, false, false);
                chart.getXYPlot().setRenderer(new XYLineAndShapeRenderer(true, true));
                chart.getXYPlot().getDomainAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits());
                ChartUtils.saveChartAsPNG(out.resolve(file).toFile(), chart, 900, 500);
            }
            else
            {
                continue;
            }
            charts++;
            md.append("![").append(workload.getKey()).append("](").append(file).append(")\n\n");
        }
    }

    static String fmt(final double v)
    {
        if (Double.isNaN(v))
        {
            return "NaN";
        }
        final double a = Math.abs(v);
        if (a >= 1e6)
        {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 100)
        {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1)
        {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /**
     * The fence mode (the report's JVM, and the forks' as the {@code fence.membarrier} metric shows it) and the heavy
     * barriers the measured iterations paid ({@code HeavyBarrierProfiler}), per second and per million operations. The
     * profiler counts calls of {@code AsymmetricFence.heavy()}: a membarrier in a membarrier fork, a full fence in a
     * fenced one, and the text says which the count holds.
     */
    String fence()
    {
        final StringBuilder md = new StringBuilder();
        md.append("Fence: ").append(AsymmetricFence.description()).append(" (this JVM)");
        int membarrier = 0;
        int fenced = 0;
        double total = 0;
        final List<BenchRow> paying = new ArrayList<>();
        for (final BenchRow row : rows)
        {
            final Double mode = row.secondary.get("fence.membarrier");
            if (null != mode)
            {
                if (mode >= 0.5)
                {
                    membarrier++;
                }
                else
                {
                    fenced++;
                }
            }
            final Double heavy = row.secondary.get("fence.heavy");
            if (null != heavy)
            {
                total += heavy;
                if (heavy > 0)
                {
                    paying.add(row);
                }
            }
        }
        if (0 == membarrier + fenced)
        {
            md.append("; the results carry no fence metrics (run without HeavyBarrierProfiler).\n\n");
            return md.toString();
        }
        // NOTE: heavy() is a membarrier only in the membarrier mode; in a fenced fork the count is of full fences.
        final String counted = 0 == fenced ? "membarrier calls" : 0 == membarrier ?
            "full fences: the fenced forks' heavy side, no membarrier" : "membarrier calls in the membarrier forks, " +
            "full fences in the fenced ones";
        md.append("; benchmark forks: membarrier in ").append(membarrier).append(", fenced in ").append(fenced)
            .append(" of ").append(membarrier + fenced).append(" results. Heavy barriers paid in the measured iterations ")
            .append("of the whole run: ").append(String.format(Locale.ROOT, "%.0f", total)).append(" (")
            .append(counted).append(").\n\n");
        if (!paying.isEmpty())
        {
            md.append("| benchmark | threads | params | heavy barriers | per second | per million ops |\n")
                .append("|---|---:|---|---:|---:|---:|\n");
            for (final BenchRow row : paying)
            {
                md.append("| ").append(row.benchmark).append(" | ").append(row.threads).append(" | ")
                    .append(row.params.isEmpty() ? "" : row.params.toString()).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f", row.secondary.get("fence.heavy"))).append(" | ")
                    .append(fmt(row.secondary.getOrDefault("fence.heavy.per.s", Double.NaN))).append(" | ")
                    .append(fmt(row.secondary.getOrDefault("fence.heavy.per.Mop", Double.NaN))).append(" |\n");
            }
            md.append('\n');
        }
        return md.toString();
    }

    private static String machine()
    {
        String cpu = "unknown CPU";
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            {
                if (line.startsWith("model name"))
                {
                    cpu = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        }
        catch (final IOException ignore)
        {
            // not Linux
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), " +
            System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java " +
            System.getProperty("java.vm.version") + " (" + System.getProperty("java.vm.name") + ")";
    }
}
