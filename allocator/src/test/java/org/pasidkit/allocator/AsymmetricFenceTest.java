package org.pasidkit.allocator;

import java.net.URL;
import java.net.URLClassLoader;

import com.sun.jna.Native;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fence mode of this test JVM, printed for the build log ({@code [pasidkit.fence] ...}), and checked against what
 * was asked: the allocator's tests run twice in {@code ./mvnw verify}, once as the machine allows (membarrier where
 * the kernel offers it) and once with {@code -Dpasidkit.fence=fenced} (surefire execution {@code fenced}).
 */
class AsymmetricFenceTest
{
    @Test
    void modeIsReportedAndIsWhatWasAsked()
    {
        final String requested = System.getProperty(AsymmetricFence.PROPERTY, "asymmetric");
        System.out.println("[pasidkit.fence] allocator tests (-D" + AsymmetricFence.PROPERTY + "=" + requested +
            "): " + AsymmetricFence.description());
        assertEquals(AsymmetricFence.isAsymmetric(), AsymmetricFence.Mode.MEMBARRIER == AsymmetricFence.mode());
        if ("fenced".equals(requested))
        {
            assertEquals(AsymmetricFence.Mode.FENCED, AsymmetricFence.mode(), AsymmetricFence.description());
            assertTrue(AsymmetricFence.description().startsWith("fenced (forced"), AsymmetricFence.description());
        }
        else if (!AsymmetricFence.isAsymmetric())
        {
            System.out.println("[pasidkit.fence] the asymmetric (membarrier) path was NOT tested on this machine: " +
                AsymmetricFence.description());
        }
        else
        {
            assertTrue(AsymmetricFence.description().startsWith("membarrier"), AsymmetricFence.description());
        }
    }

    @Test
    void heavyBarriersAreCounted()
    {
        final long before = AsymmetricFence.heavyBarriers();
        AsymmetricFence.light();
        assertEquals(before, AsymmetricFence.heavyBarriers(), "light() is not counted");
        AsymmetricFence.heavy();
        AsymmetricFence.heavy();
        assertEquals(before + 2, AsymmetricFence.heavyBarriers());
    }

    /** A mode that is neither {@code asymmetric} nor {@code fenced}: the class refuses to initialise, naming it. */
    @Test
    void unknownModeIsRejectedNamingTheValue() throws Exception
    {
        final String old = System.getProperty(AsymmetricFence.PROPERTY);
        final URL classes = AsymmetricFence.class.getProtectionDomain().getCodeSource().getLocation();
        final URL jna = Native.class.getProtectionDomain().getCodeSource().getLocation();
        System.setProperty(AsymmetricFence.PROPERTY, "lazy");
        try (URLClassLoader isolated = new URLClassLoader(new URL[] {classes, jna},
            ClassLoader.getPlatformClassLoader()))
        {
            final Throwable thrown = assertThrows(ExceptionInInitializerError.class,
                () -> Class.forName(AsymmetricFence.class.getName(), true, isolated));
            final IllegalArgumentException cause = assertInstanceOf(IllegalArgumentException.class,
                thrown.getCause());
            assertTrue(cause.getMessage().contains("=lazy") && cause.getMessage().contains("fenced"),
                cause.getMessage());
        }
        finally
        {
            if (null == old)
            {
                System.clearProperty(AsymmetricFence.PROPERTY);
            }
            else
            {
                System.setProperty(AsymmetricFence.PROPERTY, old);
            }
        }
        assertFalse(AsymmetricFence.description().isEmpty(), "this JVM's mode is unchanged");
    }
}
