package org.pasidkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** What the host probe records and hands to its profiler (not how fast: that is the host's, not a test's, business). */
class HostProbeTest
{
    @Test
    void recordsOneSamplePerCallWithItsCpuAndDrainsOnce()
    {
        HostProbe.drain();
        final HostProbe probe = new HostProbe();
        probe.record();
        probe.record();

        final double[] sample = HostProbe.drain();
        assertNotNull(sample);
        assertEquals(2, sample[0], "two records");
        assertTrue(sample[1] > 0 && sample[2] <= sample[1] && sample[1] <= sample[3],
            "mean " + sample[1] + " within [min " + sample[2] + ", max " + sample[3] + "] and positive");
        if (Files.isReadable(Path.of("/proc/thread-self/stat")))
        {
            assertTrue(sample[4] >= 0, "mean CPU " + sample[4]); // a CPU number (the JVM may see fewer than exist)
        }
        assertTrue(sample[5] > 0, "mean ns per CAS " + sample[5]);
        assertNull(HostProbe.drain(), "drained: nothing until the next record");
    }

    @Test
    void readsTheCallingThreadsCpuOnLinux()
    {
        final int cpu = HostProbe.currentCpu();
        if (Files.isReadable(Path.of("/proc/thread-self/stat")))
        {
            assertTrue(cpu >= 0, "cpu " + cpu);
        }
        else
        {
            assertEquals(-1, cpu);
        }
    }
}
