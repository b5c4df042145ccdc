package org.pasidkit.bench.fanout;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeriesCollection;
import org.pasidkit.tables.IommuArch;
import org.pasidkit.tables.IommuCounts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./pasidkit fanout}: replays an address-space trace (the bundled javac trace by default) through the whole
 * PASID life cycle and reports what ATC invalidation fan-out costs.
 */
@Command(name = "fanout", mixinStandardHelpOptions = true,
    description = "Replay a trace (or a synthetic workload) and measure ATC invalidation fan-out.")
public final class FanoutCommand implements Callable<Integer>
{
    @Mixin
    org.pasidkit.bench.CliErrors.Verbose verbose;

    @Option(names = "--trace", defaultValue = "javac",
        description = "Trace: a bundled name (javac, shell) or a CSV file (time_us,mm,event,addr,length). Default javac.")
    String trace;

    @Option(names = "--synthetic", description = "Instead of a trace: a synthetic workload of this many changes.")
    Integer synthetic;

    @Option(names = "--spaces", defaultValue = "1000", description = "Synthetic: address spaces live at once.")
    int spaces;

    @Option(names = "--exit-rate", defaultValue = "0.001", description = "Synthetic: exit probability per change.")
    double exitRate;

    @Option(names = "--max-range", defaultValue = "67108864", description = "Synthetic: largest change, bytes.")
    long maxRange;

    @Option(names = "--seed", defaultValue = "1", description = "Synthetic: random seed.")
    long seed;

    @Option(names = "--devices", defaultValue = "2", description = "Devices (with ATS); every address space binds all.")
    int devices;

    @Option(names = "--private-pasids", defaultValue = "0", description = "Extra private PASIDs per address space.")
    int privatePasids;

    @Option(names = "--batch", defaultValue = "64", description = "Commands per ring batch (then one sync per change).")
    int batch;

    @Option(names = "--flush-all-above", defaultValue = "2097152",
        description = "Changes longer than this many bytes invalidate the whole (device, PASID). Default 2 MiB.")
    long flushAllAbove;

    @Option(names = "--threads", defaultValue = "1", description = "Producer threads (address spaces split by id).")
    int threads;

    @Option(names = "--unbind-delay-us", defaultValue = "1000",
        description = "Trace time between an exit and each driver's unbind.")
    long unbindDelayUs;

    @Option(names = "--iommu", defaultValue = "generic",
        description = "IOMMU model: generic (default), vtd, smmuv3, amd, or all (the three side by side).")
    String iommu;

    @Option(names = "--passes", defaultValue = "0",
        description = "Timed passes of the trace (0, the default: repeat until the time per change is steady, at " +
            "most " + MAX_AUTO_PASSES + " passes or 20 s; the figures are the median pass of the last 5).")
    int passes;

    @Option(names = "--cold", description = "Time one pass only, in a cold JVM (labelled as such).")
    boolean cold;

    @Option(names = "--json", description = "Print one JSON object on stdout (no progress bar).")
    boolean json;

    @Option(names = "--counters", description = "Publish live counters of the replay into a file in this " +
        "directory (read them with ./pasidkit stat --dir DIR); created if missing.")
    java.nio.file.Path countersDir;

    @Option(names = "--plot", description = "Also replay with 0..8 private PASIDs and chart the cost into this PNG.")
    File plot;

    static final int MAX_AUTO_PASSES = 40;
    private static final long AUTO_BUDGET_NS = TimeUnit.SECONDS.toNanos(20);
    /** Steady: the median ns/change of the last WINDOW passes within this fraction of the WINDOW before. */
    private static final double STEADY_DRIFT = 0.10;
    private static final int WINDOW = 5;

