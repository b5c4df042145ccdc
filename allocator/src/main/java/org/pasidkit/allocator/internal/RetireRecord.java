package org.pasidkit.allocator.internal;

/**
 * What the reclaim queue holds: one id ({@link RetireTicket}) or a sealed batch of ids ({@link RetireBag}), stamped
 * with the epoch and the time the reclaimer compares against.
 *
 * <p>{@code epoch} and {@code retiredNs} are written with plain stores before the record is offered to the queue and
 * read by the reclaimer after it peeks it: the queue's offer (release) / peek (acquire) orders them.</p>
 */
public abstract class RetireRecord
{
    /** Epoch every id of the record was retired in (read after each id's retiring state CAS), or an older one. */
    long epoch;
    /** Time stamp at or after the retirement of every id of the record (coarse without a quarantine). */
    long retiredNs;

    RetireRecord()
    {
    }
}
