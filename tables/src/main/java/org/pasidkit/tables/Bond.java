package org.pasidkit.tables;

/**
 * One (PASID, device) binding, as {@code iommu_sva_bind_device} returns it: the driver's capability for that bond.
 * Only this object unbinds it ({@link PasidSpace#unbind(Bond)}); numbers (PASID, requester id, handle) name the bond
 * for lookups but never authorise. Created by {@link PasidSpace#bind}, {@link PasidSpace#bindTo} and
 * {@link PasidSpace#attach}; handed to the driver again in its {@link ExitEvent}.
 * <p>
 * Life: BOUND from its creation; UNBOUND after the driver's {@link PasidSpace#unbind(Bond)}; REVOKED when the space
 * took it away (the driver missed the unbind deadline after an exit, or its device was removed). Both end states
 * are final; every later call with the bond is refused ({@link RefusalKind#STALE} / {@link RefusalKind#REVOKED}).
 * <p>
 * Threading: the state is written under the space's control lock with a release store (volatile) and may be read
 * from any thread ({@link #isBound()}, {@link #isRevoked()}).
 */
public final class Bond
{
    static final int BOUND = 0;
    static final int UNBOUND = 1;
    static final int REVOKED = 2;

    final PasidSpace space;
    final int pasid;
    final int generation;
    final Device device;
    /** The PASID's owner key: the address-space id (>= 0) or minus a standalone owner's id. */
    final long owner;
    volatile int state = BOUND;
    /** Whether the PASID's owner went away while this bond was bound: it then waits for its unbind (control lock). */
    boolean ownerGone;

    Bond(final PasidSpace space, final int pasid, final int generation, final Device device, final long owner)
    {
        this.space = space;
        this.pasid = pasid;
        this.generation = generation;
        this.device = device;
        this.owner = owner;
    }

    public int pasid()
    {
        return pasid;
    }

    /** The PASID's handle (PASID, generation) of the life this bond belongs to. */
    public long handle()
    {
        return PasidHandle.of(pasid, generation);
    }

    public Device device()
    {
        return device;
    }

    /** The owner key: the address-space id ({@code >= 0}) or minus the standalone owner's id. */
    public long owner()
    {
        return owner;
    }

    public boolean isBound()
    {
        return BOUND == state;
    }

    /** Whether the space revoked this bond (missed unbind deadline, or device removal). */
    public boolean isRevoked()
    {
        return REVOKED == state;
    }

    @Override
    public String toString()
    {
        return "bond (" + PasidHandle.toString(handle()) + ", device " + device + ")" +
            (BOUND == state ? "" : UNBOUND == state ? " [unbound]" : " [revoked]");
    }
}
