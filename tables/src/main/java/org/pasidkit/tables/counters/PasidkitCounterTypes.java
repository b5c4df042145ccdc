package org.pasidkit.tables.counters;

/**
 * Type ids of pasidkit's counters (Agrona counter type ids; Aeron's own are below 1000, pasidkit's start at 1000 so a
 * reader that sees both can tell them apart). An application's own counters use {@link #APPLICATION} and up.
 */
public final class PasidkitCounterTypes
{
    /** The publishing process: pid, start time, publishes. */
    public static final int PROCESS = 1000;
    /** A {@code PasidAllocator}'s counts ({@code AllocatorCounts}). */
    public static final int ALLOCATOR = 1100;
    /** A {@code PasidSpace}'s counts ({@code PasidSpaceCounts}) beyond its allocator's. */
    public static final int SPACE = 1200;
    /** Refusals of a {@code PasidSpace}, one counter per {@code RefusalKind}. */
    public static final int SPACE_REFUSALS = 1210;
    /** An {@code AtcInvalidator}'s counters. */
    public static final int ATC = 1300;
    /** The stress tool's own counts (operations by kind, violations). */
    public static final int STRESS = 1400;
    /** The fan-out replay's own counts. */
    public static final int FANOUT = 1500;
    /** First type id for an application's own counters. */
    public static final int APPLICATION = 10_000;

    private PasidkitCounterTypes()
    {
    }
}
