package org.pasidkit.tables;

import java.util.concurrent.atomic.AtomicLongArray;

import org.pasidkit.tables.internal.PasidTable;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * Checks that a life-cycle call's caller holds what it presents (owner, address space, bond, device, handle), and
 * counts the refusals per {@link RefusalKind}.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: the checks run under the space's control lock (they read control-path state); the refusal
 *       counts are atomic and read from any thread by {@link PasidSpace#counts}.</li>
 *   <li>Every check either returns or throws a {@link CapabilityException} that names the value and the rule; it
 *       changes nothing but its refusal count, so a refused call leaves the space as it was.</li>
 *   <li>Numbers never authorise: a handle only names a PASID's life (its generation); the owner, address-space,
 *       bond or device object that the call also presents is what authorises it.</li>
 * </ul>
 */
final class Capabilities
{
    private final PasidSpace space;
    private final PasidTable table;
    private final int minPasid;
    private final int maxPasid;
    private final AtomicLongArray refusals = new AtomicLongArray(RefusalKind.values().length);

    Capabilities(final PasidSpace space, final PasidTable table, final int minPasid, final int maxPasid)
    {
        this.space = space;
        this.table = table;
        this.minPasid = minPasid;
        this.maxPasid = maxPasid;
    }

    long refusals(final RefusalKind kind)
    {
        return refusals.get(kind.ordinal());
    }

    /** Counts the refusal and returns the exception to throw. */
    CapabilityException refuse(final RefusalKind kind, final String message)
    {
        refusals.getAndIncrement(kind.ordinal());
        return new CapabilityException(kind, message);
    }

    void checkOwner(final PasidOwner owner)
    {
        if (null == owner)
        {
            throw refuse(RefusalKind.FORGED, "owner null is not an owner of this PasidSpace");
        }
        if (owner.space != space)
        {
            throw refuse(RefusalKind.FOREIGN, owner + " belongs to another PasidSpace");
        }
        if (owner.closed)
        {
            throw refuse(RefusalKind.STALE, owner + " is closed");
        }
    }

    void checkAddressSpace(final AddressSpace mm)
    {
        if (null == mm)
        {
            throw refuse(RefusalKind.FORGED, "address space null is not open in this PasidSpace");
        }
        if (mm.space != space)
        {
            throw refuse(RefusalKind.FOREIGN, mm + " belongs to another PasidSpace");
        }
        if (mm.exited)
        {
            throw refuse(RefusalKind.STALE, mm + " has exited: its capability ended with it");
        }
    }

    void checkDevice(final Device device)
    {
        if (null == device)
        {
            throw refuse(RefusalKind.FORGED, "device null is not registered with this PasidSpace");
        }
        if (device.removed)
        {
            throw refuse(RefusalKind.STALE, "device " + device + " was removed");
        }
        if (space.device(device.requesterId()) != device)
        {
            throw refuse(RefusalKind.FOREIGN, "device " + device + " is not registered with this PasidSpace " +
                "(another space's device object)");
        }
    }

    /** The bond may be unbound: issued by this space, still bound. */
    void checkBond(final Bond bond)
    {
        if (null == bond)
        {
            throw refuse(RefusalKind.FORGED, "bond null was not issued by this PasidSpace");
        }
        if (bond.space != space)
        {
            throw refuse(RefusalKind.FOREIGN, bond + " was issued by another PasidSpace");
        }
        final int state = bond.state;
        if (Bond.REVOKED == state)
        {
            throw refuse(RefusalKind.REVOKED, bond + " was revoked (unbind deadline missed, or device removed)");
        }
        if (Bond.UNBOUND == state)
        {
            throw refuse(RefusalKind.STALE, bond + " is already unbound (a second unbind)");
        }
    }

    /**
     * Checks that {@code handle} names the current life of an in-range PASID, in {@code state} if {@code state >= 0};
     * returns the PASID. A generation ahead of the PASID's, or a PASID never used, is forged; an older one is stale.
     */
    int checkHandle(final long handle, final int state)
    {
        final int pasid = PasidHandle.pasid(handle);
        if (pasid < minPasid || pasid > maxPasid)
        {
            throw refuse(RefusalKind.FORGED, "PASID " + pasid + " of handle " + PasidHandle.toString(handle) +
                " is outside [" + minPasid + ", " + maxPasid + "]");
        }
        final long stateWord = table.stateWord(pasid);
        final int current = generation(stateWord);
        final int generation = PasidHandle.generation(handle);
        if (generation != current)
        {
            if (generation > current || STATE_INVALID == state(stateWord))
            {
                throw refuse(RefusalKind.FORGED, "handle " + PasidHandle.toString(handle) +
                    " names a life the PASID never had (its generation is " + current + ")");
            }
            throw refuse(RefusalKind.STALE, "stale handle: " + PasidHandle.toString(handle) +
                " but the PASID is now at generation " + current);
        }
        if (state >= 0 && state(stateWord) != state)
        {
            throw refuse(RefusalKind.STALE, PasidHandle.toString(handle) + " is " + stateName(state(stateWord)) +
                ", not " + stateName(state));
        }
        return pasid;
    }

    /** The PASID's entry names {@code ownerKey} as its owner, else foreign. */
    void checkOwns(final long ownerKey, final Object who, final int pasid, final long handle)
    {
        final long owner = table.owner(pasid);
        if (owner != ownerKey)
        {
            throw refuse(RefusalKind.FOREIGN, who + " does not own " + PasidHandle.toString(handle) +
                " (its owner key is " + owner + ")");
        }
    }
}
