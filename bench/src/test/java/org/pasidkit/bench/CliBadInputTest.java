package org.pasidkit.bench;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code ./pasidkit} subcommand answers bad input with one line on stderr naming the value and the rule, exit
 * code 2, and a stack trace only with {@code --verbose}. ({@code stress}: StressCommandBadInputTest in its module.)
 */
class CliBadInputTest
{
    @TempDir
    Path dir;

    static String[] run(final String... args)
    {
        final StringWriter err = new StringWriter();
        final CommandLine cl = PasidkitCli.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        final int code = cl.execute(args);
        return new String[]{Integer.toString(code), err.toString()};
    }

    static void oneLine(final String expectedStart, final String... args)
    {
        final String[] r = run(args);
        assertEquals("2", r[0], r[1]);
        assertEquals(1, r[1].lines().count(), r[1]);
        assertTrue(r[1].startsWith(expectedStart), r[1]);
        assertFalse(r[1].contains("\tat "), r[1]);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "fanout --devices -3                 | fanout: devices -3 must be in [1, 256]",
        "fanout --threads 0                  | fanout: threads 0 must be in [1, 64]",
        "fanout --private-pasids 99          | fanout: private PASIDs 99 must be in [0, 62]",
        "fanout --batch 0                    | fanout: batch 0 must be in [1, 1024] commands",
        "fanout --flush-all-above 100        | fanout: flush-all threshold 100 must be >= 4096 bytes",
        "fanout --iommu sparc                | fanout: --iommu 'sparc' must be one of generic, vtd, smmuv3, amd, all",
        "fanout --passes -1                  | fanout: --passes -1 must be in [0, 1000]",
        "fanout --synthetic -5               | fanout: synthetic workload needs spaces >= 1 (1000), changes >= 0 (-5)",
        "fanout --trace /no/such/trace.csv   | fanout: --trace '/no/such/trace.csv': no such file",
        "fanout --plot /no/such/dir/x.png    | fanout: --plot /no/such/dir/x.png: folder /no/such/dir does not exist",
        "fanout --devices abc                | fanout: Invalid value for option '--devices': 'abc' is not an int",
        "fanout --bogus                      | fanout: Unknown option: '--bogus'",
        "bench --report-only                 | bench: --report-only needs --from FILE|DIR",
        "bench --report-only --from /no/such | bench: --from /no/such: no such file or folder",
        "bench --include (                   | bench: --include '(' must be a regular expression",
        "demo --threads 0                    | demo: --threads 0 must be in [1, 64]",
        "demo --max 0                        | demo: range [1, 0] must satisfy 1 <= min <= max",
        "nosuchcommand                       | pasidkit: Unmatched argument at index 0: 'nosuchcommand'"})
    void oneLineNamingTheValueAndTheRule(final String args, final String expected)
    {
        oneLine(expected, args.trim().split("\\s+"));
    }

    @Test
    void malformedTraceLine() throws Exception
    {
        final Path trace = dir.resolve("bad.csv");
        Files.writeString(trace, "time_us,mm,event,addr,length\n0,1,start,,\n5,1,munmap,0x1000,-4096\n");
        oneLine("fanout: " + trace + ":3: length -4096 must be >= 0", "fanout", "--trace", trace.toString());
    }

    @Test
    void verboseAddsTheStackTrace()
    {
        final String[] r = run("fanout", "--devices", "-3", "--verbose");
        assertEquals("2", r[0]);
        assertTrue(r[1].startsWith("fanout: devices -3 must be in [1, 256]"), r[1]);
        assertTrue(r[1].contains("\tat "), r[1]);
    }
}
