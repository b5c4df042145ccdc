package org.pasidkit.stress.tool;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** What a stress run did and found. */
final class StressResult
{
    StressRun.Config config;
    long elapsedNs;
    long operations;
    final Map<String, Long> opsByKind = new TreeMap<>();
    long violations;
    final Map<String, Long> violationsByKind = new TreeMap<>();
    final List<String> firstViolations = new ArrayList<>();
    long staleTranslations;
    long maxBacklog;
    long maxStuckBonds;
    long maxOldestWaitNs;
    long reuseP50Ns;
    long reuseP99Ns;
    long pasidsReused;
    int maxPasid;
    long refusedInGrace;
    long backlogRetiredAtMax;
    long backlogHeldAtMax;
    long maxEpochStallNs;
    long epochStallAtMaxNs;
    int readersHoldingBackAtMax;
    long maxReclaimGapNs;
    long reclaimGapAtMaxNs;
    long maxTeardownBacklog;
    long refusedFull;
    long hostileCalls;
    long[] refusalsByKind = new long[org.pasidkit.tables.RefusalKind.values().length];
    long revocations;
    long revokedBeforeUnbind;
    long lateUnbindsRevoked;
    /** {@code AsymmetricFence.heavyBarriers()} at the end of the run: the whole process's, set-up included. */
    long heavyBarriers;

    double opsPerSecond()
    {
        return elapsedNs == 0 ? 0 : operations * 1e9 / elapsedNs;
    }