    @Override
    public Integer call() throws Exception
    {
        final List<IommuArch> archs = IommuArch.parse(iommu);
        if (passes < 0 || passes > 1000)
        {
            throw new IllegalArgumentException("--passes " + passes + " must be in [0, 1000] (0: until steady)");
        }
        if (null != plot && null != plot.getAbsoluteFile().getParentFile() &&
            !plot.getAbsoluteFile().getParentFile().isDirectory())
        {
            throw new IllegalArgumentException("--plot " + plot + ": folder " + plot.getAbsoluteFile().getParent() +
                " does not exist");
        }
        final Trace input = load();
        final FanoutResult result = timed(input, privatePasids, !json);
        if (!(archs.size() == 1 && IommuArch.GENERIC == archs.get(0)))
        {
            // NOTE: the models run in a replay of their own, so they never weigh on the generic timing above.
            final FanoutResult models = replay(input, privatePasids, false, archs);
            result.byIommu = models.byIommu;
            result.violations += models.violations;
            for (final String v : models.firstViolations)
            {
                if (result.firstViolations.size() < 10)
                {
                    result.firstViolations.add(v);
                }
            }
        }
        if (json)
        {
            System.out.println(result.json());
        }
        else
        {
            System.out.print(result.report());
        }
        long violations = result.violations();
        if (null != plot)
        {
            violations += plot(input);
            if (!result.byIommu.isEmpty())
            {
                plotByType(result);
            }
        }
        return violations == 0 ? 0 : 1;
    }

    private Trace load() throws IOException
    {
        if (null != synthetic)
        {
            return SyntheticWorkload.generate(spaces, synthetic, exitRate, maxRange, seed);
        }
        return TraceReader.read(trace);
    }

    /**
     * Times the generic replay warm: repeats the trace (a fresh replay each pass, same JVM) until the time per change
     * of the last {@link #STEADY_PASSES} passes is within {@link #STEADY_SPREAD} of their median, and reports the last
     * pass; violations of every pass count.
     */
    private FanoutResult timed(final Trace input, final int extraPasids, final boolean progressBar)
        throws InterruptedException
    {
        if (cold)
        {
            final FanoutResult r = replay(input, extraPasids, progressBar, List.of(), countersDir);
            r.timing = "COLD: one pass in a fresh JVM (JIT warm-up included; not a benchmark figure)";
            return r;
        }
        final int max = passes > 0 ? passes : MAX_AUTO_PASSES;
        final List<FanoutResult> results = new ArrayList<>();
        final long startNs = System.nanoTime();
        long violations = 0;
        final List<String> violationsSeen = new ArrayList<>();
        boolean steady = false;
        double drift = Double.NaN;
        for (int pass = 1; pass <= max; pass++)
        {
            // NOTE: --counters publishes the first pass (the one the progress bar shows); later passes time the replay.
            final FanoutResult r = replay(input, extraPasids, progressBar && pass == 1, List.of(),
                1 == pass ? countersDir : null);
            results.add(r);
            violations += r.violations;
            for (final String v : r.firstViolations)
            {
                if (violationsSeen.size() < 5)
                {
                    violationsSeen.add(v);
                }
            }
            if (results.size() >= 2 * WINDOW)
            {
                final double last = medianNsPerChange(results.subList(results.size() - WINDOW, results.size()));
                final double before = medianNsPerChange(results.subList(results.size() - 2 * WINDOW,
                    results.size() - WINDOW));
                drift = Math.abs(last - before) / last;
                steady = drift <= STEADY_DRIFT;
            }
            if (passes == 0 && (steady || System.nanoTime() - startNs > AUTO_BUDGET_NS))
            {
                break;
            }
        }
        final int done = results.size();
        final List<FanoutResult> window = new ArrayList<>(results.subList(Math.max(0, done - WINDOW), done));
        window.sort((x, y) -> Double.compare(x.nsPerChange(), y.nsPerChange()));
        final FanoutResult median = window.get(window.size() / 2);
        median.timedPasses = done;
        median.warm = done > 1;
        median.violations = violations;
        median.firstViolations = violationsSeen;
        if (done < 2 * WINDOW)
        {
            median.timing = String.format(Locale.ROOT, "the median ns/change of the last %d of %d passes " +
                "(--passes %d: too few to say whether it is steady)", window.size(), done, passes);
        }
        else if (steady)
        {
            median.timing = String.format(Locale.ROOT, "WARM: the median ns/change of the last %d of %d passes " +
                "(its median moved %.1f%% from the %d before: steady)", WINDOW, done, 100 * drift, WINDOW);
        }
        else
        {
            median.timing = String.format(Locale.ROOT, "NOT STEADY: the median ns/change of the last %d of %d " +
                "passes moved %.1f%% from the %d before (limit %.0f%%)", WINDOW, done, 100 * drift, WINDOW,
                100 * STEADY_DRIFT);
        }
        return median;
    }

