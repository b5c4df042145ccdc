package org.pasidkit.tables;

/**
 * Sent to a bound driver when the owner of a PASID goes away (address-space exit, owner close, free): the PASID is
 * in TEARDOWN (dummy root, faults suppressed); the driver drains its queues and then calls
 * {@link PasidSpace#unbind(long, Device)}. Only then can the PASID be reused (after its grace period).
 */
public final class ExitEvent
{
    private final Device device;
    private final long handle;
    private final long addressSpace;
    private final Object driverData;

    ExitEvent(final Device device, final long handle, final long addressSpace, final Object driverData)
    {
        this.device = device;
        this.handle = handle;
        this.addressSpace = addressSpace;
        this.driverData = driverData;
    }

    public Device device()
    {
        return device;
    }

    /** The handle to pass to {@link PasidSpace#unbind(long, Device)}. */
    public long handle()
    {
        return handle;
    }

    public int pasid()
    {
        return PasidHandle.pasid(handle);
    }

    /** The address space that exited, or -1 for a standalone owner's PASID. */
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
        return "exit of " + PasidHandle.toString(handle) + " on device " + device + " (mm " + addressSpace + ")";
    }
}