    String summary()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "pasidkit stress: %d threads, %.1f s, seed %d, PASIDs 1..%d%s%s%s%n",
            config.threads, elapsedNs / 1e9, config.seed, maxPasid, config.stallReaders ? ", stalled readers" : "",
            config.slowDrivers ? ", slow drivers" : "", config.exhaust ? ", exhaust (99%+ of the range)" : ""));
        sb.append(String.format(Locale.ROOT, "  fence           %s; heavy side paid %,d times in this process%n",
            org.pasidkit.allocator.AsymmetricFence.description(), heavyBarriers));
        sb.append(String.format(Locale.ROOT, "  operations      %,14d  (%,.0f ops/s)%n", operations, opsPerSecond()));
        opsByKind.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "    %-16s %,12d%n", k, v)));
        sb.append(String.format(Locale.ROOT, "  reuse latency   p50 %,d ns, p99 %,d ns over %,d reuses (release to reuse)%n",
            reuseP50Ns, reuseP99Ns, pasidsReused));
        sb.append(String.format(Locale.ROOT, "  backlog         max %,d ids retired or held under load (%,d retired, " +
            "waiting for grace; %,d held, waiting for unbinds); oldest wait %.1f ms; %,d in the end-of-run cleanup " +
            "(all owners closed, no allocation, so no reclaim pass until the final drain)%n", maxBacklog,
            backlogRetiredAtMax, backlogHeldAtMax, maxOldestWaitNs / 1e6, maxTeardownBacklog));
        sb.append(String.format(Locale.ROOT, "  epoch           longest stand-still %.1f ms (sampled every 50 ms); at " +
            "the backlog's peak it had stood %.1f ms, %d reader(s) pinned at the last failed advance%n",
            maxEpochStallNs / 1e6, epochStallAtMaxNs / 1e6, readersHoldingBackAtMax));
        sb.append(String.format(Locale.ROOT, "  reclaim passes  longest gap without one %.1f ms; at the backlog's peak " +
            "none for %.1f ms%n", maxReclaimGapNs / 1e6, reclaimGapAtMaxNs / 1e6));
        sb.append(String.format(Locale.ROOT, "  refusals        %,d all-in-grace, %,d range full (checked allocate/bind " +
            "found no PASID; expected only with a flag or a narrow device)%n", refusedInGrace, refusedFull));
        if (config.slowDrivers)
        {
            sb.append(String.format(Locale.ROOT, "  slow drivers    unbind %d-%d ms after the exit event; stuck " +
                "(unbind only at the end): max %,d bonds%n", StressRun.LATE_MIN_MS, StressRun.LATE_MAX_MS,
                maxStuckBonds));
        }
        sb.append(String.format(Locale.ROOT, "  capabilities    %,d hostile calls; refused: %,d foreign, %,d forged, " +
            "%,d stale, %,d revoked%n", hostileCalls, refusalsByKind[0], refusalsByKind[1], refusalsByKind[2],
            refusalsByKind[3]));
        sb.append(String.format(Locale.ROOT, "  revocation      deadline %s; %,d bonds revoked (%,d before their " +
            "driver's unbind; %,d late unbinds refused as revoked)%n", 0 == config.deadlineMs ? "off" :
            config.deadlineMs + " ms", revocations, revokedBeforeUnbind, lateUnbindsRevoked));
        sb.append(String.format(Locale.ROOT, "  violations      %,14d%n", violations));
        violationsByKind.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "    %-20s %,8d%n", k, v)));
        for (final String v : firstViolations)
        {
            sb.append("    - ").append(v).append(System.lineSeparator());
        }
        return sb.toString();
    }

    String json()
    {
        final StringBuilder sb = new StringBuilder("{");
        sb.append("\"operations\":").append(operations);
        sb.append(",\"opsPerSecond\":").append(String.format(Locale.ROOT, "%.1f", opsPerSecond()));
        sb.append(",\"violations\":").append(violations);
        sb.append(",\"violationsByKind\":").append(map(violationsByKind));
        sb.append(",\"operationsByKind\":").append(map(opsByKind));
        sb.append(",\"threads\":").append(config.threads);
        sb.append(",\"seconds\":").append(String.format(Locale.ROOT, "%.2f", elapsedNs / 1e9));
        sb.append(",\"seed\":").append(config.seed);
        sb.append(",\"fence\":\"").append(org.pasidkit.allocator.AsymmetricFence.isAsymmetric() ? "membarrier" : "fenced")
            .append('"');
        sb.append(",\"heavyBarriers\":").append(heavyBarriers);
        sb.append(",\"stallReaders\":").append(config.stallReaders);
        sb.append(",\"slowDrivers\":").append(config.slowDrivers);
        sb.append(",\"exhaust\":").append(config.exhaust);
        sb.append(",\"hostile\":").append(config.hostile);
        sb.append(",\"deadlineMs\":").append(config.deadlineMs);
        sb.append(",\"hostileCalls\":").append(hostileCalls);
        sb.append(",\"refusals\":{");
        for (final org.pasidkit.tables.RefusalKind kind : org.pasidkit.tables.RefusalKind.values())
        {
            sb.append(0 == kind.ordinal() ? "" : ",").append('"').append(kind.name().toLowerCase(Locale.ROOT))
                .append("\":").append(refusalsByKind[kind.ordinal()]);
        }
        sb.append('}');
        sb.append(",\"revocations\":").append(revocations);
        sb.append(",\"revokedBeforeUnbind\":").append(revokedBeforeUnbind);
        sb.append(",\"lateUnbindsRefusedRevoked\":").append(lateUnbindsRevoked);
        sb.append(",\"staleTranslations\":").append(staleTranslations);
        sb.append(",\"maxBacklog\":").append(maxBacklog);
        sb.append(",\"backlogAtMax\":{\"retired\":").append(backlogRetiredAtMax).append(",\"held\":")
            .append(backlogHeldAtMax).append(",\"epochStallNs\":").append(epochStallAtMaxNs)
            .append(",\"readersHoldingBack\":").append(readersHoldingBackAtMax).append(",\"reclaimGapNs\":")
            .append(reclaimGapAtMaxNs).append('}');
        sb.append(",\"maxReclaimGapNs\":").append(maxReclaimGapNs);
        sb.append(",\"maxTeardownBacklog\":").append(maxTeardownBacklog);
        sb.append(",\"maxEpochStallNs\":").append(maxEpochStallNs);
        sb.append(",\"maxStuckBonds\":").append(maxStuckBonds);
        sb.append(",\"maxOldestWaitNs\":").append(maxOldestWaitNs);
        sb.append(",\"refusedInGrace\":").append(refusedInGrace);
        sb.append(",\"refusedFull\":").append(refusedFull);
        sb.append(",\"reuseLatencyNs\":{\"p50\":").append(reuseP50Ns).append(",\"p99\":").append(reuseP99Ns)
            .append(",\"count\":").append(pasidsReused).append('}');
        sb.append(",\"firstViolations\":[");
        for (int i = 0; i < firstViolations.size(); i++)
        {
            sb.append(i == 0 ? "" : ",").append('"').append(firstViolations.get(i).replace("\"", "'")).append('"');
        }
        return sb.append("]}").toString();
    }

    private static String map(final Map<String, Long> map)
    {
        final StringBuilder sb = new StringBuilder("{");
        map.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
        return sb.append('}').toString();
    }
}
