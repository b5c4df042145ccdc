package org.pasidkit.bench.report;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class ReportFenceTest
{
    private static BenchRow row(final double membarrier, final double heavy)
    {
        final BenchRow row = new BenchRow();
        row.benchmark = "org.pasidkit.allocator.EpochDomainEnterExitBenchmark.advanceWithIdleReader";
        row.threads = 1;
        row.mode = "avgt";
        row.unit = "ns/op";
        row.secondary.put("fence.membarrier", membarrier);
        row.secondary.put("fence.heavy", heavy);
        return row;
    }

    private static String fence(final BenchRow... rows)
    {
        return new Report(List.of(rows), Path.of("unused"), "quick", "test").fence();
    }

    @Test
    void aMembarrierRunCountsMembarrierCalls()
    {
        final String md = fence(row(1.0, 100), row(1.0, 20));
        assertTrue(md.contains("membarrier in 2, fenced in 0 of 2 results. Heavy barriers paid in the measured " +
            "iterations of the whole run: 120 (membarrier calls)."), md);
    }

    @Test
    void aFencedRunSaysItsHeavySideWasFullFences()
    {
        final String md = fence(row(0.0, 246), row(0.0, 4));
        assertTrue(md.contains("membarrier in 0, fenced in 2 of 2 results. Heavy barriers paid in the measured " +
            "iterations of the whole run: 250 (full fences: the fenced forks' heavy side, no membarrier)."), md);
    }

    @Test
    void aMixedRunSaysBoth()
    {
        final String md = fence(row(1.0, 7), row(0.0, 3));
        assertTrue(md.contains("whole run: 10 (membarrier calls in the membarrier forks, full fences in the fenced " +
            "ones)."), md);
    }
}
