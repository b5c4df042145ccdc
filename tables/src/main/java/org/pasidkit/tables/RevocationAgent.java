package org.pasidkit.tables;

import org.agrona.concurrent.Agent;

/**
 * Drives a space's revocations on its own thread: run it with an Agrona {@code AgentRunner} and an
 * {@code IdleStrategy}, for a space that may sit idle (successful control calls revoke what is due too).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one thread runs {@link #doWork}; the space's other callers run as usual.</li>
 *   <li>Cost when nothing is due: two volatile reads and a clock read, no lock ({@link PasidSpace#revocationDue}).
 *       When something is due, or a revocation's ATC flush is pending: one {@link PasidSpace#revokeOverdue} under the
 *       control lock (pending flushes are retried at most every {@code retryIntervalNs}: each may wait out its
 *       sync timeout while it holds the lock).</li>
 * </ul>
 */
public final class RevocationAgent implements Agent
{
    private final PasidSpace space;
    private final long retryIntervalNs;
    private long lastRetryNs;

    /**
     * @param space           the space whose overdue bonds this agent revokes.
     * @param retryIntervalNs the least time between two retries of pending ATC flushes (> 0).
     */
    public RevocationAgent(final PasidSpace space, final long retryIntervalNs)
    {
        if (retryIntervalNs <= 0)
        {
            throw new IllegalArgumentException("retry interval " + retryIntervalNs + " ns must be > 0");
        }
        this.space = space;
        this.retryIntervalNs = retryIntervalNs;
    }

    /** Revokes what is due; returns the bonds revoked (the work count an IdleStrategy backs off on). */
    @Override
    public int doWork()
    {
        final long nowNs = System.nanoTime();
        final boolean retry = space.revocationFlushesPending() && nowNs - lastRetryNs - retryIntervalNs >= 0;
        if (!retry && !space.revocationDue())
        {
            return 0;
        }
        if (retry)
        {
            lastRetryNs = nowNs;
        }
        return space.revokeOverdue();
    }

    @Override
    public String roleName()
    {
        return "pasidkit-revocation";
    }
}
