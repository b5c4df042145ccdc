package org.pasidkit.tables;

/**
 * How a revocation invalidates a device's ATC for a PASID before the PASID may be reused: emit "invalidate all" for
 * (device, PASID), then wait (with a timeout) for its completion, as a driver does before it lets a PASID go.
 * Called by {@link PasidSpace} on the control path, with its control lock held.
 * <p>
 * An {@link AtcInvalidator} built over a space installs itself as the space's flush unless the builder set one.
 */
@FunctionalInterface
public interface DeviceTlbFlush
{
    /** Without an invalidator: a device without ATS has nothing to flush; one with ATS cannot be flushed. */
    DeviceTlbFlush NONE = (device, pasid) -> !device.ats();

    /**
     * Invalidates every translation of {@code pasid} in {@code device}'s ATC and waits for the completion.
     *
     * @return true once the invalidation completed (synced); false if it could not (timeout): the PASID then stays
     *     held and the revocation is tried again later.
     */
    boolean flushAndSync(Device device, int pasid);
}
