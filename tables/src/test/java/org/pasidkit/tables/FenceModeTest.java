package org.pasidkit.tables;

import org.junit.jupiter.api.Test;
import org.pasidkit.allocator.AsymmetricFence;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Prints the fence mode of the tables tests' JVM for the build log; the tables tests run in both modes (surefire
 * executions default-test and fenced), and the forced one must really be fenced.
 */
class FenceModeTest
{
    @Test
    void modeIsReportedAndIsWhatWasAsked()
    {
        final String requested = System.getProperty(AsymmetricFence.PROPERTY, "asymmetric");
        System.out.println("[pasidkit.fence] tables tests (-D" + AsymmetricFence.PROPERTY + "=" + requested + "): " +
            AsymmetricFence.description());
        if ("fenced".equals(requested))
        {
            assertEquals(AsymmetricFence.Mode.FENCED, AsymmetricFence.mode(), AsymmetricFence.description());
        }
        else if (!AsymmetricFence.isAsymmetric())
        {
            System.out.println("[pasidkit.fence] the asymmetric (membarrier) path was NOT tested on this machine: " +
                AsymmetricFence.description());
        }
    }
}
