package org.pasidkit.tables;

/** The answer to {@link PasidSpace#reportFault}: a caller-owned, reusable result (not thread-safe). */
public final class FaultAttribution
{
    /** What a fault report found. */
    public enum Kind
    {
        /** The PASID is live and bound to the device: owner, address space and driver data are set. */
        ATTRIBUTED,
        /** The PASID is in teardown: fault reporting is off; the fault was counted, not reported. */
        SUPPRESSED,
        /** The PASID is not live (never allocated, free, retired, or out of range). */
        UNKNOWN_PASID,
        /** The PASID is live but this device has no bond with it. */
        NOT_BOUND_TO_DEVICE
    }

    Kind kind;
    int pasid;
    int requesterId;
    long address;
    long owner;
    long addressSpace;
    int generation;
    Object driverData;

    /** An empty result, to fill (and refill) with {@link PasidSpace#reportFault}. */
    public FaultAttribution()
    {
    }

    void set(final Kind kind, final int requesterId, final int pasid, final long address)
    {
        this.kind = kind;
        this.requesterId = requesterId;
        this.pasid = pasid;
        this.address = address;
        this.owner = 0;
        this.addressSpace = -1;
        this.generation = 0;
        this.driverData = null;
    }

    public Kind kind()
    {
        return kind;
    }

    public int pasid()
    {
        return pasid;
    }

    public int requesterId()
    {
        return requesterId;
    }

    public long address()
    {
        return address;
    }

    /** Owner key: an address space id ({@code >= 0}) or {@code -ownerId} of a standalone owner. */
    public long owner()
    {
        return owner;
    }

    /** The address space, or -1 for a standalone PASID. */
    public long addressSpace()
    {
        return addressSpace;
    }

    public int generation()
    {
        return generation;
    }

    public Object driverData()
    {
        return driverData;
    }

    @Override
    public String toString()
    {
        return kind + " pasid=" + pasid + " rid=" + requesterId + " addr=0x" + Long.toHexString(address) +
            " owner=" + owner + " mm=" + addressSpace + " drvdata=" + driverData;
    }
}
