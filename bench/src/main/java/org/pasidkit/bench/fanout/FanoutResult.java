package org.pasidkit.bench.fanout;

import java.util.List;
import java.util.Locale;

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
        sb.append(String.format(Locale.ROOT, "  violations           %,12d%n", violations));
        for (final String v : firstViolations)
        {
            sb.append("    - ").append(v).append(System.lineSeparator());
        }
        return sb.toString();
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
