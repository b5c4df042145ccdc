package org.pasidkit.bench.fanout;

import java.util.List;
import java.util.Locale;

import org.pasidkit.tables.IommuCounts;

/** What one replay measured. */
public final class FanoutResult
{
    String trace;
    FanoutReplay.Config config;
    long elapsedNs;
    long events;
    long addressSpaces;
    long changes;
    long atcInvalidations;
    long expectedInvalidations;
    long fullFlushes;
    long syncs;
    long unbindFlushes;
    long unbinds;
    long staleTranslations;
    long reuseStale;
    long timeouts;
    long commandsConsumed;
    long pasidsAllocated;
    long pasidsReused;
    long latencyP50Ns;
    long latencyP99Ns;
    long latencyP999Ns;
    long latencyMaxNs;
    long violations;
    List<String> firstViolations;
    String counts;
    List<IommuCounts> byIommu = List.of();
    /** How the timing lines were taken (null: one pass, not labelled). */
    String timing;
    int timedPasses = 1;
    boolean warm;

    public long violations()
    {
        return violations;
    }

    public long changes()
    {
        return changes;
    }

    public long atcInvalidations()
    {
        return atcInvalidations;
    }

    public double commandsPerSecond()
    {
        return elapsedNs == 0 ? 0 : atcInvalidations * 1e9 / elapsedNs;
    }

    public double nsPerChange()
    {
        return changes == 0 ? 0 : (double)elapsedNs / changes;
    }

    public long latencyP50Ns()
    {
        return latencyP50Ns;
    }

    public long latencyP99Ns()
    {
        return latencyP99Ns;
    }

