package org.pasidkit.tables;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.internal.BondDescriptor;
import org.pasidkit.tables.internal.BondTable;
import org.pasidkit.tables.internal.DriverDataCells;
import org.pasidkit.tables.internal.PasidTable;
import org.pasidkit.tables.internal.RequesterIdLists;
import org.pasidkit.tables.counters.CountersPublisher;
import org.pasidkit.tables.counters.PasidkitCounters;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * What an IOMMU driver core offers, in one facade: PASIDs for address spaces (bind) and for standalone owners,
 * off-heap PASID tables, bonds with driver data, address-space exit with asynchronous driver notification, reclaim
 * after every driver unbound (or was revoked) and the grace period passed, and fault attribution.
 *
 * <h2>Capabilities</h2>
 * Every mutating call proves its caller with an object the space handed out, never with a number: the
 * {@link AddressSpace} from {@link #openAddressSpace} binds devices to it and ends it ({@link #exit}); the
 * {@link PasidOwner} from {@link #openOwner} allocates, frees, attaches and closes its PASIDs; the {@link Bond} from
 * {@link #bind}, {@link #bindTo} or {@link #attach} is the only way to {@link #unbind} it; the {@link Device} from
 * {@link #addDevice} is its registrant's. PASIDs, handles and requester ids name things for lookups. A foreign,
 * forged, stale or revoked capability is refused with a {@link CapabilityException} (its {@link RefusalKind}),
 * counted ({@link PasidSpaceCounts#refusals(RefusalKind)}), and changes nothing.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method is safe from any thread.</li>
 *   <li>Data path (lock-free, allocation-free, never blocked by the control path): {@link #driverData} and
 *       {@link #driverDataOf} (wait-free: a per-device on-heap radix index of driver-data cells, see
 *       {@code internal.DriverDataCells}), {@link #bondsOf}, {@link #pasidsOf}, {@link #reportFault}, {@link #entry}.
 *       Readers that act on what they read (e.g. an invalidation walker holding a PASID) do so inside an
 *       {@link #epochDomain()} critical section; a PASID is never reused while such a reader may still hold it.</li>
 *   <li>Linearization points: a driver-data lookup at the load of its cell; {@link #reportFault} at its validated
 *       read of the PASID entry (seq window); {@link #bondsOf} at the acquire load of the PASID's copy-on-write
 *       requester-id list; control calls inside the control lock, at the release store that publishes the entry
 *       (activate, teardown, retire), the cell (bind, unbind) or the bond's state (unbind, revocation).</li>
 *   <li>Control path (devices, address spaces, owners, bind, unbind, exit, revocation): serialized by one control
 *       lock, as Linux serializes {@code iommu_sva_bind_device}/{@code unbind} on {@code iommu_sva_lock}; this class
 *       takes it and delegates to one package-private class per responsibility ({@code Capabilities},
 *       {@code AddressSpaces}, {@code Owners}, {@code Bonds}, {@code Teardowns}, {@code Lives}). The data path
 *       ({@code FaultAttributor} and the lookups here) never takes it. Exit events are delivered after the lock is
 *       released.</li>
 *   <li>Life cycle: ACTIVE -&gt; TEARDOWN (owner gone: dummy root, faults suppressed, drivers notified) -&gt;
 *       RETIRED (every bond unbound, or revoked with its device's ATC invalidated and synced; in the allocator's
 *       reclaim queue) -&gt; reusable after the epoch grace. Without an unbind deadline a driver that never unbinds
 *       holds exactly that PASID; it shows in {@link #counts} and {@link #stuckBonds}. With one
 *       ({@link Builder#unbindDeadline}) its bond is revoked once the deadline passed (checked at every successful
 *       control call and by {@link #revokeOverdue}).</li>
 *   <li>Bad input (out-of-range PASID, stale or forged handle, foreign capability, unbound device, second unbind,
 *       bind after exit, quota overflow, narrow device) throws an exception naming the value and the rule and
 *       changes nothing.</li>
 * </ul>
 */
public final class PasidSpace
{
    /** Flag for {@link #bind}: give the address space an extra PASID of its own instead of its shared one. */
    public static final int PRIVATE = 1;

    private static final VarHandle DEVICES = MethodHandles.arrayElementVarHandle(Device[].class);
    private static final VarHandle DIRECTORIES = MethodHandles.arrayElementVarHandle(Object[][][].class);

    private final PasidAllocator allocator;
    private final PasidTable table;
    /**
     * Per PASID, the requester ids of its bonds (copy-on-write; control lock writes, read lock-free by bondsOf and
     * the invalidation fan-out): one array load instead of a seq-validated walk of the bond list.
     */
    private final RequesterIdLists requesterIds;
    private final Device[] devices = new Device[1 << 16];
    /**
     * Each registered device's driver-data directory ({@code Device.drvdata}) by requester id: the lookup reaches the
     * directory in one load instead of two (device, then its field). 256 KiB of heap, as {@link #devices}.
     */
    private final Object[][][] drvdataDirectories = new Object[1 << 16][][];
    /** Control path only (devices, owners, address spaces, bonds, revocation), as Linux's iommu_sva_lock. */
    private final ReentrantLock control = new ReentrantLock();
    private final Lives lives;
    private final Capabilities capabilities;
    private final Bonds bonds;
    private final Teardowns teardowns;
    private final AddressSpaces addressSpaces;
    private final Owners owners;
    private final FaultAttributor faults;
    private final boolean flushConfigured;
    private final NanoClock clock;
    private final AtomicLong exitEvents = new AtomicLong();
    /** Events of the current control call (control lock), delivered after it is released. */
    private final List<ExitEvent> events = new ArrayList<>();
    /** Driver-data directory references over every device (control lock; read by counts). */
    private volatile long drvdataDirectorySlots;
    /** Device removals so far (control lock; volatile: read by the fan-out to drop its cached ATS flags). */
    private volatile int devicesRemoved;
    /** The counters publisher ({@link Builder#counters}), or null. */
    private final CountersPublisher counters;

    PasidSpace(final Builder builder)
    {
        this.allocator = null != builder.allocator ? builder.allocator :
            PasidAllocator.builder().range(1, builder.maxPasid).build();
        if (!allocator.hasGracePeriod())
        {
            throw new IllegalArgumentException("PasidSpace needs an allocator with a grace period (not immediateReuse)");
        }
        this.table = new PasidTable(allocator.maxId());
        this.requesterIds = new RequesterIdLists(allocator.maxId());
        final PasidEntryView writerView = new PasidEntryView();
        this.lives = new Lives(allocator, table);
        this.capabilities = new Capabilities(this, table, allocator.minId(), allocator.maxId());
        this.bonds = new Bonds(table, new BondTable(builder.maxBonds), requesterIds, writerView);
        this.flushConfigured = null != builder.flush;
        this.clock = builder.clock;
        this.teardowns = new Teardowns(lives, bonds, writerView, builder.clock, builder.unbindDeadlineNs,
            null != builder.flush ? builder.flush : DeviceTlbFlush.NONE);
        this.addressSpaces = new AddressSpaces(this, lives, bonds, teardowns, capabilities, builder.sharedPasidLifetime,
            builder.addressSpaceQuota);
        this.teardowns.addressSpaces(addressSpaces);
        this.owners = new Owners(this, lives, bonds, teardowns, capabilities);
        this.faults = new FaultAttributor(this, table, allocator.minId(), allocator.maxId());
        // NOTE: last: the publisher's thread reads this space; Thread.start orders every store above before it.
        this.counters = null == builder.countersDirectory ? null :
            CountersPublisher.create(builder.countersDirectory, builder.countersLabel,
                PasidkitCounters.DEFAULT_PUBLISH_INTERVAL_MS).addSpace(this).start();
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * The counters publisher of {@link Builder#counters}, or null when counters are off. Its {@link
     * CountersPublisher#path()} is the file another process reads ({@code ./pasidkit stat}); add the application's
     * own figures to it ({@link CountersPublisher#addTotal}), and {@link CountersPublisher#close()} it when the space
     * is done (the file stays, marked closed).
     */
    public CountersPublisher counters()
    {
        return counters;
    }

    public PasidAllocator allocator()
    {
        return allocator;
    }

    /** The epoch domain readers pin while they act on what they looked up. */
    public EpochDomain epochDomain()
    {
        return allocator.epochDomain();
    }

    /** The unbind deadline in nanoseconds (0: off). */
    public long unbindDeadlineNs()
    {
        return teardowns.deadlineNs();
    }

    /** An {@link AtcInvalidator} over this space becomes its revocation flush unless the builder set one. */
    void invalidatorBuilt(final DeviceTlbFlush flush)
    {
        control.lock();
        try
        {
            if (!flushConfigured)
            {
                teardowns.flush(flush);
            }
        }
        finally
        {
            control.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ devices

    /**
     * Registers a device; the returned object is the registrant's capability for it.
     *
     * @param requesterId bus:dev.fn, 0..65535.
     * @param pasidBits   the device's PASID width, 1..20 (the PCIe maximum).
     * @param ats         whether it has an ATC.
     * @param listener    called on exit and revocation events; null to poll them with {@link #pollExitEvents}.
     */
    public Device addDevice(final int requesterId, final int pasidBits, final boolean ats, final ExitListener listener)
    {
        if (requesterId < 0 || requesterId > 0xFFFF)
        {
            throw new IllegalArgumentException("requester id " + requesterId + " must be in [0, 65535] (bus:dev.fn)");
        }
        if (pasidBits < 1 || pasidBits > 20)
        {
            throw new IllegalArgumentException("PASID width " + pasidBits + " bits must be in [1, 20]");
        }
        control.lock();
        try
        {
            if (null != devices[requesterId])
            {
                throw capabilities.refuse(RefusalKind.FOREIGN, "requester id " + requesterId +
                    " is already registered: its registrant holds the device");
            }
            final int pending = teardowns.pendingOf(requesterId);
            if (0 != pending)
            {
                throw new IllegalArgumentException("requester id " + requesterId + " has " + pending +
                    " revocations of a removed device waiting for their ATC flush: register it again after them");
            }
            final Device device = new Device(this, requesterId, pasidBits, ats, listener, allocator.maxId());
            drvdataDirectorySlots += device.drvdata.length;
            // NOTE: release, read by device() via getAcquire: the device and its directory are seen whole.
            DEVICES.setRelease(devices, requesterId, device);
            // NOTE: release, read by driverData() via getAcquire.
            DIRECTORIES.setRelease(drvdataDirectories, requesterId, device.drvdata);
            revokeDue();
            return device;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /**
     * Device removal (hot-unplug, function-level reset): the device is unregistered at once (lookups by its
     * requester id stop finding it, its object becomes stale) and every bond of it is revoked: the driver gets a
     * {@link ExitEvent.Kind#DEVICE_REMOVED} event per bond, the device's ATC is invalidated and synced for each
     * PASID, and only then does each bond release its PASID (a flush that fails keeps the PASID held until a later
     * {@link #revokeOverdue} completes it). An ACTIVE PASID that loses its last bond this way is treated as at its
     * last unbind.
     *
     * @throws CapabilityException for a device that is not this space's, or already removed.
     */
    public void removeDevice(final Device device)
    {
        control.lock();
        try
        {
            capabilities.checkDevice(device);
            final int requesterId = device.requesterId();
            // NOTE: removed first (volatile, read by Capabilities.checkDevice), then unregistered (release, read
            // by device() and driverData() via getAcquire): no new bond, no lookup by number finds it.
            device.removed = true;
            DEVICES.setRelease(devices, requesterId, null);
            DIRECTORIES.setRelease(drvdataDirectories, requesterId, null);
            drvdataDirectorySlots -= device.drvdata.length;
            int slot = device.firstBond;
            while (0 != slot)
            {
                final int next = bonds.nextOfDevice(slot);
                teardowns.revoke(bonds.at(slot), ExitEvent.Kind.DEVICE_REMOVED, events);
                slot = next;
            }
            devicesRemoved++;
            revokeDue();
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /** The device registered at {@code requesterId}, or null (package-private: a device is not looked up by number). */
    Device device(final int requesterId)
    {
        return requesterId < 0 || requesterId > 0xFFFF ? null : (Device)DEVICES.getAcquire(devices, requesterId);
    }

    /** Devices removed so far (a volatile read): a change tells a cache of devices by requester id to refresh. */
    int deviceRemovals()
    {
        return devicesRemoved;
    }

    /** Whether a device is registered at {@code requesterId} now (a read-only view: no capability). */
    public boolean isRegistered(final int requesterId)
    {
        return null != device(requesterId);
    }

    /**
     * Drains up to {@code limit} events of a device without a listener (also after the device was removed: its
     * DEVICE_REMOVED events).
     *
     * @return events handed to {@code handler}.
     */
    public int pollExitEvents(final Device device, final ExitListener handler, final int limit)
    {
        if (null == device || device.space != this)
        {
            throw capabilities.refuse(null == device ? RefusalKind.FORGED : RefusalKind.FOREIGN,
                "device " + device + " is not a device of this PasidSpace");
        }
        int n = 0;
        ExitEvent event;
        while (n < limit && null != (event = device.exitEvents.relaxedPoll()))
        {
            handler.onExit(event);
            n++;
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------ owners

    /**
     * Opens a standalone owner (FD-lifetime model) that may hold at most {@code quota} PASIDs at once; the object is
     * its holder's capability.
     *
     * @throws IllegalArgumentException if {@code quota < 1}.
     */
    public PasidOwner openOwner(final String name, final int quota)
    {
        if (quota < 1)
        {
            throw new IllegalArgumentException("quota " + quota + " of owner '" + name + "' must be >= 1");
        }
        control.lock();
        try
        {
            final PasidOwner owner = owners.open(name, quota);
            revokeDue();
            return owner;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /** Opens a standalone owner without a quota. */
    public PasidOwner openOwner(final String name)
    {
        return openOwner(name, Integer.MAX_VALUE);
    }

    /**
     * Allocates a standalone PASID for {@code owner}, below {@code 2^pasidBits}.
     *
     * @return its handle (names the PASID; the owner object authorises calls on it).
     * @throws CapabilityException for a closed or foreign owner.
     * @throws IllegalArgumentException for a full quota or a bad width.
     * @throws IdsExhaustedException if no PASID is free.
     */
    public long allocate(final PasidOwner owner, final int pasidBits)
    {
        if (pasidBits < 1 || pasidBits > 20)
        {
            throw new IllegalArgumentException("PASID width " + pasidBits + " bits must be in [1, 20]");
        }
        control.lock();
        try
        {
            capabilities.checkOwner(owner);
            final long handle = owners.allocate(owner, pasidBits);
            revokeDue();
            return handle;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /** Allocates a standalone 20-bit PASID for {@code owner}. */
    public long allocate(final PasidOwner owner)
    {
        return allocate(owner, 20);
    }

    /**
     * Frees a standalone PASID: it goes to TEARDOWN; bound drivers get exit events; it is reused only after each
     * unbound (or was revoked) and the grace period passed.
     *
     * @throws CapabilityException for a foreign or closed owner, a forged or stale handle, another owner's PASID.
     */
    public void free(final PasidOwner owner, final long handle)
    {
        control.lock();
        try
        {
            capabilities.checkOwner(owner);
            owners.free(owner, handle, events);
            revokeDue();
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /** Closes an owner: every PASID it holds goes to TEARDOWN (the FD-close model). A second close is refused. */
    public void close(final PasidOwner owner)
    {
        control.lock();
        try
        {
            capabilities.checkOwner(owner);
            owners.close(owner, events);
            revokeDue();
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /**
     * Binds a standalone owner's PASID to a device with the driver's data.
     *
     * @return the bond: the driver's capability to unbind it.
     * @throws CapabilityException for a foreign or closed owner, another owner's PASID, a forged or stale handle, a
     *     device that is not this space's or was removed.
     * @throws IllegalArgumentException for a too narrow device or a bond that exists already.
     */
    public Bond attach(final PasidOwner owner, final long handle, final Device device, final Object drvdata)
    {
        control.lock();
        try
        {
            capabilities.checkOwner(owner);
            capabilities.checkDevice(device);
            final Bond bond = owners.attach(owner, handle, device, drvdata);
            revokeDue();
            return bond;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    // ------------------------------------------------------------------------------------------------ address spaces

    /**
     * Registers address space {@code mm} (a process's mm); the returned object is its holder's capability for
     * {@link #bind}, {@link #bindTo} and {@link #exit}. An id can be open once at a time: until the address space
     * exited and every driver of its PASIDs unbound (or was revoked), a second open is refused.
     *
     * @throws IllegalArgumentException for a negative id.
     * @throws CapabilityException if the id is open already.
     */
    public AddressSpace openAddressSpace(final long mm)
    {
        if (mm < 0)
        {
            throw new IllegalArgumentException("address space id " + mm + " must be >= 0");
        }
        control.lock();
        try
        {
            final AddressSpace opened = addressSpaces.open(mm);
            revokeDue();
            return opened;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /**
     * Binds address space {@code mm} to {@code device}: gives the address space's shared PASID (allocated on its
     * first bind), or with {@link #PRIVATE} an extra PASID of its own, and records the bond with {@code drvdata}.
     *
     * @return the bond: the driver's capability to unbind it ({@link Bond#handle()} names the PASID).
     * @throws CapabilityException for an address space or device that is not this space's, exited or removed.
     * @throws IllegalArgumentException for bad flags, a device narrower than the shared PASID (as Linux's
     *     -EOVERFLOW), a bond that exists already, or a full per-address-space quota.
     * @throws IdsExhaustedException if no PASID is free.
     */
    public Bond bind(final AddressSpace mm, final Device device, final Object drvdata, final int flags)
    {
        if (0 != (flags & ~PRIVATE))
        {
            throw new IllegalArgumentException("bind flags " + flags + " may only contain PRIVATE (" + PRIVATE + ")");
        }
        control.lock();
        try
        {
            capabilities.checkAddressSpace(mm);
            capabilities.checkDevice(device);
            final Bond bond = addressSpaces.bind(mm, device, drvdata, 0 != (flags & PRIVATE));
            revokeDue();
            return bond;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /**
     * Binds one more device to one of {@code mm}'s PASIDs (shared or private), named by its handle: how every device
     * of a process reaches each of its private PASIDs.
     *
     * @return the new bond.
     * @throws CapabilityException for an address space or device that is not this space's (or exited, or removed),
     *     a forged or stale handle, or a PASID that is not {@code mm}'s.
     * @throws IllegalArgumentException for a too narrow device or a bond that exists already.
     */
    public Bond bindTo(final AddressSpace mm, final long handle, final Device device, final Object drvdata)
    {
        control.lock();
        try
        {
            capabilities.checkAddressSpace(mm);
            capabilities.checkDevice(device);
            final Bond bond = addressSpaces.bindTo(mm, handle, device, drvdata);
            revokeDue();
            return bond;
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /**
     * The driver is done with its bond: after an exit this is the driver saying it drained its queues; the PASID is
     * reclaimed once every bond is gone. While the address space lives, a private PASID (or, with
     * {@link SharedPasidLifetime#LAST_UNBIND}, the shared one) whose last bond goes is freed (through the grace
     * period); the shared PASID otherwise stays the address space's until it exits.
     *
     * @throws CapabilityException for a bond of another space, one already unbound (a second unbind) or revoked.
     */
    public void unbind(final Bond bond)
    {
        control.lock();
        try
        {
            capabilities.checkBond(bond);
            teardowns.unbind(bond);
            revokeDue();
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /**
     * Address-space exit: at once every PASID of {@code mm} goes to TEARDOWN (dummy root, faults suppressed) and
     * every bound driver gets an exit event (its listener is called after this returns from the lock, or the event
     * is queued for {@link #pollExitEvents}). Nothing waits for a driver. The {@code mm} object is stale from here;
     * its id can be opened again once every driver of its PASIDs unbound or was revoked.
     *
     * @throws CapabilityException for an address space of another space, or one that already exited.
     */
    public void exit(final AddressSpace mm)
    {
        control.lock();
        try
        {
            capabilities.checkAddressSpace(mm);
            addressSpaces.exit(mm, events);
            revokeDue();
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    // ------------------------------------------------------------------------------------------------ revocation

    /**
     * Revokes every bond still bound {@link #unbindDeadlineNs()} after its PASID's owner went away, and retries the
     * ATC flushes of earlier revocations that did not complete (each may wait its sync timeout). Successful control
     * calls revoke too (but do not retry flushes: a dead IOMMU must not stall every bind); call this (or run it from
     * an agent) to retry, and when the space may sit idle.
     *
     * @return bonds revoked by this call.
     */
    public int revokeOverdue()
    {
        control.lock();
        try
        {
            return teardowns.revokeOverdue(clock.nanoTime(), true, events);
        }
        finally
        {
            unlockAndDeliver();
        }
    }

    /** Whether a revocation is due now (lock-free: volatile reads and the clock; a hint for {@link RevocationAgent}). */
    public boolean revocationDue()
    {
        return teardowns.due(clock.nanoTime());
    }

    /** Whether revocations wait for an ATC flush that has not completed (lock-free read). */
    public boolean revocationFlushesPending()
    {
        return 0 != teardowns.pendingFlushes;
    }

    /**
     * Lists the bonds waiting for their driver's unbind after their PASID's owner went away, oldest first
     * (PASID, device, owner, since when), into the caller's buffer: allocation-free.
     *
     * @return {@code into}.
     */
    public StuckBonds stuckBonds(final StuckBonds into)
    {
        control.lock();
        try
        {
            teardowns.stuckBonds(into);
            return into;
        }
        finally
        {
            control.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ data path

    /**
     * The driver's data of the bond (pasid, device) that exists now, or null (no such bond, or it was made with null
     * data). Wait-free, allocation-free: three dependent loads (the device's directory, leaf, cell), no retry.
     * <p>
     * Linearizes at the load of the device's cell, which always holds the current bond's data: it can never return
     * the data of another bond, of another device, or of a bond already unbound when the call started. During
     * TEARDOWN the bond and its data stay until the driver unbinds; the PASID's next owner can bind it only after
     * every driver unbound and the grace period passed, so a reader inside an {@link #epochDomain()} critical
     * section that got {@code pasid} from one life never sees the next life's data. A caller holding a handle
     * rather than a bare PASID can use {@link #driverDataOf(long, int)}, which also refuses a stale handle.
     */
    public Object driverData(final int pasid, final int requesterId)
    {
        // NOTE: one unsigned check for both ends of [0, 65535].
        if (0 != (requesterId & ~0xFFFF))
        {
            return null;
        }
        final Object[][] directory = (Object[][])DIRECTORIES.getAcquire(drvdataDirectories, requesterId);
        return null == directory ? null : DriverDataCells.unwrap(DriverDataCells.cell(directory, pasid));
    }

    /**
     * The driver's data of the bond (PASID of {@code handle}, device) if the handle is still current (same
     * generation, ACTIVE or TEARDOWN) and the bond exists; null otherwise. A stale handle never gets the data of the
     * PASID's next owner. Wait-free, allocation-free.
     */
    public Object driverDataOf(final long handle, final int requesterId)
    {
        final int pasid = PasidHandle.pasid(handle);
        if (0 != (requesterId & ~0xFFFF) || pasid < allocator.minId() || pasid > allocator.maxId())
        {
            return null;
        }
        final Object[][] directory = (Object[][])DIRECTORIES.getAcquire(drvdataDirectories, requesterId);
        if (null == directory)
        {
            return null;
        }
        final Object cell = DriverDataCells.cell(directory, pasid);
        if (null == cell)
        {
            return null;
        }
        // NOTE: the state word is read after the cell (both acquire). A life's cells are written after its
        // activation (release) and cleared before its retirement, so a cell of life n+1 brings a state word of
        // generation >= n+1 with it, and a cell of life n was current while life n was: no seq window is needed.
        final long stateWord = table.stateWord(pasid);
        final int state = state(stateWord);
        return generation(stateWord) == PasidHandle.generation(handle) &&
            (STATE_ACTIVE == state || STATE_TEARDOWN == state) ? DriverDataCells.unwrap(cell) : null;
    }

    /**
     * The requester ids of every device bound to {@code pasid} (newest bond first), as one consistent snapshot: a copy
     * of the PASID's copy-on-write list. Wait-free, allocation-free.
     *
     * @return how many were written to {@code requesterIdsOut} (at most its length).
     */
    public int bondsOf(final int pasid, final int[] requesterIdsOut)
    {
        if (pasid < allocator.minId() || pasid > allocator.maxId())
        {
            return 0;
        }
        final int[] list = requesterIds.of(pasid);
        final int n = Math.min(list.length, requesterIdsOut.length);
        System.arraycopy(list, 0, requesterIdsOut, 0, n);
        return n;
    }

    /**
     * The shared, immutable copy-on-write list behind {@link #bondsOf} (never write to it): the invalidation fan-out
     * reads it in place. Wait-free, allocation-free; {@link RequesterIdLists#NONE} if none.
     */
    int[] requesterIdsOf(final int pasid)
    {
        return requesterIds.of(pasid);
    }

    /** A consistent copy of one PASID entry (lock-free, allocation-free); false if it was never used. */
    public boolean entry(final int pasid, final PasidEntryView into)
    {
        if (pasid < allocator.minId() || pasid > allocator.maxId())
        {
            throw new IllegalArgumentException("PASID " + pasid + " is outside [" + allocator.minId() + ", " +
                allocator.maxId() + "]");
        }
        return table.snapshot(pasid, into);
    }

    /**
     * A device reports a page fault for {@code pasid} at {@code address}: says who owns it, or that it is
     * suppressed (teardown; counted), or that the PASID is unknown to the device. Lock-free, allocation-free.
     *
     * @return {@code into}.
     */
    public FaultAttribution reportFault(final int requesterId, final int pasid, final long address,
        final FaultAttribution into)
    {
        return faults.report(requesterId, pasid, address, into);
    }

    /**
     * The live PASIDs of address space {@code mm} (shared first, then private). Lock-free, allocation-free.
     *
     * @return how many were written to {@code pasidsOut}.
     */
    public int pasidsOf(final long mm, final int[] pasidsOut)
    {
        return addressSpaces.pasidsOf(mm, pasidsOut);
    }

    // ------------------------------------------------------------------------------------------------ counts

    /** Fills {@code into} with the space's counts (the allocator's by a state-table scan). */
    public PasidSpaceCounts counts(final PasidSpaceCounts into)
    {
        allocator.counts(into.allocator);
        into.activePasids = lives.active;
        into.teardownPasids = lives.teardown;
        into.bonds = bonds.used();
        into.addressSpaces = addressSpaces.size();
        into.owners = owners.size();
        for (final RefusalKind kind : RefusalKind.VALUES)
        {
            into.refusals[kind.ordinal()] = capabilities.refusals(kind);
        }
        into.stuckBonds = teardowns.stuckBonds;
        final long oldest = teardowns.oldestSinceNs;
        into.oldestStuckWaitNs = Teardowns.NONE == oldest ? 0 : Math.max(1, clock.nanoTime() - oldest);
        into.revocations = teardowns.revocations;
        into.pendingRevocationFlushes = teardowns.pendingFlushes;
        into.failedRevocationFlushes = teardowns.failedFlushes;
        into.devicesRemoved = devicesRemoved;
        into.suppressedFaults = faults.suppressed();
        into.exitEvents = exitEvents.get();
        into.tableNativeBytes = table.nativeBytes() + bonds.nativeBytes();
        into.tableLeaves = table.leafCount();
        into.driverDataLeaves = bonds.drvdataLeaves;
        into.driverDataHeapBytes = DriverDataCells.heapBytes(drvdataDirectorySlots, bonds.drvdataLeaves);
        return into;
    }

    // ------------------------------------------------------------------------------------------------ internals

    /** At the end of a successful control call (lock held): revocations whose deadline passed. */
    private void revokeDue()
    {
        final long nowNs = clock.nanoTime();
        if (teardowns.due(nowNs))
        {
            teardowns.revokeOverdue(nowNs, false, events);
        }
    }

    /** Releases the control lock, then delivers the events the call collected (listeners run outside the lock). */
    private void unlockAndDeliver()
    {
        final ExitEvent[] deliver = events.isEmpty() ? null : events.toArray(new ExitEvent[0]);
        events.clear();
        control.unlock();
        if (null == deliver)
        {
            return;
        }
        for (final ExitEvent event : deliver)
        {
            exitEvents.getAndIncrement();
            final ExitListener listener = event.device().listener();
            if (null != listener)
            {
                listener.onExit(event);
            }
            else
            {
                event.device().exitEvents.offer(event);
            }
        }
    }

    /** Builds a {@link PasidSpace}. */
    public static final class Builder
    {
        PasidAllocator allocator;
        int maxPasid = PasidAllocator.DEFAULT_MAX_ID;
        int maxBonds = 1 << 16;
        int addressSpaceQuota = 64;
        long unbindDeadlineNs;
        SharedPasidLifetime sharedPasidLifetime = SharedPasidLifetime.ADDRESS_SPACE;
        DeviceTlbFlush flush;
        NanoClock clock = SystemNanoClock.INSTANCE;
        Path countersDirectory;
        String countersLabel = "pasidkit";

        Builder()
        {
        }

        /** The allocator to use (it must have a grace period). Default: a new one over [1, maxPasid]. */
        public Builder allocator(final PasidAllocator allocator)
        {
            this.allocator = allocator;
            return this;
        }

        /** Highest PASID of the default allocator; default 2^20 - 1. */
        public Builder maxPasid(final int maxPasid)
        {
            if (maxPasid < 1)
            {
                throw new IllegalArgumentException("max PASID " + maxPasid + " must be >= 1");
            }
            this.maxPasid = maxPasid;
            return this;
        }

        /** Bond slots; default 65536. */
        public Builder maxBonds(final int maxBonds)
        {
            BondDescriptor.checkCapacity(maxBonds + 1);
            this.maxBonds = maxBonds + 1;
            return this;
        }

        /** Most PASIDs (shared + private) one address space may hold; default 64. */
        public Builder addressSpaceQuota(final int quota)
        {
            if (quota < 1)
            {
                throw new IllegalArgumentException("address-space quota " + quota + " must be >= 1");
            }
            this.addressSpaceQuota = quota;
            return this;
        }

        /**
         * How long a driver has to unbind after its PASID's owner went away before its bond is revoked; 0 (the
         * default) turns revocation by deadline off.
         */
        public Builder unbindDeadline(final long duration, final TimeUnit unit)
        {
            if (duration < 0)
            {
                throw new IllegalArgumentException("unbind deadline " + duration + " " + unit + " must be >= 0");
            }
            this.unbindDeadlineNs = unit.toNanos(duration);
            return this;
        }

        /** How long an address space keeps its shared PASID; default {@link SharedPasidLifetime#ADDRESS_SPACE}. */
        public Builder sharedPasidLifetime(final SharedPasidLifetime lifetime)
        {
            if (null == lifetime)
            {
                throw new IllegalArgumentException("shared PASID lifetime null must be one of " +
                    java.util.Arrays.toString(SharedPasidLifetime.values()));
            }
            this.sharedPasidLifetime = lifetime;
            return this;
        }

        /**
         * How a revocation invalidates a device's ATC for a PASID and waits for it. Default: the {@link AtcInvalidator}
         * built over the space, if any; else {@link DeviceTlbFlush#NONE} (an ATS device's revocation then stays
         * pending: its PASID is not reused).
         */
        public Builder deviceTlbFlush(final DeviceTlbFlush flush)
        {
            this.flush = flush;
            return this;
        }

        /** The clock of unbind deadlines and stuck-bond times; default {@link SystemNanoClock}. */
        public Builder clock(final NanoClock clock)
        {
            if (null == clock)
            {
                throw new IllegalArgumentException("clock null must be a NanoClock");
            }
            this.clock = clock;
            return this;
        }

        /**
         * Publishes the space's counts ({@link PasidSpaceCounts}, its allocator's included) into a memory-mapped
         * counters file in {@code directory} ({@code <pid>.dat}), which another process reads while this one runs
         * ({@code ./pasidkit stat}), as Aeron's CnC file and AeronStat. A {@link CountersPublisher} copies the counts
         * into the file every 100 ms from its own daemon thread: the hot paths pay nothing (they are not touched);
         * the publisher's thread pays a scan of the allocator's state table per publish. {@link PasidSpace#counters()}
         * gives the publisher (its path, {@code close}). Default: off.
         *
         * @param directory where the file goes, e.g. {@link PasidkitCounters#defaultDirectory()}; created if missing.
         */
        public Builder counters(final Path directory)
        {
            return counters(directory, "pasidkit");
        }

        /** As {@link #counters(Path)}, with the label the file carries (what the process is, US-ASCII, &lt;= 60). */
        public Builder counters(final Path directory, final String label)
        {
            if (null == directory)
            {
                throw new IllegalArgumentException("counters directory null must be a directory path");
            }
            if (null == label || label.isEmpty() || label.length() > 60 ||
                !java.nio.charset.StandardCharsets.US_ASCII.newEncoder().canEncode(label))
            {
                throw new IllegalArgumentException("counters label " + label +
                    " must be 1 to 60 US-ASCII characters");
            }
            this.countersDirectory = directory;
            this.countersLabel = label;
            return this;
        }

        public PasidSpace build()
        {
            return new PasidSpace(this);
        }
    }
}
