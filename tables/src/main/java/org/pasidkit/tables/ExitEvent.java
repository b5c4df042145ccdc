package org.pasidkit.tables;

/**
 * Sent to a bound driver when its bond ends without its asking: the PASID's owner went away (address-space exit,
 * owner close, free) and the PASID is in TEARDOWN (dummy root, faults suppressed): the driver drains its queues and
 * then calls {@link PasidSpace#unbind(Bond)}; only then can the PASID be reused (after its grace period). Or the
 * space revoked the bond (the driver missed the unbind deadline, or the device was removed): the bond is gone and
 * its device's ATC was invalidated; the driver's later calls with the bond are refused as revoked.
 */
public final class ExitEvent
{
    /** Why the event was sent. */
    public enum Kind
    {
        /** The PASID's owner went away; unbind the bond when done with it. */
        OWNER_GONE,
        /** The driver did not unbind by the deadline: the bond was revoked. */
        REVOKED,
        /** The device was removed: every bond of it was revoked. */
        DEVICE_REMOVED
    }

    private final Kind kind;
    private final Bond bond;
    private final long addressSpace;
    private final Object driverData;

    ExitEvent(final Kind kind, final Bond bond, final long addressSpace, final Object driverData)
    {
        this.kind = kind;
        this.bond = bond;
        this.addressSpace = addressSpace;
        this.driverData = driverData;
    }

    public Kind kind()
    {
        return kind;
    }

    /** The bond this event is about: pass it to {@link PasidSpace#unbind(Bond)} (OWNER_GONE). */
    public Bond bond()
    {
        return bond;
    }

    public Device device()
    {
        return bond.device;
    }

    /** The PASID's handle (PASID, generation of the life that ended). */
    public long handle()
    {
        return bond.handle();
    }

    public int pasid()
    {
        return bond.pasid;
    }

    /** The address space that exited, or -1 (a standalone owner's PASID, or a revocation). */
    public long addressSpace()
    {
        return addressSpace;
    }

    public Object driverData()
    {
        return driverData;
    }

    @Override
    public String toString()
    {
        return kind + " of " + PasidHandle.toString(bond.handle()) + " on device " + bond.device +
            " (mm " + addressSpace + ")";
    }
}
