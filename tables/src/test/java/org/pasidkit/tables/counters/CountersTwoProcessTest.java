package org.pasidkit.tables.counters;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A second JVM reads the counters of a first while it allocates: the values move, and at quiescence they equal the
 * first process's own counts.
 */
class CountersTwoProcessTest
{
    @TempDir
    Path dir;

    @Test
    void aSecondProcessSeesTheCountersMoveAndMatchAtQuiescence() throws Exception
    {
        final String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        final Process child = new ProcessBuilder(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), CountersChild.class.getName(), dir.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.US_ASCII));
            final Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.US_ASCII);
            final String first = out.readLine();
            assertNotNull(first, "the child printed nothing");
            assertTrue(first.startsWith("file "), first);
            final Path file = Paths.get(first.substring(5));
            assertEquals(dir, file.getParent());
            assertEquals(child.pid() + ".dat", file.getFileName().toString());

            try (CountersFile counters = CountersFile.open(file))
            {
                assertEquals(child.pid(), counters.pid());
                assertEquals("counters-child", counters.label());
                assertTrue(counters.processAlive());
                assertFalse(counters.closedByWriter());
                // The values move while the child allocates (each publish is 100 ms apart; wait for three).
                final long ops0 = read(counters).get("child operations");
                final long passes0 = read(counters).get("counter publishes");
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                Map<String, Long> now = read(counters);
                while ((now.get("counter publishes") < passes0 + 3 || now.get("child operations") <= ops0) &&
                    System.nanoTime() - deadlineNs < 0)
                {
                    Thread.sleep(20); // NOTE: polling another process's file, not a grace period
                    now = read(counters);
                }
                assertTrue(now.get("child operations") > ops0, "operations did not move: " + ops0 + " -> " + now);
                assertTrue(now.get("allocator ids in use") > 0, now.toString());
                assertEquals(65535, now.get("allocator ids in range"));

                in.write("stop\n");
                in.flush();
                final String line = out.readLine();
                assertNotNull(line, "the child died before printing its counts");
                assertTrue(line.startsWith("counts "), line);
                final Map<String, Long> own = new HashMap<>();
                for (final String pair : line.substring(7).split(" "))
                {
                    final String[] kv = pair.split("=");
                    own.put(kv[0], Long.parseLong(kv[1]));
                }
                final Map<String, Long> seen = read(counters);
                assertEquals(own.get("operations"), seen.get("child operations"));
                assertEquals(own.get("inUse"), seen.get("allocator ids in use"));
                assertEquals(own.get("free"), seen.get("allocator ids free"));
                assertEquals(own.get("cached"), seen.get("allocator ids cached"));
                assertEquals(own.get("retired"), seen.get("allocator ids retired (in grace)"));
                assertEquals(own.get("held"), seen.get("allocator ids held (waiting for unbinds)"));
                assertEquals(own.get("epoch"), seen.get("allocator epoch"));
                assertEquals(own.get("reclaimPasses"), seen.get("allocator reclaim passes"));
                assertEquals(own.get("active"), seen.get("space PASIDs active"));
                assertEquals(own.get("owners"), seen.get("space owners"));
                assertEquals(1000, seen.get("allocator ids in use"));
                assertEquals(65535, seen.get("allocator ids free") + seen.get("allocator ids cached") +
                    seen.get("allocator ids in use") + seen.get("allocator ids retired (in grace)") +
                    seen.get("allocator ids held (waiting for unbinds)"));

                in.close();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not exit");
                assertEquals(0, child.exitValue());
                assertTrue(counters.closedByWriter(), "close() marks the file closed");
                assertFalse(counters.processAlive(), "the child has gone");
                assertEquals(List.of(file), Files.list(dir).toList(), "the file stays after the process");
            }
        }
        finally
        {
            child.destroyForcibly();
        }
    }

    private static Map<String, Long> read(final CountersFile counters)
    {
        final Map<String, Long> values = new HashMap<>();
        counters.forEach((id, type, kind, label, value) -> values.put(label, value));
        return values;
    }
}
