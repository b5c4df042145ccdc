package org.pasidkit.allocator;

/**
 * The allocator interface pasidkit and every benchmark baseline implement: hand out ids from {@code [minId, maxId]},
 * take them back.
 *
 * <p>{@link #allocate()} never throws and never allocates Java objects on its hot path; it returns an id
 * ({@code >= 1}) or a negative sentinel.</p>
 */
public interface IdAllocator
{
    /** Sentinel: every id in range is in use (or held in a cache that this implementation cannot reach). */
    int EXHAUSTED = -1;

    /** Sentinel: no id is free now, but some are waiting out their grace period and will come back. */
    int ALL_IN_GRACE = -2;

    /**
     * Hands out a free id.
     *
     * @return an id in {@code [minId(), maxId()]}, or {@link #EXHAUSTED} or {@link #ALL_IN_GRACE}.
     */
    int allocate();

    /**
     * Gives an id back.
     *
     * @param id an id this allocator handed out and that was not given back since.
     * @throws IllegalArgumentException if {@code id} is out of range or not in use; nothing is changed then.
     */
    void free(int id);

    /** Lowest id handed out. */
    int minId();

    /** Highest id handed out. */
    int maxId();

    /** Name in benchmark results: {@code pasidkit} or the baseline's name. */
    String name();

    /** True if every free id is always reachable by every thread (no id can be stranded in a cache). */
    default boolean neverStrands()
    {
        return true;
    }
}
