package org.pasidkit.bench.fanout;

import java.io.File;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./pasidkit fanout}: replays an address-space trace (the bundled javac trace by default) through the whole
 * PASID life cycle and reports what ATC invalidation fan-out costs.
 */
@Command(name = "fanout", mixinStandardHelpOptions = true,
    description = "Replay a trace (or a synthetic workload) and measure ATC invalidation fan-out.")
public final class FanoutCommand implements Callable<Integer>
{
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

    @Option(names = "--json", description = "Print one JSON object on stdout (no progress bar).")
    boolean json;

    @Option(names = "--counters", description = "Publish live counters of the replay into a file in this " +
        "directory (read them with ./pasidkit stat --dir DIR); created if missing.")
    java.nio.file.Path countersDir;

    @Option(names = "--plot", description = "Also replay with 0..8 private PASIDs and chart the cost into this PNG.")
    File plot;

    @Override
    public Integer call() throws Exception
    {
        final Trace input = load();
        final FanoutResult result = replay(input, privatePasids, !json, countersDir);
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

    private FanoutResult replay(final Trace input, final int extraPasids, final boolean progressBar,
        final java.nio.file.Path counters) throws InterruptedException
    {
        final FanoutReplay.Config config = new FanoutReplay.Config();
        config.devices = devices;
        config.privatePasids = extraPasids;
        config.batch = batch;
        config.flushAllAboveBytes = flushAllAbove;
        config.threads = threads;
        config.unbindDelayUs = unbindDelayUs;
        config.countersDir = counters;
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
        final XYSeries cost = new XYSeries("ns per change (emit + sync wait)");
        long violations = 0;
        if (!json)
        {
            System.out.printf("%nCost against PASIDs per address space (%d devices):%n", devices);
            System.out.println("  private  PASIDs  commands/change   ns/change   commands/s   p99 ns");
        }
        for (int k = 0; k <= 8; k++)
        {
            final FanoutResult r = replay(input, k, false, null);
            violations += r.violations();
            final double perChange = r.changes() == 0 ? 0 : (double)r.atcInvalidations() / r.changes();
            commands.add(1 + k, perChange);
            cost.add(1 + k, r.nsPerChange());
            if (!json)
            {
                System.out.printf(Locale.ROOT, "  %7d  %6d  %15.1f  %10.0f  %12.0f  %7d%n", k, 1 + k, perChange,
                    r.nsPerChange(), r.commandsPerSecond(), r.latencyP99Ns());
            }
        }
        final JFreeChart chart = ChartFactory.createXYLineChart(
            "ATC invalidation fan-out: " + input.name() + ", " + devices + " devices", "PASIDs per address space",
            "ATC invalidations per change", new XYSeriesCollection(commands), PlotOrientation.VERTICAL, true, false,
            false);
        final XYPlot xy = chart.getXYPlot();
        final NumberAxis nsAxis = new NumberAxis("ns per change");
        xy.setRangeAxis(1, nsAxis);
        xy.setDataset(1, new XYSeriesCollection(cost));
        xy.mapDatasetToRangeAxis(1, 1);
        xy.setRenderer(0, new XYLineAndShapeRenderer(true, true));
        xy.setRenderer(1, new XYLineAndShapeRenderer(true, true));
        ChartUtils.saveChartAsPNG(plot, chart, 900, 520);
        if (!json)
        {
            System.out.println("chart written to " + plot);
        }
        return violations;
    }
}
