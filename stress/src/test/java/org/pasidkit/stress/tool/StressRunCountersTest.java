package org.pasidkit.stress.tool;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pasidkit.tables.counters.CountersFile;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./pasidkit stress --counters DIR}: the run's file holds its final operation counts, marked closed; the report
 * names the fence path.
 */
class StressRunCountersTest
{
    @TempDir
    Path dir;

    @Test
    void aStressRunPublishesItsOperationCounts() throws Exception
    {
        final StressRun.Config config = new StressRun.Config();
        config.threads = 2;
        config.operations = 20_000;
        config.countersDir = dir;
        final StressRun run = new StressRun(config);
        final Path path = run.countersPath();
        assertEquals(dir, path.getParent());
        final StressResult result = run.run();
        assertEquals(0, result.violations, result.firstViolations.toString());
        try (CountersFile file = CountersFile.open(path))
        {
            assertEquals("stress", file.label());
            assertTrue(file.closedByWriter());
            final Map<String, Long> values = new HashMap<>();
            file.forEach((id, type, kind, label, value) -> values.put(label, value));
            assertEquals(result.operations, values.get("stress operations"));
            assertEquals(result.opsByKind.get("bind"), values.get("stress operations bind"));
            assertEquals(result.refusedInGrace, values.get("stress refusals all in grace"));
            assertEquals(0, values.get("stress violations"));
            assertTrue(values.get("ATC changes") > 0, values.toString());
            assertEquals(65535, values.get("allocator ids in range"));
        }
        // NOTE: the report names the fence path the run tested (the build runs the stress module in one mode only).
        final String mode = org.pasidkit.allocator.AsymmetricFence.isAsymmetric() ? "membarrier" : "fenced";
        assertTrue(result.json().contains("\"fence\":\"" + mode + "\""), result.json());
        assertTrue(result.summary().contains(org.pasidkit.allocator.AsymmetricFence.description()), result.summary());
    }
}
