package org.pasidkit.tables;

import java.util.List;

import org.jctools.maps.NonBlockingHashMapLong;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * Standalone owners (the FD-lifetime model) and their quotas: open, allocate, free, attach, close.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method runs under the space's control lock.</li>
 *   <li>An owner holds at most its quota of PASIDs at once (counting only ACTIVE ones; a freed PASID still in
 *       TEARDOWN no longer counts).</li>
 *   <li>Only the owner object frees, attaches or closes its PASIDs: a handle names the PASID, the owner proves the
 *       call ({@link Capabilities#checkOwns}).</li>
 * </ul>
 */
final class Owners
{
    private final PasidSpace space;
    private final Lives lives;
    private final Bonds bonds;
    private final Teardowns teardowns;
    private final Capabilities capabilities;
    private final NonBlockingHashMapLong<PasidOwner> open = new NonBlockingHashMapLong<>();
    private long nextOwnerId = 1;

    Owners(final PasidSpace space, final Lives lives, final Bonds bonds, final Teardowns teardowns,
        final Capabilities capabilities)
    {
        this.space = space;
        this.lives = lives;
        this.bonds = bonds;
        this.teardowns = teardowns;
        this.capabilities = capabilities;
    }

    int size()
    {
        return open.size();
    }

    PasidOwner open(final String name, final int quota)
    {
        final PasidOwner owner = new PasidOwner(space, nextOwnerId++, name, quota);
        open.put(owner.id, owner);
        return owner;
    }

    long allocate(final PasidOwner owner, final int pasidBits)
    {
        if (owner.pasids.size() >= owner.quota)
        {
            throw new IllegalArgumentException(owner + " holds " + owner.pasids.size() + " PASIDs: its quota of " +
                owner.quota + " is full");
        }
        final int pasid = lives.allocate(pasidBits);
        final int generation = lives.activate(pasid, owner.key(), NO_ROOT, FLAG_FAULTS_ON | FLAG_STANDALONE);
        owner.pasids.add(pasid);
        return PasidHandle.of(pasid, generation);
    }

    void free(final PasidOwner owner, final long handle, final List<ExitEvent> events)
    {
        final int pasid = capabilities.checkHandle(handle, STATE_ACTIVE);
        capabilities.checkOwns(owner.key(), owner, pasid, handle);
        owner.pasids.remove(pasid);
        teardowns.teardown(pasid, -1, events);
    }

    Bond attach(final PasidOwner owner, final long handle, final Device device, final Object drvdata)
    {
        final int pasid = capabilities.checkHandle(handle, STATE_ACTIVE);
        capabilities.checkOwns(owner.key(), owner, pasid, handle);
        return bonds.add(space, pasid, device, drvdata);
    }

    void close(final PasidOwner owner, final List<ExitEvent> events)
    {
        // NOTE: release (volatile), read by Capabilities.checkOwner: the capability ends here.
        owner.closed = true;
        open.remove(owner.id);
        for (final int pasid : owner.pasids.toArray(new Integer[0]))
        {
            teardowns.teardown(pasid, -1, events);
        }
        owner.pasids.clear();
    }
}