    private static double medianNsPerChange(final List<FanoutResult> results)
    {
        final double[] ns = results.stream().mapToDouble(FanoutResult::nsPerChange).sorted().toArray();
        return ns[ns.length / 2];
    }

    private FanoutResult replay(final Trace input, final int extraPasids, final boolean progressBar,
        final List<IommuArch> archs) throws InterruptedException
    {
        return replay(input, extraPasids, progressBar, archs, null);
    }

    /** One replay; with {@code counters} (a directory) it publishes its live counters there ({@code --counters}). */
    private FanoutResult replay(final Trace input, final int extraPasids, final boolean progressBar,
        final List<IommuArch> archs, final java.nio.file.Path counters) throws InterruptedException
    {
        final FanoutReplay.Config config = new FanoutReplay.Config();
        config.devices = devices;
        config.privatePasids = extraPasids;
        config.batch = batch;
        config.flushAllAboveBytes = flushAllAbove;
        config.threads = threads;
        config.unbindDelayUs = unbindDelayUs;
        config.iommus = archs;
        config.countersDir = counters;
        if (archs.contains(IommuArch.AMD))
        {
            // NOTE: AMD-Vi carries 16-bit PASIDs (INVALIDATE_IOTLB_PAGES, PASMAX): the models' replay allocates below.
            config.maxPasid = 0xFFFF;
        }
        final FanoutReplay replay = new FanoutReplay(input, config);
        if (null != replay.space().counters())
        {
            System.err.println("pasidkit fanout: counters in " + replay.space().counters().path());
        }
        final Thread bar = progressBar ? progressBar(replay, input.size()) : null;
        try
        {
            return replay.run();
        }
        finally
        {
            if (null != bar)
            {
                bar.interrupt();
                bar.join();
            }
        }
    }

    private static Thread progressBar(final FanoutReplay replay, final int total)
    {
        final Thread bar = new Thread(() ->
        {
            final long startNs = System.nanoTime();
            boolean shown = false;
            try
            {
                while (true)
                {
                    Thread.sleep(200); // NOTE: the progress bar's own thread, not the replay
                    if (System.nanoTime() - startNs > 1_000_000_000L)
                    {
                        final long done = Math.min(total, replay.progress());
                        final int width = 40;
                        final int filled = (int)(width * done / Math.max(1, total));
                        System.err.printf("\r[%s%s] %,d / %,d events", "#".repeat(filled), " ".repeat(width - filled),
                            done, total);
                        shown = true;
                    }
                }
            }
            catch (final InterruptedException ignore)
            {
                if (shown)
                {
                    System.err.println();
                }
            }
        }, "progress");
        bar.setDaemon(true);
        bar.start();
        return bar;
    }

