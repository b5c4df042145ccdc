package org.pasidkit.bench.fanout;

import java.io.StringReader;

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
