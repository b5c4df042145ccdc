package org.pasidkit.bench.stat;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.pasidkit.tables.counters.CounterKind;
import org.pasidkit.tables.counters.CountersFile;
import org.pasidkit.tables.counters.CountersFileException;
import org.pasidkit.tables.counters.PasidkitCounters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./pasidkit stat}: reads the counters files of running pasidkit processes ({@code --counters DIR} of
 * {@code stress} and {@code fanout}, or {@code PasidSpace.builder().counters(dir)} in an application), as
 * {@code AeronStat} reads Aeron's CnC file. Lists the processes whose files it finds; for one of them prints every
 * counter with its rate per second, refreshed in place, or one JSON object per interval.
 *
 * <p>Bad input (a directory that does not exist, a file that is not a counters file, torn, truncated or of a newer
 * layout, a value out of range) gets one line on stderr naming the value and the rule, and exit code 2 (the stack
 * trace too with {@code --verbose}).
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
    description = "Live counters of running pasidkit processes (their counters files), with rates per second.")
public final class StatCommand implements Callable<Integer>
{
    static final int EXIT_BAD_INPUT = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", description = "Directory of counters files. Default: <java.io.tmpdir>/pasidkit-counters.")
    Path dir;

    @Option(names = "--file", description = "Read this counters file (instead of looking in --dir).")
    Path file;

    @Option(names = "--pid", description = "The process to show (default: the only live one).")
    String pid;

    @Option(names = "--interval", defaultValue = "1000", description = "Refresh interval, ms (default 1000).")
    String interval;

    @Option(names = "--samples", defaultValue = "0",
        description = "Stop after this many refreshes (default 0: until the process goes or Ctrl-C).")
    String samples;

    @Option(names = "--json", description = "One JSON object per interval instead of the table.")
    boolean json;

    @Option(names = "--once", description = "One refresh (after one interval, for the rates), then exit.")
    boolean once;

    @Option(names = "--clean", description = "Remove the files of processes that have gone, then list.")
    boolean clean;

    @Option(names = "--verbose", description = "With an error, print its stack trace too.")
    boolean verbose;

