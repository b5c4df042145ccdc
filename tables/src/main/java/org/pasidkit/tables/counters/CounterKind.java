package org.pasidkit.tables.counters;

/**
 * What a counter's value means, stored in the first 4 bytes of its Agrona key so a reader (such as
 * {@code ./pasidkit stat}) knows whether a rate per second makes sense.
 */
public enum CounterKind
{
    /** Only grows (operations, passes, refusals): a reader shows its rate per second. */
    TOTAL,
    /** A level that goes up and down (ids free, bonds, backlog). */
    GAUGE,
    /** A level in nanoseconds (an age or a wait). */
    GAUGE_NS;

    static final CounterKind[] VALUES = values();

    /** The kind stored as {@code code}, or {@link #GAUGE} for an unknown code (a newer writer's kind). */
    public static CounterKind of(final int code)
    {
        return code >= 0 && code < VALUES.length ? VALUES[code] : GAUGE;
    }
}
