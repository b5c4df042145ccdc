package org.pasidkit.bench.fanout;

import java.io.StringReader;
import java.util.List;

import org.pasidkit.tables.IommuArch;
import org.pasidkit.tables.IommuCounts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FanoutReplayTest
{
    @ParameterizedTest(name = "{0}: {1} devices, {2} private, {3} threads")
    @CsvSource({"javac, 2, 0, 1", "javac, 3, 2, 1", "shell, 2, 0, 1", "shell, 2, 1, 2"})
    void bundledTracesReplayWithoutViolations(final String name, final int devices, final int privatePasids,
        final int threads) throws Exception
    {
        final Trace trace = TraceReader.read(name);
        final FanoutReplay.Config config = new FanoutReplay.Config();
        config.devices = devices;
        config.privatePasids = privatePasids;
        config.threads = threads;
        config.maxPasid = 255;
        final FanoutResult result = new FanoutReplay(trace, config).run();
        assertEquals(0, result.violations(), result.report());
        assertEquals(result.expectedInvalidations, result.atcInvalidations, result.report());
        assertEquals(0, result.staleTranslations, result.report());
        assertTrue(result.changes() > 1000, result.report());
        assertEquals((long)devices * (1 + privatePasids) * result.changes(), result.atcInvalidations(),
            "every change fans out to devices x PASIDs");
        if ("shell".equals(name))
        {
            assertTrue(result.pasidsReused > 0, "283 address spaces over 255 PASIDs must reuse: " + result.report());
        }
    }

    /**
     * Every architecture model on both bundled traces: its device-TLB invalidations in changes equal the generic ATC
     * count of the same replay, no stale translation, no violation (reuse, order, page requests), page requests
     * drained at teardown; the shell trace's 283 address spaces over 255 PASIDs reuse PASIDs under every model.
     */
    @ParameterizedTest(name = "{0} on {1}, {2} private, {3} threads")
    @CsvSource({"vtd, javac, 0, 1", "smmuv3, javac, 0, 1", "amd, javac, 0, 1",
        "vtd, shell, 0, 1", "smmuv3, shell, 0, 1", "amd, shell, 0, 1",
        "all, javac, 2, 1", "all, shell, 1, 2"})
    void everyModelMatchesTheGenericCountWithoutViolations(final String iommu, final String name,
        final int privatePasids, final int threads) throws Exception
    {
        final Trace trace = TraceReader.read(name);
        final FanoutReplay.Config config = new FanoutReplay.Config();
        config.devices = 2;
        config.privatePasids = privatePasids;
        config.threads = threads;
        config.maxPasid = 255;
        config.iommus = IommuArch.parse(iommu);
        final FanoutResult result = new FanoutReplay(trace, config).run();
        assertEquals(0, result.violations(), result.report());
        assertEquals(0, result.staleTranslations, result.report());
        assertEquals(config.iommus.size(), result.byIommu().size());
        for (final IommuCounts c : result.byIommu())
        {
            final String what = c.arch().cliName() + " on " + name + ": " + result.report();
            assertEquals(result.atcInvalidations(), c.deviceTlbInvalidationsInChanges(), what);
            assertEquals(0, c.violations(), what);
            assertTrue(c.pageRequestsQueued() > 0, what);
            assertTrue(c.pageRequestsDrained() > 0, "requests at exit are drained at unbind: " + what);
            assertEquals(c.pageRequestsQueued(), c.pageRequestsServiced() + c.pageRequestsDrained(), what);
            assertEquals(result.unbinds, c.unbinds(), what);
            assertTrue(c.waits(IommuCounts.CHANGE) >= result.changes(), "a wait per change at least: " + what);
        }
        if ("shell".equals(name))
        {
            assertTrue(result.pasidsReused > 0, result.report());
        }
        assertTrue(result.json().contains("\"byIommu\":{\"generic\":{"), result.json());
    }

    @Test
    void syntheticWorkloadReusesPasidsSafely() throws Exception
    {
        final Trace trace = SyntheticWorkload.generate(50, 20_000, 0.01, 1 << 24, 7);
        final FanoutReplay.Config config = new FanoutReplay.Config();
        config.maxPasid = 127;
        config.privatePasids = 1;
        config.unbindDelayUs = 20;
        final FanoutResult result = new FanoutReplay(trace, config).run();
        assertEquals(0, result.violations(), result.report());
        assertTrue(result.pasidsReused > 0, result.report());
        assertTrue(result.fullFlushes > 0, "ranges above 2 MiB flush everything: " + result.report());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "time,mm,event,addr,length\\n0,1,start,,                                  | t.csv:1: bad header",
        "time_us,mm,event,addr,length\\n0,1,start,,\\n5,1,munmap,0x1000,abc         | t.csv:3: bad number 'abc' in field length",
        "time_us,mm,event,addr,length\\n0,1,start,,\\n5,1,explode,0x1000,4096      | t.csv:3: unknown event 'explode'",
        "time_us,mm,event,addr,length\\n0,1,start,,\\n5,2,munmap,0x1000,4096       | t.csv:3: munmap of address space 2 that never started",
        "time_us,mm,event,addr,length\\n0,1,start,,\\n1,1,exit,,\\n5,1,brk,0x1000,8 | t.csv:4: brk of address space 1 that has exited",
        "time_us,mm,event,addr,length\\n0,1,start,,\\n5,1,munmap,4096,4096         | t.csv:3: bad number '4096' in field addr"})
    void malformedTracesNameFileLineAndReason(final String csv, final String expected)
    {
        final TraceReader.MalformedTraceException ex = assertThrows(TraceReader.MalformedTraceException.class,
            () -> TraceReader.parse("t.csv", new StringReader(csv.replace("\\n", "\n"))));
        assertTrue(ex.getMessage().startsWith(expected), ex.getMessage());
    }
}
