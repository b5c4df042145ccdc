package org.pasidkit.bench.report;

import java.util.List;
import java.util.Locale;

/**
 * The goals the issues set, checked against the rows that measure them: each says met or missed, and by how much.
 * A goal whose benchmark did not run says so instead of passing.
 */
final class Goals
{
    private Goals()
    {
    }

    static String render(final List<BenchRow> rows)
    {
        final StringBuilder md = new StringBuilder("## Goals\n\n| goal | measured | verdict |\n|---|---|---|\n");
        zeroAllocation(md, rows);
        return md.append('\n').toString();
    }

    private static void zeroAllocation(final StringBuilder md, final List<BenchRow> rows)
    {
        int pasidkitRows = 0;
        double worst = 0;
        String worstName = "";
        for (final BenchRow row : rows)
        {
            if (!row.implementation.startsWith("pasidkit") || Double.isNaN(row.allocBytesPerOp))
            {
                continue;
            }
            pasidkitRows++;
            if (row.allocBytesPerOp > worst)
            {
                worst = row.allocBytesPerOp;
                worstName = row.workload + " x" + row.threads;
            }
        }
        // JMH's own infrastructure shows up as a few hundredths of a byte per op; an allocation on the measured path
        // is at least 16 B per op that performs it.
        line(md, "0 B/op on every pasidkit benchmark (< 0.5 B/op: JMH noise)", pasidkitRows == 0 ? "not measured" :
            String.format(Locale.ROOT, "max %.3f B/op over %d rows%s", worst, pasidkitRows,
            worst > 0 ? " (" + worstName + ")" : ""), pasidkitRows > 0 && worst < 0.5);
    }

    static void line(final StringBuilder md, final String goal, final String measured, final boolean met)
    {
        md.append("| ").append(goal).append(" | ").append(measured).append(" | ")
            .append(met ? "met" : "**missed**").append(" |\n");
    }
}