    /** A value the user gave that breaks a rule: one line, exit 2. */
    static final class BadInput extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        BadInput(final String message)
        {
            super(message);
        }
    }

    /** One file found in the directory: readable (with its state) or not (with why). */
    record Entry(Path path, CountersFile file, String state, String error)
    {
    }

    @Override
    public Integer call()
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        try
        {
            return run(out);
        }
        catch (final BadInput | CountersFileException ex)
        {
            err.println("pasidkit stat: " + ex.getMessage());
            if (verbose)
            {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_BAD_INPUT;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private int run(final PrintWriter out) throws InterruptedException
    {
        final long intervalMs = parse("--interval", interval, 10, 3_600_000, "ms");
        final long maxSamples = once ? 1 : parse("--samples", samples, 0, Long.MAX_VALUE, "refreshes");
        final Long wantedPid = null == pid ? null : parse("--pid", pid, 1, Long.MAX_VALUE, "(a process id)");
        if (null != file)
        {
            watch(out, CountersFile.open(file), intervalMs, maxSamples);
            return 0;
        }
        final Path directory = null != dir ? dir : PasidkitCounters.defaultDirectory();
        if (!Files.isDirectory(directory))
        {
            throw new BadInput("--dir " + directory + ": no such directory (must be an existing directory of " +
                "pasidkit counters files, as given to --counters DIR)");
        }
        List<Entry> entries = scan(directory);
        if (clean)
        {
            for (final Entry entry : entries)
            {
                if (null != entry.file() && !"live".equals(entry.state()))
                {
                    try
                    {
                        Files.deleteIfExists(entry.path());
                        out.println("removed " + entry.path() + " (pid " + entry.file().pid() + ", gone)");
                    }
                    catch (final IOException ex)
                    {
                        throw new BadInput("--clean: " + entry.path() + " cannot be removed: " + ex);
                    }
                }
            }
            entries = scan(directory);
            list(out, directory, entries);
            return 0;
        }
        Entry target = null;
        if (null != wantedPid)
        {
            for (final Entry entry : entries)
            {
                if (null != entry.file() && entry.file().pid() == wantedPid &&
                    (null == target || "live".equals(entry.state())))
                {
                    target = entry;
                }
            }
            if (null == target)
            {
                for (final Entry entry : entries)
                {
                    if (null == entry.file() && entry.path().getFileName().toString().startsWith(wantedPid + "."))
                    {
                        throw new CountersFileException(entry.error());
                    }
                }
                throw new BadInput("--pid " + wantedPid + ": no counters file of that process in " + directory +
                    " (must be one of the pids listed by ./pasidkit stat --dir " + directory + ")");
            }
        }
        else
        {
            final List<Entry> live = new ArrayList<>();
            for (final Entry entry : entries)
            {
                if ("live".equals(entry.state()))
                {
                    live.add(entry);
                }
            }
            if (1 != live.size())
            {
                list(out, directory, entries);
                return 0;
            }
            target = live.get(0);
        }
        watch(out, target.file(), intervalMs, maxSamples);
        return 0;
    }

    private static long parse(final String option, final String value, final long min, final long max,
        final String unit)
    {
        final long parsed;
        try
        {
            parsed = Long.parseLong(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new BadInput(option + " " + value + ": not a whole number (must be in [" + min + ", " +
                (Long.MAX_VALUE == max ? "2^63-1" : String.valueOf(max)) + "] " + unit + ")");
        }
        if (parsed < min || parsed > max)
        {
            throw new BadInput(option + " " + value + " must be in [" + min + ", " +
                (Long.MAX_VALUE == max ? "2^63-1" : String.valueOf(max)) + "] " + unit);
        }
        return parsed;
    }

    static List<Entry> scan(final Path directory)
    {
        final List<Path> paths = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*.dat"))
        {
            stream.forEach(paths::add);
        }
        catch (final IOException ex)
        {
            throw new BadInput("--dir " + directory + ": cannot be listed: " + ex);
        }
        paths.sort(null);
        final List<Entry> entries = new ArrayList<>();
        for (final Path path : paths)
        {
            try
            {
                final CountersFile counters = CountersFile.open(path);
                entries.add(new Entry(path, counters, state(counters), null));
            }
            catch (final CountersFileException ex)
            {
                entries.add(new Entry(path, null, "bad", ex.getMessage()));
            }
        }
        return entries;
    }

    /** live (process runs, file open), closed (process runs, its publisher closed), gone (process ended). */
    static String state(final CountersFile counters)
    {
        if (!counters.processAlive())
        {
            return "gone";
        }
        return counters.closedByWriter() ? "closed" : "live";
    }

    private void list(final PrintWriter out, final Path directory, final List<Entry> entries)
    {
        if (json)
        {
            final StringBuilder sb = new StringBuilder("{\"dir\":").append(quote(directory.toString()))
                .append(",\"processes\":[");
            for (int i = 0; i < entries.size(); i++)
            {
                final Entry e = entries.get(i);
                sb.append(i == 0 ? "" : ",").append("{\"file\":").append(quote(e.path().toString()))
                    .append(",\"state\":").append(quote(e.state()));
                if (null != e.file())
                {
                    sb.append(",\"pid\":").append(e.file().pid()).append(",\"label\":").append(quote(e.file().label()))
                        .append(",\"startTimeMs\":").append(e.file().startTimeMs()).append(",\"lastPublishMs\":")
                        .append(e.file().lastPublishMs());
                }
                else
                {
                    sb.append(",\"error\":").append(quote(e.error()));
                }
                sb.append('}');
            }
            out.println(sb.append("]}"));
        }
        else
        {
            out.println("pasidkit counters files in " + directory + ":");
            if (entries.isEmpty())
            {
                out.println("  (none)");
            }
            else
            {
                out.printf(Locale.ROOT, "  %-8s %-7s %-12s %-24s %-16s %s%n", "PID", "STATE", "LABEL", "STARTED",
                    "LAST PUBLISH", "FILE");
            }
            final long nowMs = System.currentTimeMillis();
            for (final Entry e : entries)
            {
                if (null == e.file())
                {
                    out.printf(Locale.ROOT, "  %-8s %-7s %s%n", "-", "bad", e.error());
                    continue;
                }
                out.printf(Locale.ROOT, "  %-8d %-7s %-12s %-24s %-16s %s%n", e.file().pid(), e.state(),
                    e.file().label(), Instant.ofEpochMilli(e.file().startTimeMs()).toString(),
                    String.format(Locale.ROOT, "%.1f s ago", (nowMs - e.file().lastPublishMs()) / 1000.0),
                    e.path().getFileName());
            }
            final long live = entries.stream().filter((e) -> "live".equals(e.state())).count();
            if (live > 1)
            {
                out.println("several live processes: choose one with --pid PID");
            }
            if (entries.stream().anyMatch((e) -> "gone".equals(e.state()) || "closed".equals(e.state())))
            {
                out.println("files of processes that have gone: remove them with --clean");
            }
        }
        out.flush();
    }

    /** One counter as read: its id, type, kind, label and value. */
    record Sample(int id, int typeId, CounterKind kind, String label, long value)
    {
    }

    private static List<Sample> sample(final CountersFile counters)
    {
        final List<Sample> list = new ArrayList<>();
        counters.forEach((id, type, kind, label, value) -> list.add(new Sample(id, type, kind, label, value)));
        return list;
    }

    private void watch(final PrintWriter out, final CountersFile counters, final long intervalMs,
        final long maxSamples) throws InterruptedException
    {
        List<Sample> before = sample(counters);
        long beforeNs = System.nanoTime();
        for (long n = 0; 0 == maxSamples || n < maxSamples; n++)
        {
            Thread.sleep(intervalMs); // NOTE: the display's refresh interval
            final List<Sample> now = sample(counters);
            final long nowNs = System.nanoTime();
            final String state = state(counters);
            final double seconds = (nowNs - beforeNs) / 1e9;
            if (json)
            {
                out.println(json(counters, state, before, now, seconds));
            }
            else
            {
                if (!once)
                {
                    out.print("\033[H\033[2J"); // NOTE: clear the screen: refresh in place, as AeronStat does
                }
                out.print(table(counters, state, before, now, seconds, intervalMs));
            }
            out.flush();
            if (!"live".equals(state))
            {
                if (!json)
                {
                    out.println("process " + counters.pid() + " has " + ("gone".equals(state) ? "gone" :
                        "closed its counters") + ": these are its last values");
                    out.flush();
                }
                return;
            }
            before = now;
            beforeNs = nowNs;
        }
    }

    private static Double rate(final List<Sample> before, final Sample s, final double seconds)
    {
        if (CounterKind.TOTAL != s.kind() || seconds <= 0)
        {
            return null;
        }
        for (final Sample b : before)
        {
            if (b.id() == s.id() && b.label().equals(s.label()))
            {
                return (s.value() - b.value()) / seconds;
            }
        }
        return null;
    }

    static String table(final CountersFile counters, final String state, final List<Sample> before,
        final List<Sample> now, final double seconds, final long intervalMs)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "pasidkit stat  pid %d (%s)  %s  %s  every %d ms%n", counters.pid(),
            counters.label(), state, Instant.now().toString(), intervalMs));
        sb.append(String.format(Locale.ROOT, "%4s  %20s  %14s  %s%n", "ID", "VALUE", "RATE/S", "LABEL"));
        for (final Sample s : now)
        {
            final Double rate = rate(before, s, seconds);
            sb.append(String.format(Locale.ROOT, "%4d  %,20d  %14s  %s%n", s.id(), s.value(),
                null == rate ? "" : String.format(Locale.ROOT, "%,.0f", rate), s.label()));
        }
        return sb.toString();
    }

    static String json(final CountersFile counters, final String state, final List<Sample> before,
        final List<Sample> now, final double seconds)
    {
        final StringBuilder sb = new StringBuilder("{\"pid\":").append(counters.pid()).append(",\"label\":")
            .append(quote(counters.label())).append(",\"state\":").append(quote(state)).append(",\"file\":")
            .append(quote(counters.path().toString())).append(",\"timeMs\":").append(System.currentTimeMillis())
            .append(",\"lastPublishMs\":").append(counters.lastPublishMs()).append(",\"seconds\":")
            .append(String.format(Locale.ROOT, "%.3f", seconds)).append(",\"counters\":[");
        for (int i = 0; i < now.size(); i++)
        {
            final Sample s = now.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"id\":").append(s.id()).append(",\"type\":").append(s.typeId())
                .append(",\"kind\":").append(quote(s.kind().name().toLowerCase(Locale.ROOT))).append(",\"label\":")
                .append(quote(s.label())).append(",\"value\":").append(s.value());
            final Double rate = rate(before, s, seconds);
            if (null != rate)
            {
                sb.append(",\"ratePerSecond\":").append(String.format(Locale.ROOT, "%.1f", rate));
            }
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    static String quote(final String s)
    {
        final StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            if (c == '"' || c == '\\')
            {
                sb.append('\\').append(c);
            }
            else if (c < 0x20)
            {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int)c));
            }
            else
            {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
