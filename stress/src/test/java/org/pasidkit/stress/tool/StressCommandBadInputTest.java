package org.pasidkit.stress.tool;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./pasidkit stress} answers bad input with one line naming the value and the rule, and exit code 2. */
class StressCommandBadInputTest
{
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--threads 0             | --threads 0 must be in [1, 64]",
        "--threads 65            | --threads 65 must be in [1, 64]",
        "--seconds -3            | --seconds -3 must be in [1, 86400]",
        "--operations -1         | --operations -1 must be >= 0",
        "--threads abc           | Invalid value for option '--threads': 'abc' is not an int",
        "--no-such-flag          | Unknown option: '--no-such-flag'"})
    void oneLineAndExitCode2(final String args, final String expected)
    {
        final StringWriter err = new StringWriter();
        final CommandLine cl = StressCommand.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute(args.trim().split("\\s+")));
        final String text = err.toString();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("stress: " + expected), text);
        assertFalse(text.contains("\tat "), text);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"--threads 0 --verbose"})
    void verboseAddsTheStackTrace(final String args)
    {
        final StringWriter err = new StringWriter();
        final CommandLine cl = StressCommand.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute(args.split(" ")));
        assertTrue(err.toString().contains("\tat "), err.toString());
    }
}
