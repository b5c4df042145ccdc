package org.pasidkit.bench.fanout;

import java.util.SplittableRandom;

/**
 * A synthetic trace for sizes no recorded trace reaches: {@code spaces} address spaces live at once, {@code changes}
 * changes spread over them at random, range sizes log-uniform in [4 KiB, maxRangeBytes], and each change followed with
 * probability {@code exitRate} by the exit of its address space and the start of a new one.
 */
public final class SyntheticWorkload
{
    private SyntheticWorkload()
    {
    }

    public static Trace generate(
        final int spaces, final int changes, final double exitRate, final long maxRangeBytes, final long seed)
    {
        if (spaces < 1 || changes < 0 || exitRate < 0 || exitRate > 1 || maxRangeBytes < 4096)
        {
            throw new IllegalArgumentException("synthetic workload needs spaces >= 1 (" + spaces + "), changes >= 0 (" +
                changes + "), exit rate in [0, 1] (" + exitRate + "), max range >= 4096 (" + maxRangeBytes + ")");
        }
        final SplittableRandom random = new SplittableRandom(seed);
        final Trace trace = new Trace("synthetic(spaces=" + spaces + ", changes=" + changes + ", exitRate=" + exitRate +
            ", maxRange=" + maxRangeBytes + ", seed=" + seed + ")", spaces + changes * 2);
        final long[] live = new long[spaces];
        long nextMm = 1;
        long time = 0;
        for (int i = 0; i < spaces; i++)
        {
            live[i] = nextMm++;
            trace.add(time++, live[i], Trace.Event.START, 0, 0);
        }
        final int maxShift = 63 - Long.numberOfLeadingZeros(maxRangeBytes);
        final Trace.Event[] kinds = {Trace.Event.MUNMAP, Trace.Event.MPROTECT, Trace.Event.MADVISE,
            Trace.Event.MREMAP, Trace.Event.BRK, Trace.Event.MMAP_FIXED};
        for (int c = 0; c < changes; c++)
        {
            final int which = random.nextInt(spaces);
            final long mm = live[which];
            final int shift = 12 + random.nextInt(Math.max(1, maxShift - 11));
            final long length = Math.min(maxRangeBytes, (1L << shift) + random.nextLong(1L << shift));
            final long address = 0x7f0000000000L + (random.nextLong(1L << 30) << 12);
            trace.add(time++, mm, kinds[random.nextInt(kinds.length)], address, length);
            if (random.nextDouble() < exitRate)
            {
                trace.add(time++, mm, Trace.Event.EXIT, 0, 0);
                live[which] = nextMm++;
                trace.add(time++, live[which], Trace.Event.START, 0, 0);
            }
        }
        for (final long mm : live)
        {
            trace.add(time++, mm, Trace.Event.EXIT, 0, 0);
        }
        return trace;
    }
}