    public String report()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "pasidkit fanout: %s%n", trace));
        sb.append(String.format(Locale.ROOT,
            "  devices %d (ATS), PASIDs per address space 1 + %d private, batch %d, flush-all above %d bytes, " +
            "%d producer thread(s), drivers unbind %d us after exit%n",
            config.devices, config.privatePasids, config.batch, config.flushAllAboveBytes, config.threads,
            config.unbindDelayUs));
        sb.append(String.format(Locale.ROOT, "  events               %,12d%n", events));
        sb.append(String.format(Locale.ROOT, "  address spaces       %,12d%n", addressSpaces));
        sb.append(String.format(Locale.ROOT, "  changes              %,12d%n", changes));
        sb.append(String.format(Locale.ROOT, "  ATC invalidations    %,12d   (expected %,d = sum of devices x PASIDs)%n",
            atcInvalidations, expectedInvalidations));
        sb.append(String.format(Locale.ROOT, "  full flushes         %,12d   (changes above the threshold)%n",
            fullFlushes));
        sb.append(String.format(Locale.ROOT, "  syncs                %,12d   (one per change, one per unbind flush)%n",
            syncs));
        sb.append(String.format(Locale.ROOT, "  unbind ATC flushes   %,12d%n", unbindFlushes));
        sb.append(String.format(Locale.ROOT, "  stale translations   %,12d   (after sync, or surviving PASID reuse)%n",
            staleTranslations));
        sb.append(String.format(Locale.ROOT, "  PASIDs allocated     %,12d%n", pasidsAllocated));
        sb.append(String.format(Locale.ROOT, "  PASIDs reused        %,12d   (each after every unbind and its grace)%n",
            pasidsReused));
        sb.append(String.format(Locale.ROOT, "  elapsed              %,12.1f ms%n", elapsedNs / 1e6));
        sb.append(String.format(Locale.ROOT, "  commands per second  %,12.0f%n", commandsPerSecond()));
        sb.append(String.format(Locale.ROOT,
            "  per-change latency   p50 %,d ns  p99 %,d ns  p99.9 %,d ns  max %,d ns (emit + CMD_SYNC wait)%n",
            latencyP50Ns, latencyP99Ns, latencyP999Ns, latencyMaxNs));
        if (null != timing)
        {
            sb.append("  timing               ").append(timing).append(System.lineSeparator());
        }
        if (!byIommu.isEmpty())
        {
            sb.append(iommuReport());
        }
        sb.append(String.format(Locale.ROOT, "  violations           %,12d%n", violations));
        for (final String v : firstViolations)
        {
            sb.append("    - ").append(v).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /** Unbinds a model saw: one teardown per (device, PASID). */
    private static double perTeardown(final IommuCounts c)
    {
        return c.unbinds() == 0 ? 0 :
            (double)(c.commandsInPhase(IommuCounts.RELEASE) + c.commandsInPhase(IommuCounts.UNBIND)) / c.unbinds();
    }

    private double perChange(final IommuCounts c)
    {
        return changes == 0 ? 0 : (double)c.commandsInPhase(IommuCounts.CHANGE) / changes;
    }

    /** The side-by-side table of the architecture models (same trace, same PASIDs, same devices). */
    String iommuReport()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%n  per IOMMU model (the same replay; generic counts above)%n"));
        sb.append(String.format(Locale.ROOT, "  %-38s", ""));
        for (final IommuCounts c : byIommu)
        {
            sb.append(String.format(Locale.ROOT, "%14s", c.arch().cliName()));
        }
        sb.append(System.lineSeparator());
        row(sb, "commands (waits included)", c -> String.format(Locale.ROOT, "%,d", c.commands()));
        row(sb, "  per change", c -> String.format(Locale.ROOT, "%.2f", perChange(c)));
        row(sb, "  per teardown (release + unbind)", c -> String.format(Locale.ROOT, "%.2f", perTeardown(c)));
        row(sb, "  per bind", c -> String.format(Locale.ROOT, "%.2f",
            c.binds() == 0 ? 0 : (double)c.commandsInPhase(IommuCounts.BIND) / c.binds()));
        row(sb, "bytes to the command queue", c -> String.format(Locale.ROOT, "%,d", c.bytesQueued()));
        row(sb, "  per change", c -> String.format(Locale.ROOT, "%.1f",
            changes == 0 ? 0 : (double)c.bytesQueued(IommuCounts.CHANGE) / changes));
        row(sb, "waits / syncs", c -> String.format(Locale.ROOT, "%,d", c.waits()));
        row(sb, "  per change", c -> String.format(Locale.ROOT, "%.2f",
            changes == 0 ? 0 : (double)c.waits(IommuCounts.CHANGE) / changes));
        row(sb, "table bytes touched", c -> String.format(Locale.ROOT, "%,d", c.tableBytesTouched()));
        row(sb, "device-TLB invalidations in changes", c -> String.format(Locale.ROOT, "%,d",
            c.deviceTlbInvalidationsInChanges()));
        row(sb, "page requests queued", c -> String.format(Locale.ROOT, "%,d", c.pageRequestsQueued()));
        row(sb, "  answered while live", c -> String.format(Locale.ROOT, "%,d", c.pageRequestsServiced()));
        row(sb, "  drained at teardown", c -> String.format(Locale.ROOT, "%,d", c.pageRequestsDrained()));
        row(sb, "violations", c -> String.format(Locale.ROOT, "%,d", c.violations()));
        sb.append(String.format(Locale.ROOT, "  (generic ATC invalidations %,d: each model's device-TLB count must " +
            "equal it)%n", atcInvalidations));
        for (final IommuCounts c : byIommu)
        {
            sb.append(String.format(Locale.ROOT, "  %s commands by type (bind / change / release / unbind / " +
                "page-request service):%n", c.arch().cliName()));
            for (int t = 0; t < c.commandNames().size(); t++)
            {
                sb.append(String.format(Locale.ROOT, "    %-26s %,12d   %,d / %,d / %,d / %,d / %,d%n",
                    c.commandNames().get(t), c.commandsOfType(t), c.commands(IommuCounts.BIND, t),
                    c.commands(IommuCounts.CHANGE, t), c.commands(IommuCounts.RELEASE, t),
                    c.commands(IommuCounts.UNBIND, t), c.commands(IommuCounts.SERVICE, t)));
            }
        }
        return sb.toString();
    }

    private void row(final StringBuilder sb, final String name,
        final java.util.function.Function<IommuCounts, String> value)
    {
        sb.append(String.format(Locale.ROOT, "  %-38s", name));
        for (final IommuCounts c : byIommu)
        {
            sb.append(String.format(Locale.ROOT, "%14s", value.apply(c)));
        }
        sb.append(System.lineSeparator());
    }

    /** byIommu as a JSON object: "generic" and each model, with the same fields. */
    String byIommuJson()
    {
        final StringBuilder sb = new StringBuilder("{");
        sb.append("\"generic\":{");
        genericFields(sb);
        sb.setLength(sb.length() - 1);
        sb.append('}');
        for (final IommuCounts c : byIommu)
        {
            sb.append(",\"").append(c.arch().cliName()).append("\":{");
            genericFields(sb);
            field(sb, "commands", c.commands());
            sb.append("\"commandsByType\":{");
            for (int t = 0; t < c.commandNames().size(); t++)
            {
                sb.append(t == 0 ? "" : ",").append('"').append(c.commandNames().get(t)).append("\":")
                    .append(c.commandsOfType(t));
            }
            sb.append("},\"commandsByPhase\":{");
            for (int p = 0; p < IommuCounts.PHASES; p++)
            {
                sb.append(p == 0 ? "" : ",").append('"').append(IommuCounts.PHASE_NAMES.get(p)).append("\":")
                    .append(c.commandsInPhase(p));
            }
            sb.append("},\"changeCommandsByType\":{");
            for (int t = 0; t < c.commandNames().size(); t++)
            {
                sb.append(t == 0 ? "" : ",").append('"').append(c.commandNames().get(t)).append("\":")
                    .append(c.commands(IommuCounts.CHANGE, t));
            }
            sb.append("},");
            field(sb, "commandsPerChange", String.format(Locale.ROOT, "%.4f", perChange(c)));
            field(sb, "commandsPerTeardown", String.format(Locale.ROOT, "%.4f", perTeardown(c)));
            field(sb, "bytesQueued", c.bytesQueued());
            field(sb, "waits", c.waits());
            field(sb, "waitsInChanges", c.waits(IommuCounts.CHANGE));
            field(sb, "tableBytesTouched", c.tableBytesTouched());
            field(sb, "deviceTlbInvalidationsInChanges", c.deviceTlbInvalidationsInChanges());
            field(sb, "pageRequestsQueued", c.pageRequestsQueued());
            field(sb, "pageRequestsServiced", c.pageRequestsServiced());
            field(sb, "pageRequestsDrained", c.pageRequestsDrained());
            field(sb, "teardowns", c.unbinds());
            sb.append("\"violations\":").append(c.violations()).append('}');
        }
        return sb.append('}').toString();
    }

    private void genericFields(final StringBuilder sb)
    {
        field(sb, "events", events);
        field(sb, "changes", changes);
        field(sb, "atcInvalidations", atcInvalidations);
        field(sb, "fullFlushes", fullFlushes);
        field(sb, "staleTranslations", staleTranslations);
    }

    public List<IommuCounts> byIommu()
    {
        return byIommu;
    }

    public String json()
    {
        final StringBuilder sb = new StringBuilder("{");
        field(sb, "trace", '"' + trace.replace("\\", "\\\\").replace("\"", "\\\"") + '"');
        field(sb, "devices", config.devices);
        field(sb, "privatePasids", config.privatePasids);
        field(sb, "batch", config.batch);
        field(sb, "flushAllAboveBytes", config.flushAllAboveBytes);
        field(sb, "threads", config.threads);
        field(sb, "events", events);
        field(sb, "addressSpaces", addressSpaces);
        field(sb, "changes", changes);
        field(sb, "atcInvalidations", atcInvalidations);
        field(sb, "expectedInvalidations", expectedInvalidations);
        field(sb, "fullFlushes", fullFlushes);
        field(sb, "syncs", syncs);
        field(sb, "unbindFlushes", unbindFlushes);
        field(sb, "staleTranslations", staleTranslations);
        field(sb, "pasidsAllocated", pasidsAllocated);
        field(sb, "pasidsReused", pasidsReused);
        field(sb, "elapsedNs", elapsedNs);
        field(sb, "commandsPerSecond", String.format(Locale.ROOT, "%.1f", commandsPerSecond()));
        sb.append("\"latencyNs\":{\"p50\":").append(latencyP50Ns).append(",\"p99\":").append(latencyP99Ns)
            .append(",\"p999\":").append(latencyP999Ns).append(",\"max\":").append(latencyMaxNs).append("},");
        if (null != timing)
        {
            field(sb, "timing", '"' + timing + '"');
            field(sb, "timedPasses", timedPasses);
            field(sb, "warm", warm);
        }
        field(sb, "byIommu", byIommuJson());
        sb.append("\"violations\":").append(violations).append(",\"firstViolations\":[");
        for (int i = 0; i < firstViolations.size(); i++)
        {
            sb.append(i == 0 ? "" : ",").append('"').append(firstViolations.get(i).replace("\"", "'")).append('"');
        }
        return sb.append("]}").toString();
    }

    private static void field(final StringBuilder sb, final String name, final Object value)
    {
        sb.append('"').append(name).append("\":").append(value).append(',');
    }
}
