package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.List;

import org.agrona.collections.LongArrayQueue;
import org.agrona.concurrent.NanoClock;
import org.pasidkit.tables.internal.PasidTable;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * Teardown and revocation: what happens to a PASID when its owner goes away, to its bonds until each driver unbinds
 * (or the space revokes them), and to the PASID when its last bond is gone.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method runs under the space's control lock; the counts ({@link #stuckBonds},
 *       {@link #oldestSinceNs}, {@link #revocations}, {@link #pendingFlushes}) are volatile and read by any
 *       thread.</li>
 *   <li>TEARDOWN at once (never waiting for a driver): the entry gets the dummy root and fault reporting goes off,
 *       the allocator holds the PASID with one holder per bond ({@code retire(pasid, bonds)}), and each bound
 *       driver gets an {@link ExitEvent.Kind#OWNER_GONE} event (delivered by the facade after the lock).</li>
 *   <li>A bond's end releases exactly one holder: an unbind (bond UNBOUND) or a revocation (bond REVOKED) whose
 *       device-TLB flush completed. The last release retires the entry; only then, and after the epoch grace, may
 *       the allocator hand the PASID out again. So a PASID is never reused while a device bound to its previous life
 *       has not been unbound, or revoked with its ATC invalidation synced.</li>
 *   <li>Revocation: with an unbind deadline, a bond whose driver has not unbound {@code deadlineNs} after its
 *       PASID's owner went away is revoked ({@link #revokeOverdue}): the bond object becomes REVOKED at once (the
 *       driver's later calls are refused as revoked; the driver gets a {@link ExitEvent.Kind#REVOKED} event), then
 *       the device's ATC is invalidated for the PASID and synced ({@link DeviceTlbFlush}); only when that completed
 *       is the bond's record removed and its holder released. A flush that fails (timeout) leaves the record and
 *       the holder in place, pending, retried at the next {@link #revokeOverdue}.</li>
 *   <li>Oldest first: the PASIDs in TEARDOWN wait in a FIFO by the time their owner went away (entries whose life
 *       ended are dropped lazily), so a deadline check costs a peek and stuck bonds are listed oldest first.</li>
 * </ul>
 */
final class Teardowns
{
    /** {@link #oldestSinceNs} when no bond is stuck (a clock may read any value, 0 included). */
    static final long NONE = Long.MIN_VALUE;

    private final Lives lives;
    private final PasidTable table;
    private final Bonds bonds;
    private final PasidEntryView view;
    private AddressSpaces addressSpaces;
    private final long deadlineNs;
    private final NanoClock clock;
    /** The PASIDs in TEARDOWN, oldest first: their handles (PASID, generation) ... */
    private final LongArrayQueue waiting = new LongArrayQueue(64, Long.MIN_VALUE);
    /** ... and, in step, when their owner went away. */
    private final LongArrayQueue waitingSince = new LongArrayQueue(64, Long.MIN_VALUE);
    /** Revoked bonds whose device-TLB flush did not complete: record and holder kept until it does. */
    private final List<Bond> pending = new ArrayList<>();
    private DeviceTlbFlush flush;
    volatile int stuckBonds;
    /** When the owner of the oldest PASID with a stuck bond went away; {@link #NONE} if no bond is stuck. */
    volatile long oldestSinceNs = NONE;
    volatile long revocations;
    volatile int pendingFlushes;
    volatile long failedFlushes;

    Teardowns(final Lives lives, final Bonds bonds, final PasidEntryView view, final NanoClock clock,
        final long deadlineNs, final DeviceTlbFlush flush)
    {
        this.clock = clock;
        this.lives = lives;
        this.table = lives.table;
        this.bonds = bonds;
        this.view = view;
        this.deadlineNs = deadlineNs;
        this.flush = flush;
    }

    void addressSpaces(final AddressSpaces addressSpaces)
    {
        this.addressSpaces = addressSpaces;
    }

    void flush(final DeviceTlbFlush flush)
    {
        this.flush = flush;
    }

    DeviceTlbFlush flush()
    {
        return flush;
    }

    long deadlineNs()
    {
        return deadlineNs;
    }

    /**
     * The owner of the ACTIVE {@code pasid} went away: TEARDOWN with one holder per bond, or retired at once if it
     * has none. Exit events go to {@code events}.
     *
     * @return whether the PASID is now in TEARDOWN (waiting for drivers).
     */
    boolean teardown(final int pasid, final long mm, final List<ExitEvent> events)
    {
        table.snapshot(pasid, view);
        final int bondCount = view.bondCount();
        if (0 == bondCount)
        {
            lives.retireActive(pasid);
            return false;
        }
        final long handle = PasidHandle.of(pasid, view.generation());
        final int firstBond = view.firstBond();
        table.teardown(pasid);
        lives.active--;
        lives.teardown++;
        lives.allocator.retire(pasid, bondCount);
        final long nowNs = clock.nanoTime();
        int stuck = 0;
        for (int slot = firstBond; 0 != slot; slot = bonds.nextOfPasid(slot))
        {
            final Bond bond = bonds.at(slot);
            bonds.markExitNotified(slot);
            if (Bond.BOUND == bond.state)
            {
                bond.ownerGone = true;
                stuck++;
                events.add(new ExitEvent(ExitEvent.Kind.OWNER_GONE, bond, mm, bonds.drvdataOf(slot)));
            }
        }
        stuckBonds += stuck;
        waiting.addLong(handle);
        waitingSince.addLong(nowNs);
        updateOldest();
        return true;
    }

    /** The driver unbinds {@code bond} (checked: BOUND, of this space). */
    void unbind(final Bond bond)
    {
        end(bond, Bond.UNBOUND);
        if (bond.ownerGone)
        {
            stuckBonds--;
        }
        updateOldest();
    }

    /**
     * Takes a BOUND bond away from its driver: REVOKED at once, an event of {@code kind}, then the device-TLB flush;
     * the record goes and the holder is released only once the flush completed (else it waits, pending).
     */
    void revoke(final Bond bond, final ExitEvent.Kind kind, final List<ExitEvent> events)
    {
        if (Bond.BOUND != bond.state)
        {
            return;
        }
        final Object drvdata = bond.device.driverData(bond.pasid);
        // NOTE: release (volatile), read by Capabilities.checkBond: from here the driver's calls are refused.
        bond.state = Bond.REVOKED;
        if (bond.ownerGone)
        {
            stuckBonds--;
        }
        revocations++;
        events.add(new ExitEvent(kind, bond, -1, drvdata));
        completeOrPend(bond);
        updateOldest();
    }

    private void completeOrPend(final Bond bond)
    {
        // NOTE: the flush comes before the record's removal and the holder's release: the PASID cannot be reused
        // while the device's ATC may still hold a translation of this life.
        if (flush.flushAndSync(bond.device, bond.pasid))
        {
            end(bond, Bond.REVOKED);
        }
        else
        {
            failedFlushes++;
            pending.add(bond);
            pendingFlushes = pending.size();
        }
    }

    /** Pending revocations of the device with {@code requesterId}. */
    int pendingOf(final int requesterId)
    {
        int n = 0;
        for (int i = 0; i < pending.size(); i++)
        {
            n += pending.get(i).device.requesterId() == requesterId ? 1 : 0;
        }
        return n;
    }

    /**
     * Retries the pending flushes (if asked: each may wait a sync timeout, so only an explicit call does), then revokes
     * every bond still bound {@code deadlineNs} after its PASID's owner went away (nothing without a deadline). Cost
     * when nothing is due: a peek.
     *
     * @return bonds revoked.
     */
    int revokeOverdue(final long nowNs, final boolean retryPending, final List<ExitEvent> events)
    {
        if (retryPending && !pending.isEmpty())
        {
            final Bond[] retry = pending.toArray(new Bond[0]);
            pending.clear();
            for (final Bond bond : retry)
            {
                completeOrPend(bond);
            }
            pendingFlushes = pending.size();
        }
        if (deadlineNs <= 0)
        {
            return 0;
        }
        int revoked = 0;
        updateOldest();
        // NOTE: oldest first: the first entry not yet due ends the walk.
        while (!waiting.isEmpty() && nowNs - waitingSince.peekLong() - deadlineNs >= 0)
        {
            final long handle = waiting.pollLong();
            waitingSince.pollLong();
            final int pasid = PasidHandle.pasid(handle);
            if (!inTeardown(handle))
            {
                continue;
            }
            int slot = table.firstBond(pasid);
            while (0 != slot)
            {
                final int next = bonds.nextOfPasid(slot);
                final Bond bond = bonds.at(slot);
                if (Bond.BOUND == bond.state)
                {
                    revoke(bond, ExitEvent.Kind.REVOKED, events);
                    revoked++;
                }
                slot = next;
            }
        }
        updateOldest();
        return revoked;
    }

    /** Whether a revocation is due now (a volatile read; no lock needed for a hint). Pending flushes are not. */
    boolean due(final long nowNs)
    {
        final long oldest = oldestSinceNs;
        return deadlineNs > 0 && NONE != oldest && nowNs - oldest - deadlineNs >= 0;
    }

    /** Lists the bonds waiting for their driver's unbind, oldest first. */
    void stuckBonds(final StuckBonds into)
    {
        into.clear();
        final LongArrayQueue.LongIterator handles = waiting.iterator();
        final LongArrayQueue.LongIterator since = waitingSince.iterator();
        while (handles.hasNext())
        {
            final long handle = handles.nextValue();
            final long sinceNs = since.nextValue();
            if (!inTeardown(handle))
            {
                continue;
            }
            final int pasid = PasidHandle.pasid(handle);
            for (int slot = table.firstBond(pasid); 0 != slot; slot = bonds.nextOfPasid(slot))
            {
                final Bond bond = bonds.at(slot);
                if (Bond.BOUND == bond.state)
                {
                    into.add(pasid, bond.device.requesterId(), bond.owner, sinceNs);
                }
            }
        }
    }

    /**
     * A bond ends (UNBOUND or REVOKED): its record goes; in TEARDOWN it releases its holder (the last one retires
     * the PASID); while ACTIVE the PASID may lose its last bond (the address space decides whether it stays).
     */
    private void end(final Bond bond, final int endState)
    {
        final int pasid = bond.pasid;
        final int state = state(table.stateWord(pasid));
        final int left = bonds.remove(bond, endState);
        if (STATE_TEARDOWN == state)
        {
            if (0 == left)
            {
                // NOTE: the entry is retired before the last release hands the PASID to the reclaim queue.
                lives.retireTeardown(pasid);
                lives.allocator.release(pasid);
                if (bond.owner >= 0)
                {
                    addressSpaces.teardownDone(bond.owner);
                }
            }
            else
            {
                lives.allocator.release(pasid);
            }
        }
        else if (0 == left && bond.owner >= 0)
        {
            addressSpaces.lastBondGone(pasid, bond.owner);
        }
    }

    private boolean inTeardown(final long handle)
    {
        final long stateWord = table.stateWord(PasidHandle.pasid(handle));
        return STATE_TEARDOWN == state(stateWord) && generation(stateWord) == PasidHandle.generation(handle);
    }

    /** Drops the head entries whose PASID left TEARDOWN or has no bound bond, and publishes the oldest wait. */
    private void updateOldest()
    {
        while (!waiting.isEmpty())
        {
            final long handle = waiting.peekLong();
            if (inTeardown(handle) && hasBoundBond(PasidHandle.pasid(handle)))
            {
                break;
            }
            waiting.pollLong();
            waitingSince.pollLong();
        }
        oldestSinceNs = waiting.isEmpty() ? NONE : waitingSince.peekLong();
    }

    private boolean hasBoundBond(final int pasid)
    {
        for (int slot = table.firstBond(pasid); 0 != slot; slot = bonds.nextOfPasid(slot))
        {
            if (Bond.BOUND == bonds.at(slot).state)
            {
                return true;
            }
        }
        return false;
    }
}
