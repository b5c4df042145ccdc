package org.pasidkit.bench.stat;

import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pasidkit.bench.PasidkitCli;
import org.pasidkit.tables.PasidOwner;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.counters.CounterKind;
import org.pasidkit.tables.counters.CountersFileDescriptor;
import org.pasidkit.tables.counters.PasidkitCounterTypes;
import org.pasidkit.tables.counters.PasidkitCounters;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ./pasidkit stat}: output of a live and a gone process; bad input gets one line and exit code 2. */
class StatCommandTest
{
    @TempDir
    Path dir;

    /** Exit code, stdout, stderr. */
    record Run(int exit, String out, String err)
    {
    }

    private static Run stat(final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cli = new CommandLine(new PasidkitCli());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        final String[] all = new String[args.length + 1];
        all[0] = "stat";
        System.arraycopy(args, 0, all, 1, args.length);
        return new Run(cli.execute(all), out.toString(), err.toString());
    }

    private static void assertOneLineError(final Run run, final String expected)
    {
        assertEquals(2, run.exit(), run.toString());
        assertTrue(run.err().startsWith("pasidkit stat: "), run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertEquals(1, run.err().lines().count(), "one line: " + run.err());
        assertEquals("", run.out());
    }

    @Test
    void aLiveSpaceIsShownWithRatesAsJsonAndAsATable()
    {
        final PasidSpace space = PasidSpace.builder().maxPasid(4095).counters(dir, "test").build();
        try
        {
            final PasidOwner owner = space.openOwner("o", 4095);
            for (int i = 0; i < 100; i++)
            {
                space.allocate(owner);
            }
            space.counters().publishNow();
            final Run json = stat("--dir", dir.toString(), "--once", "--json", "--interval", "50");
            assertEquals(0, json.exit(), json.toString());
            assertTrue(json.out().startsWith("{\"pid\":" + ProcessHandle.current().pid() +
                ",\"label\":\"test\",\"state\":\"live\""), json.out());
            assertTrue(json.out().contains("{\"id\":6,\"type\":1100,\"kind\":\"gauge\",\"label\":\"allocator ids in " +
                "use\",\"value\":100}"), json.out());
            assertTrue(json.out().contains("\"label\":\"counter publishes\""), json.out());
            assertTrue(json.out().contains("\"ratePerSecond\":"), json.out());
            assertEquals(1, json.out().lines().count());

            final Run table = stat("--dir", dir.toString(), "--pid", String.valueOf(ProcessHandle.current().pid()),
                "--samples", "2", "--interval", "20");
            assertEquals(0, table.exit(), table.toString());
            assertTrue(table.out().contains("allocator ids in use"), table.out());
            assertTrue(table.out().contains("\033[H\033[2J"), "refreshed in place");
        }
        finally
        {
            space.counters().close();
        }
        final Run closed = stat("--dir", dir.toString(), "--once");
        assertEquals(0, closed.exit(), closed.toString());
        assertTrue(closed.out().contains(" closed "), closed.out());
    }

    @Test
    void aGoneProcessIsListedAsGoneAndCleaned() throws Exception
    {
        final Path path;
        try (PasidkitCounters file = PasidkitCounters.create(dir, "old"))
        {
            file.newCounter(PasidkitCounterTypes.APPLICATION, "x", CounterKind.TOTAL);
            path = file.path();
        }
        // As if written by an earlier process with this pid: another start time.
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.seek(CountersFileDescriptor.START_TIME_MS_OFFSET);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1000L).array());
        }
        Files.write(dir.resolve("junk.dat"), new byte[200]);
        final Run list = stat("--dir", dir.toString(), "--once");
        assertEquals(0, list.exit(), list.toString());
        assertTrue(list.out().contains(" gone "), list.out());
        assertTrue(list.out().contains("torn: magic 0"), list.out());
        final Run json = stat("--dir", dir.toString(), "--once", "--json");
        assertTrue(json.out().contains("\"state\":\"gone\""), json.out());
        final Run clean = stat("--dir", dir.toString(), "--clean");
        assertEquals(0, clean.exit(), clean.toString());
        assertTrue(clean.out().contains("removed " + path), clean.out());
        assertFalse(Files.exists(path));
        assertTrue(Files.exists(dir.resolve("junk.dat")), "not a counters file: not stat's to remove");
    }

    @Test
    void aMissingDirectoryIsOneLineAndExitTwo()
    {
        assertOneLineError(stat("--dir", dir.resolve("nope").toString()),
            "--dir " + dir.resolve("nope") + ": no such directory");
    }

    @Test
    void aFileThatIsNotACountersFileIsOneLineAndExitTwo() throws Exception
    {
        final Path foreign = dir.resolve("foreign.dat");
        Files.write(foreign, "hello, this is not a counters file; it is long enough to have a header. "
            .repeat(4).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertOneLineError(stat("--file", foreign.toString()), "not a pasidkit counters file: magic 0x");
    }

    @Test
    void aNewerLayoutIsOneLineAndExitTwo() throws Exception
    {
        final Path path = written();
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.seek(CountersFileDescriptor.LAYOUT_VERSION_OFFSET);
            raf.write(new byte[] {9, 0, 0, 0});
        }
        assertOneLineError(stat("--file", path.toString()), "layout version 9 is newer than this reader's 1");
    }

    @Test
    void aTruncatedFileIsOneLineAndExitTwo() throws Exception
    {
        final Path path = written();
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.setLength(4096);
        }
        assertOneLineError(stat("--file", path.toString()), "truncated: 4096 bytes, the header says");
        assertOneLineError(stat("--dir", dir.toString(), "--pid", String.valueOf(ProcessHandle.current().pid())),
            "truncated: 4096 bytes");
    }

    @Test
    void badValuesAreOneLineAndExitTwoAndVerboseAddsTheTrace()
    {
        assertOneLineError(stat("--dir", dir.toString(), "--interval", "0"), "--interval 0 must be in [10, 3600000] ms");
        assertOneLineError(stat("--dir", dir.toString(), "--interval", "soon"), "--interval soon: not a whole number");
        assertOneLineError(stat("--dir", dir.toString(), "--pid", "-3"), "--pid -3 must be in [1, 2^63-1]");
        assertOneLineError(stat("--dir", dir.toString(), "--pid", "424242424"),
            "--pid 424242424: no counters file of that process in " + dir);
        final Run verbose = stat("--dir", dir.resolve("nope").toString(), "--verbose");
        assertEquals(2, verbose.exit());
        assertTrue(verbose.err().lines().count() > 1, "--verbose: the stack trace too");
    }

    private Path written()
    {
        try (PasidkitCounters file = PasidkitCounters.create(dir, "w"))
        {
            file.newCounter(PasidkitCounterTypes.APPLICATION, "x", CounterKind.TOTAL);
            return file.path();
        }
    }
}
