package org.pasidkit.allocator.internal;

/**
 * A batch of retired ids in the reclaim queue: a copy of a range of a stripe's {@link StripeRetireBag} ring, stamped
 * with the largest epoch its ids were retired in. Pooled: the reclaimer returns a drained bag to the
 * queue's pool and the next seal takes it, so steady state allocates nothing.
 *
 * <p>{@code ids[0 .. count)} and {@code count} are written with plain stores by the taker before the offer and read by
 * the reclaimer after its peek (queue release / acquire). {@code next} is the reclaimer's cursor: a pass may stop in
 * the middle of a bag (its limit), the next pass resumes there. Reclaimer-only, plain.</p>
 */
final class RetireBag extends RetireRecord
{
    final int[] ids;
    int count;
    int next;

    RetireBag(final int capacity)
    {
        this.ids = new int[capacity];
    }
}
