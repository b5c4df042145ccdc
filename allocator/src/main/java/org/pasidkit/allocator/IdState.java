package org.pasidkit.allocator;

import org.pasidkit.allocator.internal.IdStateTable;

/** Where an id is in its life: exactly one of these at any time (nothing is lost). */
public enum IdState
{
    /** Free, in the bitmap. */
    FREE,
    /** Free, sitting in a per-CPU cache; any thread can still take it. */
    CACHED,
    /** Handed out. */
    IN_USE,
    /** Freed, waiting for its epoch grace period (and quarantine time) in the reclaim queue. */
    RETIRED,
    /** Retired, waiting for its outstanding holders (bound devices) to release it. */
    HELD;

    private static final IdState[] BY_CODE = values();

    static IdState of(final byte code)
    {
        // NOTE: CACHING (a free into a ring in progress) has not taken effect: the id is still in use.
        return IdStateTable.CACHING == code ? IN_USE : BY_CODE[code];
    }

    static
    {
        if (IdStateTable.FREE != FREE.ordinal() || IdStateTable.CACHED != CACHED.ordinal() ||
            IdStateTable.IN_USE != IN_USE.ordinal() || IdStateTable.RETIRED != RETIRED.ordinal() ||
            IdStateTable.HELD != HELD.ordinal())
        {
            throw new AssertionError("IdState and IdStateTable codes differ");
        }
    }
}
