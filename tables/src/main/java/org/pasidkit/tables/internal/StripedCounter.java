package org.pasidkit.tables.internal;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A statistics counter that many threads increment without sharing a cache line: a fixed set of stripes, each on
 * its own 128-byte span (two cache lines, against the adjacent-line prefetcher), picked by a hash of the thread's
 * id, as {@code LongAdder} does with its probe but without lazily allocated cells: {@link #increment} never
 * allocates.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may {@link #increment} and {@link #sum}.</li>
 *   <li>Progress: {@link #increment} is one atomic add (lock-free; wait-free on x86); {@link #sum} is wait-free.</li>
 *   <li>{@link #sum} is not an atomic snapshot: it sees every increment that happened before it started, and may
 *       or may not see those that race with it (a monitoring counter).</li>
 * </ul>
 */
public final class StripedCounter
{
    /** 16 longs = 128 bytes between two stripes. */
    private static final int STRIDE_SHIFT = 4;

    private final AtomicLongArray stripes;
    private final int mask;

    /** @param stripes a power of two in [1, 1024]. */
    public StripedCounter(final int stripes)
    {
        if (stripes < 1 || stripes > 1024 || 0 != (stripes & (stripes - 1)))
        {
            throw new IllegalArgumentException("stripes " + stripes + " must be a power of two in [1, 1024]");
        }
        this.mask = stripes - 1;
        // NOTE: one stride of padding before stripe 0 too, so it does not share a line with the array header.
        this.stripes = new AtomicLongArray((stripes + 1) << STRIDE_SHIFT);
    }

    /** Stripes for this machine: twice the processors, rounded up to a power of two, at most 64. */
    public static int defaultStripes()
    {
        final int wanted = Math.min(64, 2 * Runtime.getRuntime().availableProcessors());
        return Integer.highestOneBit(Math.max(1, wanted - 1)) << 1;
    }

    public void increment()
    {
        // NOTE: Thread.threadId() is Java 19+; getId() is the same value (and not deprecated) on 17.
        final long id = Thread.currentThread().getId();
        // NOTE: Fibonacci hash: consecutive thread ids land on different stripes.
        final int stripe = (int)((id * 0x9E3779B97F4A7C15L) >>> 40) & mask;
        stripes.getAndIncrement((stripe + 1) << STRIDE_SHIFT);
    }

    public long sum()
    {
        long sum = 0;
        for (int stripe = 0; stripe <= mask; stripe++)
        {
            sum += stripes.get((stripe + 1) << STRIDE_SHIFT);
        }
        return sum;
    }
}
