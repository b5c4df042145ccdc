package org.pasidkit.stress;

import org.pasidkit.allocator.AsymmetricFence;

/**
 * Prints the fence mode a JVM with the given flags chooses: {@code MEMBARRIER|FENCED<TAB>description}. Run by
 * BrokenVariantsTest with the same class path and JVM flags as its jcstress forks, so the build log says which path
 * each jcstress run tested ({@code AsymmetricFence} chooses once, from the kernel and {@code -Dpasidkit.fence}).
 */
public final class FenceModeProbe
{
    private FenceModeProbe()
    {
    }

    public static void main(final String[] args)
    {
        System.out.println(AsymmetricFence.mode() + "\t" + AsymmetricFence.description());
    }
}
