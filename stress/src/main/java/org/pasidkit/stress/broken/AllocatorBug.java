package org.pasidkit.stress.broken;

/**
 * The one step removed from the allocator's broken copies ({@link BrokenStripedIdCache}, {@link BrokenReclaimQueue},
 * {@link BrokenPasidAllocator}, {@link BrokenBagReclaimQueue}); every other line of those copies is the production
 * code.
 */
enum AllocatorBug
{
    /** No bug: the copies behave as production (a control for the copies themselves). */
    NONE,
    /** {@code StripedIdCache.pop}: the owner takes the id with a release store of IN_USE instead of a CAS. */
    POP_WITHOUT_CAS,
    /** {@code StripedIdCache.steal}: the thief checks CACHED, then stores IN_USE, instead of one CAS. */
    STEAL_WITHOUT_CAS,
    /** {@code StripedIdCache.refill}: not counted as a move, so an exhaustion scan can run while ids are in transit. */
    REFILL_NOT_A_MOVE,
    /** {@code EpochReclaimQueue.reclaim}: an id is reusable one epoch after its retirement instead of two. */
    ONE_EPOCH_GRACE,
    /** {@code EpochReclaimQueue.reclaim}: the try-lock is a check of the flag, then a store (not one CAS). */
    RECLAIM_LOCK_NOT_ATOMIC,
    /** {@code EpochReclaimQueue.reclaim}: a pass does not call the sink's beginPass/endPass (not a move). */
    RECLAIM_PASS_NOT_A_MOVE,
    /**
     * {@code PasidAllocator.returnToStripe} (free into the ring): checks that the id is IN_USE, then stores CACHED
     * (release), instead of one {@code IN_USE -> CACHED} CAS.
     */
    FREE_WITHOUT_CAS,
    /**
     * {@code StripedIdCache.takeFromDepot}: the first id of the polled magazine is handed out with a release store of
     * IN_USE (as if a magazine were private to its taker), instead of being pushed and taken by pop's CAS.
     */
    DEPOT_TAKE_WITHOUT_CAS,
    /** {@code EpochReclaimQueue.take}: the taker checks {@code taken}, then stores the new value (no CAS). */
    TAKE_WITHOUT_CAS,
    /**
     * {@code EpochReclaimQueue.takeAged}: the reclaimer checks only the oldest id's epoch and takes the whole ring,
     * stamped with that epoch (not each id's, not the largest).
     */
    AGED_TAKE_FIRST_EPOCH_ONLY
}
