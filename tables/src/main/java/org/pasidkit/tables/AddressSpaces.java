package org.pasidkit.tables;

import java.util.List;

import org.jctools.maps.NonBlockingHashMapLong;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * Address spaces: the index of open ones by id, their shared and private PASIDs, bind, bindTo and exit.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method but {@link #pasidsOf} runs under the space's control lock. {@link #pasidsOf} is
 *       lock-free and allocation-free: a map lookup and the address space's copy-on-write PASID array.</li>
 *   <li>An id is in the index from {@link #open} until the address space exited and its last PASID left TEARDOWN;
 *       only then can the id be opened again (an mm pointer reused after the mm was freed). While it is in the index,
 *       a second {@link #open} of the id is refused as foreign: the first holder has the capability.</li>
 *   <li>The shared PASID: allocated at the first bind without {@link PasidSpace#PRIVATE}; kept until the exit
 *       ({@link SharedPasidLifetime#ADDRESS_SPACE}, the default) or until its last unbind
 *       ({@link SharedPasidLifetime#LAST_UNBIND}). A private PASID goes at its last unbind.</li>
 * </ul>
 */
final class AddressSpaces
{
    private final PasidSpace space;
    private final Lives lives;
    private final Bonds bonds;
    private final Teardowns teardowns;
    private final Capabilities capabilities;
    private final SharedPasidLifetime sharedLifetime;
    private final int quota;
    private final NonBlockingHashMapLong<AddressSpace> index = new NonBlockingHashMapLong<>();

    AddressSpaces(final PasidSpace space, final Lives lives, final Bonds bonds, final Teardowns teardowns,
        final Capabilities capabilities, final SharedPasidLifetime sharedLifetime, final int quota)
    {
        this.space = space;
        this.lives = lives;
        this.bonds = bonds;
        this.teardowns = teardowns;
        this.capabilities = capabilities;
        this.sharedLifetime = sharedLifetime;
        this.quota = quota;
    }

    int size()
    {
        return index.size();
    }

    AddressSpace open(final long mm)
    {
        final AddressSpace existing = index.get(mm);
        if (null != existing)
        {
            throw capabilities.refuse(RefusalKind.FOREIGN, "address space " + mm + (existing.exited ?
                " has exited but its drivers have not all unbound: the id cannot be opened again yet" :
                " is already open: its holder has the capability"));
        }
        final AddressSpace opened = new AddressSpace(space, mm);
        index.put(mm, opened);
        return opened;
    }

    Bond bind(final AddressSpace as, final Device device, final Object drvdata, final boolean isPrivate)
    {
        int pasid = isPrivate ? 0 : as.sharedPasid;
        if (0 != pasid)
        {
            if (pasid > device.maxPasid())
            {
                throw new IllegalArgumentException("device " + device + " supports " + device.pasidBits() +
                    "-bit PASIDs but " + as + " already uses PASID " + pasid + " (EOVERFLOW)");
            }
            if (device.isBound(pasid))
            {
                throw new IllegalArgumentException("device " + device + " is already bound to " + as +
                    " (PASID " + pasid + ")");
            }
            return bonds.add(space, pasid, device, drvdata);
        }
        if (as.pasids.length >= quota)
        {
            throw new IllegalArgumentException(as + " holds " + as.pasids.length + " PASIDs: its quota of " + quota +
                " is full");
        }
        if (bonds.full())
        {
            throw new IllegalArgumentException("bond table is full (" + bonds.capacity() + " bonds)");
        }
        pasid = lives.allocate(device.pasidBits());
        lives.activate(pasid, as.mm, as.mm, FLAG_FAULTS_ON | (isPrivate ? FLAG_PRIVATE : 0));
        as.add(pasid);
        if (!isPrivate)
        {
            as.sharedPasid = pasid;
        }
        return bonds.add(space, pasid, device, drvdata);
    }

    Bond bindTo(final AddressSpace as, final long handle, final Device device, final Object drvdata)
    {
        final int pasid = capabilities.checkHandle(handle, STATE_ACTIVE);
        if (!as.holds(pasid))
        {
            throw capabilities.refuse(RefusalKind.FOREIGN, as + " does not hold " + PasidHandle.toString(handle) +
                " (owner key " + lives.table.owner(pasid) + ")");
        }
        return bonds.add(space, pasid, device, drvdata);
    }

    void exit(final AddressSpace as, final List<ExitEvent> events)
    {
        // NOTE: release (volatile), read by Capabilities.checkAddressSpace: the capability ends here.
        as.exited = true;
        for (final int pasid : as.pasids)
        {
            if (teardowns.teardown(pasid, as.mm, events))
            {
                as.tearingDown++;
            }
        }
        as.sharedPasid = 0;
        as.pasids = AddressSpace.EMPTY;
        if (0 == as.tearingDown)
        {
            index.remove(as.mm);
        }
    }

    /** An ACTIVE PASID of {@code mm} lost its last bond. */
    void lastBondGone(final int pasid, final long mm)
    {
        final AddressSpace as = index.get(mm);
        if (as.sharedPasid == pasid)
        {
            if (SharedPasidLifetime.ADDRESS_SPACE == sharedLifetime)
            {
                return;
            }
            as.sharedPasid = 0;
        }
        as.remove(pasid);
        lives.retireActive(pasid);
    }

    /** A TEARDOWN PASID of {@code mm} (which exited) was retired. */
    void teardownDone(final long mm)
    {
        final AddressSpace as = index.get(mm);
        if (0 == --as.tearingDown)
        {
            // NOTE: the exited address space's last PASID is retired: its id may be opened again.
            index.remove(mm);
        }
    }

    int pasidsOf(final long mm, final int[] pasidsOut)
    {
        final AddressSpace as = index.get(mm);
        if (null == as)
        {
            return 0;
        }
        final int[] pasids = as.pasids;
        final int n = Math.min(pasids.length, pasidsOut.length);
        System.arraycopy(pasids, 0, pasidsOut, 0, n);
        return n;
    }
}
