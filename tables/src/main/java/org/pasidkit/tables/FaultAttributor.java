package org.pasidkit.tables;

import org.pasidkit.tables.internal.DriverDataCells;
import org.pasidkit.tables.internal.PasidTable;
import org.pasidkit.tables.internal.StripedCounter;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * Fault attribution: who owns the PASID a device faulted on, or that the fault is suppressed (TEARDOWN) or unknown.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread; lock-free (a seqlock read of the entry, retried while a writer is inside it) and
 *       allocation-free; never takes the control lock.</li>
 *   <li>Linearizes at its validated read of the PASID entry: the entry and the device's cell were seen at one
 *       instant of one life, so a fault is never attributed to another life's owner or driver data.</li>
 *   <li>Suppressed faults are counted per entry (atomic) and in a striped counter (no shared line between threads
 *       faulting on different PASIDs).</li>
 * </ul>
 */
final class FaultAttributor
{
    private final PasidSpace space;
    private final PasidTable table;
    private final int minPasid;
    private final int maxPasid;
    /** Fault path: striped, so that faults on different PASIDs from different threads share no counter line. */
    private final StripedCounter suppressed = new StripedCounter(StripedCounter.defaultStripes());

    FaultAttributor(final PasidSpace space, final PasidTable table, final int minPasid, final int maxPasid)
    {
        this.space = space;
        this.table = table;
        this.minPasid = minPasid;
        this.maxPasid = maxPasid;
    }

    long suppressed()
    {
        return suppressed.sum();
    }

    FaultAttribution report(final int requesterId, final int pasid, final long address, final FaultAttribution into)
    {
        final Device device = space.device(requesterId);
        if (null == device || pasid < minPasid || pasid > maxPasid)
        {
            into.set(FaultAttribution.Kind.UNKNOWN_PASID, requesterId, pasid, address);
            return into;
        }
        while (true)
        {
            final long seq = table.readBegin(pasid);
            if (seq < 0)
            {
                into.set(FaultAttribution.Kind.UNKNOWN_PASID, requesterId, pasid, address);
                return into;
            }
            final long stateWord = table.stateWordPlain(pasid);
            final int state = state(stateWord);
            final long owner = table.owner(pasid);
            final long root = table.root(pasid);
            // NOTE: the cell is read inside the entry's seq window. A life's cells are published after its
            // activation, and cleared by unbinds that follow any teardown; both are entry writes. So a cell of the
            // next life, or one cleared after the teardown, comes with a changed seq (the cell's acquire load sees
            // every store before it): a validated read saw the cell and the entry at one instant of one life.
            final Object cell = DriverDataCells.cell(device.drvdata, pasid);
            if (!table.readValidate(pasid, seq))
            {
                Thread.onSpinWait();
                continue;
            }
            if (STATE_TEARDOWN == state)
            {
                table.countSuppressedFault(pasid);
                suppressed.increment();
                into.set(FaultAttribution.Kind.SUPPRESSED, requesterId, pasid, address);
                into.generation = generation(stateWord);
                return into;
            }
            if (STATE_ACTIVE != state)
            {
                into.set(FaultAttribution.Kind.UNKNOWN_PASID, requesterId, pasid, address);
                return into;
            }
            if (null == cell)
            {
                // NOTE: the cell, not the data: a bond made with null data is bound (NULL_DRVDATA).
                into.set(FaultAttribution.Kind.NOT_BOUND_TO_DEVICE, requesterId, pasid, address);
                return into;
            }
            into.set(FaultAttribution.Kind.ATTRIBUTED, requesterId, pasid, address);
            into.owner = owner;
            into.addressSpace = root >= 0 ? root : -1;
            into.generation = generation(stateWord);
            into.driverData = DriverDataCells.unwrap(cell);
            return into;
        }
    }
}
