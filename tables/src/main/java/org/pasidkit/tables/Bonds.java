package org.pasidkit.tables;

import org.pasidkit.tables.internal.BondDescriptor;
import org.pasidkit.tables.internal.BondTable;
import org.pasidkit.tables.internal.PasidTable;
import org.pasidkit.tables.internal.RequesterIdLists;

/**
 * The bonds: (PASID, device) pairs with their driver data, in the off-heap {@link BondTable} (linked per PASID and
 * per device), each device's driver-data cells, each PASID's copy-on-write requester-id list, and the {@link Bond}
 * object that is the driver's capability for it (on-heap, by bond slot).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method runs under the space's control lock (single writer). The data path reads the cells,
 *       the requester-id lists and the entry's bond list lock-free.</li>
 *   <li>Publication order of an add: the bond record, the device's cell, the PASID's requester-id list, then the
 *       entry's bond list; a remove clears the cell first. So a reader that lists a bond through
 *       {@link PasidSpace#bondsOf} then finds its data, and one that no longer lists it no longer finds it
 *       (jcstress: {@code PasidSpaceTests}).</li>
 *   <li>A bond object is BOUND exactly while its record is in the tables, or while a revocation waits for its ATC
 *       flush (then REVOKED, record still present, PASID still held).</li>
 * </ul>
 */
final class Bonds
{
    private final PasidTable table;
    private final BondTable records;
    private final RequesterIdLists requesterIds;
    private final PasidEntryView view;
    /** The capability of each bond slot (control lock). */
    private final Bond[] bySlot;
    /** Driver-data leaves allocated over every device (control lock; read by counts). */
    volatile int drvdataLeaves;

    Bonds(final PasidTable table, final BondTable records, final RequesterIdLists requesterIds,
        final PasidEntryView view)
    {
        this.table = table;
        this.records = records;
        this.requesterIds = requesterIds;
        this.view = view;
        this.bySlot = new Bond[records.capacity()];
    }

    int used()
    {
        return records.used();
    }

    boolean full()
    {
        return records.used() >= records.capacity() - 1;
    }

    int capacity()
    {
        return records.capacity() - 1;
    }

    long nativeBytes()
    {
        return records.nativeBytes();
    }

    Bond at(final int slot)
    {
        return bySlot[slot];
    }

    Object drvdataOf(final int slot)
    {
        return records.drvdataOf(slot);
    }

    int nextOfPasid(final int slot)
    {
        return records.nextOfPasid(slot);
    }

    int nextOfDevice(final int slot)
    {
        return records.nextOfDevice(slot);
    }

    void markExitNotified(final int slot)
    {
        records.flags(slot, records.flags(slot) | BondDescriptor.FLAG_EXIT_NOTIFIED);
    }

    /**
     * Records the bond (pasid, device) of the PASID's current life and returns its capability.
     *
     * @throws IllegalArgumentException for a device too narrow for the PASID, a bond that exists, a full table.
     */
    Bond add(final PasidSpace space, final int pasid, final Device device, final Object drvdata)
    {
        if (pasid > device.maxPasid())
        {
            throw new IllegalArgumentException("device " + device + " supports " + device.pasidBits() +
                "-bit PASIDs; PASID " + pasid + " does not fit (EOVERFLOW)");
        }
        if (device.isBound(pasid))
        {
            throw new IllegalArgumentException("device " + device + " is already bound to PASID " + pasid);
        }
        table.snapshot(pasid, view);
        final int slot = records.add(pasid, device.requesterId(), drvdata, view.firstBond(), device.firstBond);
        if (slot < 0)
        {
            throw new IllegalArgumentException("bond table is full (" + capacity() + " bonds)");
        }
        records.prevOfDevice(slot, 0);
        if (0 != device.firstBond)
        {
            records.prevOfDevice(device.firstBond, slot);
        }
        device.firstBond = slot;
        device.bondCount++;
        // NOTE: the cell before the entry's bond list: a reader that finds the bond by bondsOf (the entry, acquire)
        // then finds its data by driverData.
        if (device.publishDrvdata(pasid, drvdata))
        {
            drvdataLeaves++;
        }
        // NOTE: the cell before the requester-id list too (its release store, read by bondsOf's acquire): a reader
        // that lists the device then finds its data.
        requesterIds.add(pasid, device.requesterId());
        table.bonds(pasid, view.bondCount() + 1, slot);
        final Bond bond = new Bond(space, pasid, view.generation(), device, view.owner());
        bySlot[slot] = bond;
        return bond;
    }

    /** The slot of the bond (pasid, device), which exists. */
    int slotOf(final int pasid, final Device device)
    {
        table.snapshot(pasid, view);
        final long key = BondDescriptor.key(pasid, device.requesterId());
        int slot = view.firstBond();
        while (0 != slot && records.key(slot) != key)
        {
            slot = records.nextOfPasid(slot);
        }
        if (0 == slot)
        {
            throw new IllegalStateException("bond (PASID " + pasid + ", device " + device +
                ") is in the device's index but not in the PASID's bond list: tables are corrupt");
        }
        return slot;
    }

    /**
     * Unlinks and frees the bond's record; the bond object takes {@code endState} (UNBOUND or REVOKED, a release
     * store). Returns the bonds the PASID has left.
     */
    int remove(final Bond bond, final int endState)
    {
        final int pasid = bond.pasid;
        final Device device = bond.device;
        final int slot = slotOf(pasid, device);
        // slotOf left the entry's snapshot in view.
        int prev = 0;
        for (int s = view.firstBond(); s != slot; s = records.nextOfPasid(s))
        {
            prev = s;
        }
        // NOTE: the cell first, the entry's bond list after: a reader that no longer finds the bond by bondsOf
        // (the entry, acquire) no longer finds its data either.
        device.clearDrvdata(pasid);
        // NOTE: after the cell is cleared (release store of the shorter list, read by bondsOf's acquire).
        requesterIds.remove(pasid, device.requesterId());
        int first = view.firstBond();
        if (0 == prev)
        {
            first = records.nextOfPasid(slot);
        }
        else
        {
            records.nextOfPasid(prev, records.nextOfPasid(slot));
        }
        // NOTE: O(1) unlink from the device's list through the writer-only prev pointers (the stress tool's slow
        // drivers showed the former walk, O(bonds of the device) under the control lock, stalling every binder).
        final int prevOfDevice = records.prevOfDevice(slot);
        final int nextOfDevice = records.nextOfDevice(slot);
        if (0 == prevOfDevice)
        {
            device.firstBond = nextOfDevice;
        }
        else
        {
            records.nextOfDevice(prevOfDevice, nextOfDevice);
        }
        if (0 != nextOfDevice)
        {
            records.prevOfDevice(nextOfDevice, prevOfDevice);
        }
        device.bondCount--;
        table.bonds(pasid, view.bondCount() - 1, first);
        records.remove(slot);
        bySlot[slot] = null;
        // NOTE: release (volatile), read by Bond.isBound/isRevoked and by Capabilities.checkBond.
        bond.state = endState;
        return view.bondCount() - 1;
    }
}