    private long plot(final Trace input) throws Exception
    {
        System.setProperty("java.awt.headless", "true");
        final XYSeries commands = new XYSeries("ATC invalidations per change");
        final XYSeries cost = new XYSeries("p50 ns per change (emit + CMD_SYNC wait; warm, median of 3 passes)");
        long violations = 0;
        if (!json)
        {
            System.out.printf("%nCost against PASIDs per address space (%d devices):%n", devices);
            System.out.println("  (warm: the JVM ran the timed passes above; p50 is the median over 3 passes of each pass's " +
                "median per-change latency, emit + CMD_SYNC wait; commands/s = commands per change / p50)");
            System.out.println("  private  PASIDs  commands/change   p50 ns/change   commands/s   p99 ns");
        }
        for (int k = 0; k <= 8; k++)
        {
            final double[] ns = new double[3];
            FanoutResult r = null;
            for (int i = 0; i < ns.length; i++)
            {
                r = replay(input, k, false, List.of());
                violations += r.violations();
                // NOTE: the per-change latency, not elapsed / changes: a pass of the javac trace is ~1 ms of changes,
                // and its elapsed time is dominated by per-pass costs (threads, first touch of fresh tables).
                ns[i] = r.latencyP50Ns();
            }
            Arrays.sort(ns);
            final double nsMedian = ns[1];
            final double perChange = r.changes() == 0 ? 0 : (double)r.atcInvalidations() / r.changes();
            commands.add(1 + k, perChange);
            cost.add(1 + k, nsMedian);
            if (!json)
            {
                System.out.printf(Locale.ROOT, "  %7d  %6d  %15.1f  %14.0f  %12.0f  %7d%n", k, 1 + k, perChange,
                    nsMedian, perChange * 1e9 / Math.max(1, nsMedian), r.latencyP99Ns());
            }
        }
        final JFreeChart chart = ChartFactory.createXYLineChart(
            "ATC invalidation fan-out: " + input.name() + ", " + devices + " devices", "PASIDs per address space",
            "ATC invalidations per change", new XYSeriesCollection(commands), PlotOrientation.VERTICAL, true, false,
            false);
        final XYPlot xy = chart.getXYPlot();
        final NumberAxis nsAxis = new NumberAxis("p50 ns per change");
        xy.setRangeAxis(1, nsAxis);
        xy.setDataset(1, new XYSeriesCollection(cost));
        xy.mapDatasetToRangeAxis(1, 1);
        // NOTE: the x axis counts PASIDs: integer ticks only.
        ((NumberAxis)xy.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        xy.setRenderer(0, new XYLineAndShapeRenderer(true, true));
        xy.setRenderer(1, new XYLineAndShapeRenderer(true, true));
        ChartUtils.saveChartAsPNG(plot, chart, 900, 520);
        if (!json)
        {
            System.out.println("chart written to " + plot);
        }
        return violations;
    }

    /** The models' commands per change, stacked by type, one bar per architecture: next to the --plot file. */
    private void plotByType(final FanoutResult result) throws IOException
    {
        final DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (final IommuCounts c : result.byIommu)
        {
            for (int t = 0; t < c.commandNames().size(); t++)
            {
                data.addValue(result.changes() == 0 ? 0 : (double)c.commands(IommuCounts.CHANGE, t) / result.changes(),
                    c.arch().cliName() + " " + c.commandNames().get(t), c.arch().cliName());
            }
        }
        final JFreeChart chart = ChartFactory.createStackedBarChart("Commands per address-space change, by type: " +
            result.trace + ", " + devices + " devices, " + (1 + privatePasids) + " PASID(s) each", "IOMMU",
            "commands per change", data, PlotOrientation.VERTICAL, true, false, false);
        final File out = byTypeFile(plot);
        ChartUtils.saveChartAsPNG(out, chart, 900, 560);
        if (!json)
        {
            System.out.println("chart of commands per change by type written to " + out);
        }
    }

    static File byTypeFile(final File plot)
    {
        final String name = plot.getName();
        final int dot = name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.length() - 4 : name.length();
        return new File(plot.getAbsoluteFile().getParentFile(), name.substring(0, dot) + "-by-iommu.png");
    }
}
