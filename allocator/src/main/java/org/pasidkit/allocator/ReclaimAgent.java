package org.pasidkit.allocator;

import org.agrona.concurrent.Agent;

/**
 * Drives an allocator's reclaim on its own thread: run it with an Agrona {@code AgentRunner} and an
 * {@code IdleStrategy}. Optional: allocation also reclaims inline on its slow path, and either alone is correct.
 *
 * <p>Ids reclaimed here go back to the bitmap (this thread holds no cache), where they are handed out in the
 * bitmap's cyclic order rather than strictly FIFO.</p>
 */
public final class ReclaimAgent implements Agent
{
    private final PasidAllocator allocator;

    public ReclaimAgent(final PasidAllocator allocator)
    {
        if (!allocator.hasGracePeriod())
        {
            throw new IllegalArgumentException("allocator " + allocator.name() + " reuses ids at once: nothing to reclaim");
        }
        this.allocator = allocator;
    }

    /** Reclaims once; returns the ids made reusable (the work count an IdleStrategy backs off on). */
    @Override
    public int doWork()
    {
        return allocator.reclaim();
    }

    @Override
    public String roleName()
    {
        return "pasidkit-reclaim";
    }
}
