package org.pasidkit.bench.report;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** One flat row of {@code summary.json}: one JMH result (benchmark x params x threads). */
public final class BenchRow
{
    String benchmark;
    String subject;
    String implementation;
    String workload;
    int threads;
    double score;
    double scoreError;
    /** Median of the measurement iterations' scores (all forks pooled); NaN if unknown. */
    double median = Double.NaN;
    String unit;
    String mode;
    double allocBytesPerOp = Double.NaN;
    final Map<String, String> params = new TreeMap<>();
    final Map<String, Double> percentiles = new TreeMap<>();
    final Map<String, Double> secondary = new TreeMap<>();

    boolean lowerIsBetter()
    {
        return !"thrpt".equals(mode);
    }

    String json()
    {
        final StringBuilder sb = new StringBuilder("{");
        sb.append("\"benchmark\":\"").append(benchmark).append('"');
        sb.append(",\"subject\":\"").append(subject).append('"');
        sb.append(",\"implementation\":\"").append(implementation).append('"');
        sb.append(",\"workload\":\"").append(workload).append('"');
        sb.append(",\"threads\":").append(threads);
        sb.append(",\"mode\":\"").append(mode).append('"');
        sb.append(",\"score\":").append(num(score));
        sb.append(",\"scoreError\":").append(num(scoreError));
        sb.append(",\"median\":").append(num(median));
        sb.append(",\"unit\":\"").append(unit).append('"');
        sb.append(",\"allocBytesPerOp\":").append(num(allocBytesPerOp));
        sb.append(",\"params\":{");
        int i = 0;
        for (final Map.Entry<String, String> e : params.entrySet())
        {
            sb.append(i++ == 0 ? "" : ",").append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
        }
        sb.append("},\"percentiles\":{");
        i = 0;
        for (final Map.Entry<String, Double> e : percentiles.entrySet())
        {
            sb.append(i++ == 0 ? "" : ",").append('"').append(e.getKey()).append("\":").append(num(e.getValue()));
        }
        sb.append("},\"secondary\":{");
        i = 0;
        for (final Map.Entry<String, Double> e : secondary.entrySet())
        {
            sb.append(i++ == 0 ? "" : ",").append('"').append(e.getKey()).append("\":").append(num(e.getValue()));
        }
        return sb.append("}}").toString();
    }

    static String num(final double v)
    {
        return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format(Locale.ROOT, "%.4f", v);
    }
}
