package org.pasidkit.tables;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.jctools.maps.NonBlockingHashMapLong;
import org.pasidkit.allocator.AllocatorCounts;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.internal.BondDescriptor;
import org.pasidkit.tables.internal.BondTable;
import org.pasidkit.tables.internal.DriverDataCells;
import org.pasidkit.tables.internal.PasidTable;
import org.pasidkit.tables.internal.RequesterIdLists;
import org.pasidkit.tables.internal.StripedCounter;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * What an IOMMU driver core offers, in one facade: PASIDs for address spaces (bind) and for standalone owners,
 * off-heap PASID tables, bonds with driver data, address-space exit with asynchronous driver notification, reclaim
 * after every driver unbound and the grace period passed, and fault attribution.
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
 *       requester-id list ({@code internal.RequesterIdLists}); control calls inside the
 *       control lock, at the release store that publishes the entry (activate, teardown, retire) or the cell
 *       (bind, unbind).</li>
 *   <li>Publication order of a bind: the bond record, the device's cell, then the PASID's requester-id list and
 *       the entry's bond list; an unbind clears the cell first. So a reader that lists a bond through
 *       {@link #bondsOf} then finds its data, and one that no longer lists it no longer finds it (jcstress:
 *       {@code PasidSpaceTests}).</li>
 *   <li>Index of address spaces: an address space is in it from its first bind until its last PASID is gone
 *       (unbound while it lives, or retired after its exit and every driver's unbind); then its id may be bound
 *       again as a new address space.</li>
 *   <li>Control path (bind, unbind, exit, owners, allocate, free): serialized by one control lock, as Linux
 *       serializes {@code iommu_sva_bind_device}/{@code unbind} on {@code iommu_sva_lock}. It is never taken by the
 *       data path. Exit listeners are called after the lock is released.</li>
 *   <li>Life cycle: ACTIVE -&gt; TEARDOWN (owner gone: dummy root, faults suppressed, drivers notified) -&gt;
 *       RETIRED (every driver unbound; in the allocator's reclaim queue) -&gt; reusable after the epoch grace.
 *       A driver that never unbinds holds exactly that PASID; it shows in {@link #counts}.</li>
 *   <li>Bad input (out-of-range PASID, unknown or foreign owner, stale handle, unbound device, second unbind, bind
 *       after exit, quota overflow, narrow device) throws an exception naming the value and the rule and changes
 *       nothing; foreign-owner attempts are also counted.</li>
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
    private final BondTable bonds;
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
    private final NonBlockingHashMapLong<AddressSpace> spaces = new NonBlockingHashMapLong<>();
    private final NonBlockingHashMapLong<PasidOwner> owners = new NonBlockingHashMapLong<>();
    /** Control path only (bind, unbind, exit, owners), as Linux's iommu_sva_lock; the data path never takes it. */
    private final ReentrantLock control = new ReentrantLock();
    private final int addressSpaceQuota;
    private final AtomicLong foreignRefusals = new AtomicLong();
    /** Fault path: striped, so that faults on different PASIDs from different threads share no counter line. */
    private final StripedCounter suppressedFaults = new StripedCounter(StripedCounter.defaultStripes());
    private final AtomicLong exitEvents = new AtomicLong();
    /** Scratch entry copy of the control path (guarded by the control lock): bind/unbind allocate nothing. */
    private final PasidEntryView writerView = new PasidEntryView();
    private long nextOwnerId = 1;
    /** Driver-data leaves allocated over every device (control lock; read by counts). */
    private volatile int drvdataLeaves;
    /** Driver-data directory references over every device (control lock; read by counts). */
    private volatile long drvdataDirectorySlots;
    private volatile int activePasids;
    private volatile int teardownPasids;

    PasidSpace(final Builder builder)
    {
        this.allocator = null != builder.allocator ? builder.allocator :
            PasidAllocator.builder().range(1, builder.maxPasid).build();
        if (!allocator.hasGracePeriod())
        {
            throw new IllegalArgumentException("PasidSpace needs an allocator with a grace period (not immediateReuse)");
        }
        this.table = new PasidTable(allocator.maxId());
        this.bonds = new BondTable(builder.maxBonds);
        this.requesterIds = new RequesterIdLists(allocator.maxId());
        this.addressSpaceQuota = builder.addressSpaceQuota;
    }

    public static Builder builder()
    {
        return new Builder();
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

    // ------------------------------------------------------------------------------------------------ devices

    /**
     * Registers a device.
     *
     * @param requesterId bus:dev.fn, 0..65535.
     * @param pasidBits   the device's PASID width, 1..20 (the PCIe maximum).
     * @param ats         whether it has an ATC.
     * @param listener    called on exit events; null to poll them with {@link #pollExitEvents}.
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
                throw new IllegalArgumentException("requester id " + requesterId + " is already registered");
            }
            final Device device = new Device(requesterId, pasidBits, ats, listener, allocator.maxId());
            drvdataDirectorySlots += device.drvdata.length;
            // NOTE: release, read by device() via getAcquire: the device and its directory are seen whole.
            DEVICES.setRelease(devices, requesterId, device);
            // NOTE: release, read by driverData() via getAcquire.
            DIRECTORIES.setRelease(drvdataDirectories, requesterId, device.drvdata);
            return device;
        }
        finally
        {
            control.unlock();
        }
    }

    /** The device registered at {@code requesterId}, or null. */
    public Device device(final int requesterId)
    {
        return requesterId < 0 || requesterId > 0xFFFF ? null : (Device)DEVICES.getAcquire(devices, requesterId);
    }

    /**
     * Drains up to {@code limit} exit events of a device without a listener.
     *
     * @return events handed to {@code handler}.
     */
    public int pollExitEvents(final Device device, final ExitListener handler, final int limit)
    {
        checkDevice(device);
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
     * Opens a standalone owner (FD-lifetime model) that may hold at most {@code quota} PASIDs at once.
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
            final PasidOwner owner = new PasidOwner(this, nextOwnerId++, name, quota);
            owners.put(owner.id, owner);
            return owner;
        }
        finally
        {
            control.unlock();
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
     * @return its handle.
     * @throws IllegalArgumentException for a closed or foreign owner, a full quota or a bad width.
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
            checkOwner(owner);
            if (owner.pasids.size() >= owner.quota)
            {
                throw new IllegalArgumentException(owner + " holds " + owner.pasids.size() +
                    " PASIDs: its quota of " + owner.quota + " is full");
            }
            final int pasid = allocatePasid(pasidBits);
            final int generation = table.activate(pasid, owner.key(), NO_ROOT, FLAG_FAULTS_ON | FLAG_STANDALONE);
            owner.pasids.add(pasid);
            activePasids++;
            return PasidHandle.of(pasid, generation);
        }
        finally
        {
            control.unlock();
        }
    }

    /** Allocates a standalone 20-bit PASID for {@code owner}. */
    public long allocate(final PasidOwner owner)
    {
        return allocate(owner, 20);
    }

    /**
     * Frees a standalone PASID: it goes to TEARDOWN; bound drivers get exit events; it is reused only after each
     * unbound and the grace period passed.
     */
    public void free(final PasidOwner owner, final long handle)
    {
        final List<ExitEvent> notify;
        control.lock();
        try
        {
            checkOwner(owner);
            final int pasid = checkHandle(handle, STATE_ACTIVE);
            checkOwns(owner, pasid, handle);
            owner.pasids.remove(pasid);
            notify = teardown(pasid, handle, -1, null);
        }
        finally
        {
            control.unlock();
        }
        deliver(notify);
    }

    /** Closes an owner: every PASID it holds goes to TEARDOWN (the FD-close model). A second close is refused. */
    public void close(final PasidOwner owner)
    {
        final List<ExitEvent> notify = new ArrayList<>();
        control.lock();
        try
        {
            checkOwner(owner);
            owner.closed = true;
            owners.remove(owner.id);
            for (final int pasid : owner.pasids.toArray(new Integer[0]))
            {
                final long handle = PasidHandle.of(pasid, generation(table.stateWord(pasid)));
                teardown(pasid, handle, -1, notify);
            }
            owner.pasids.clear();
        }
        finally
        {
            control.unlock();
        }
        deliver(notify);
    }

    /**
     * Binds a standalone owner's PASID to a device with the driver's data.
     *
     * @throws IllegalArgumentException for a foreign or closed owner, a stale handle, an unregistered or too narrow
     *     device, or a bond that exists already.
     */
    public void attach(final PasidOwner owner, final long handle, final Device device, final Object drvdata)
    {
        control.lock();
        try
        {
            checkOwner(owner);
            checkDevice(device);
            final int pasid = checkHandle(handle, STATE_ACTIVE);
            checkOwns(owner, pasid, handle);
            addBond(pasid, device, drvdata);
        }
        finally
        {
            control.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ bind

    /**
     * Binds address space {@code mm} to {@code device}: gives the address space's shared PASID (allocated on its
     * first bind), or with {@link #PRIVATE} an extra PASID of its own, and records the bond with {@code drvdata}.
     *
     * @return the PASID's handle.
     * @throws IllegalArgumentException for a negative mm, an address space that exited, an unregistered device, a
     *     device narrower than the shared PASID (as Linux's -EOVERFLOW), a bond that exists already, or a full
     *     per-address-space quota.
     * @throws IdsExhaustedException if no PASID is free.
     */
    public long bind(final long mm, final Device device, final Object drvdata, final int flags)
    {
        if (mm < 0)
        {
            throw new IllegalArgumentException("address space id " + mm + " must be >= 0");
        }
        if (0 != (flags & ~PRIVATE))
        {
            throw new IllegalArgumentException("bind flags " + flags + " may only contain PRIVATE (" + PRIVATE + ")");
        }
        control.lock();
        try
        {
            checkDevice(device);
            AddressSpace space = spaces.get(mm);
            if (null != space && space.exited)
            {
                throw new IllegalArgumentException("address space " + mm + " has exited: bind after exit");
            }
            final boolean isPrivate = 0 != (flags & PRIVATE);
            int pasid = isPrivate || null == space ? 0 : space.sharedPasid;
            if (0 != pasid)
            {
                if (pasid > device.maxPasid())
                {
                    throw new IllegalArgumentException("device " + device + " supports " + device.pasidBits() +
                        "-bit PASIDs but address space " + mm + " already uses PASID " + pasid + " (EOVERFLOW)");
                }
                if (device.isBound(pasid))
                {
                    throw new IllegalArgumentException("device " + device + " is already bound to address space " +
                        mm + " (PASID " + pasid + ")");
                }
                addBond(pasid, device, drvdata);
                return PasidHandle.of(pasid, generation(table.stateWord(pasid)));
            }
            if (null != space && space.pasids.length >= addressSpaceQuota)
            {
                throw new IllegalArgumentException("address space " + mm + " holds " + space.pasids.length +
                    " PASIDs: its quota of " + addressSpaceQuota + " is full");
            }
            if (bonds.used() >= bonds.capacity() - 1)
            {
                throw new IllegalArgumentException("bond table is full (" + (bonds.capacity() - 1) + " bonds)");
            }
            pasid = allocatePasid(device.pasidBits());
            if (null == space)
            {
                space = new AddressSpace(mm);
                spaces.put(mm, space);
            }
            final int generation = table.activate(pasid, mm, mm, FLAG_FAULTS_ON | (isPrivate ? FLAG_PRIVATE : 0));
            activePasids++;
            space.add(pasid);
            if (!isPrivate)
            {
                space.sharedPasid = pasid;
            }
            addBond(pasid, device, drvdata);
            return PasidHandle.of(pasid, generation);
        }
        finally
        {
            control.unlock();
        }
    }

    /**
     * Binds one more device to an address space's existing PASID (shared or private) given by its handle: how
     * every device of a process reaches each of its private PASIDs.
     *
     * @throws IllegalArgumentException for a stale handle, a standalone or torn-down PASID, an unregistered or too
     *     narrow device, or a bond that exists already.
     */
    public void bindTo(final long handle, final Device device, final Object drvdata)
    {
        control.lock();
        try
        {
            checkDevice(device);
            final int pasid = checkHandle(handle, STATE_ACTIVE);
            table.snapshot(pasid, writerView);
            if (0 != (writerView.flags() & FLAG_STANDALONE))
            {
                throw new IllegalArgumentException(PasidHandle.toString(handle) +
                    " is a standalone PASID: attach it through its owner");
            }
            addBond(pasid, device, drvdata);
        }
        finally
        {
            control.unlock();
        }
    }

    /**
     * Removes the bond of {@code device} with the PASID of {@code handle}. After an exit this is the driver saying
     * it is done; the PASID is reclaimed once every driver said so. An address space's PASID whose last bond goes
     * while the address space lives is freed (through the grace period). When an address space's last PASID goes
     * (its last unbind, or after its exit the last driver's unbind) the address space is forgotten: its id may then
     * be bound again as a new address space (as an mm pointer is reused after the mm is freed).
     *
     * @throws IllegalArgumentException for a stale handle, an out-of-range PASID, an unregistered device or a device
     *     that is not bound (including a second unbind).
     */
    public void unbind(final long handle, final Device device)
    {
        control.lock();
        try
        {
            checkDevice(device);
            final int pasid = checkHandle(handle, -1);
            final int state = state(table.stateWord(pasid));
            if (!device.isBound(pasid) || (STATE_ACTIVE != state && STATE_TEARDOWN != state))
            {
                throw new IllegalArgumentException("device " + device + " is not bound to " +
                    PasidHandle.toString(handle) + " (a second unbind, or never bound)");
            }
            final int left = removeBond(pasid, device);
            if (0 != left && STATE_ACTIVE == state)
            {
                return;
            }
            final PasidEntryView view = writerView;
            table.snapshot(pasid, view);
            final boolean standalone = 0 != (view.flags() & FLAG_STANDALONE);
            if (STATE_TEARDOWN == state)
            {
                allocator.release(pasid);
                if (0 == left)
                {
                    table.retire(pasid, epochDomain().epoch());
                    teardownPasids--;
                    if (!standalone)
                    {
                        final AddressSpace space = spaces.get(view.owner());
                        if (0 == --space.tearingDown)
                        {
                            // NOTE: the exited address space's last PASID is retired: forget it.
                            spaces.remove(space.mm);
                        }
                    }
                }
            }
            else if (!standalone)
            {
                final AddressSpace space = spaces.get(view.owner());
                space.remove(pasid);
                if (space.sharedPasid == pasid)
                {
                    space.sharedPasid = 0;
                }
                if (0 == space.pasids.length)
                {
                    // NOTE: a live address space with no PASID left is forgotten; a later bind starts it afresh.
                    spaces.remove(space.mm);
                }
                table.retire(pasid, epochDomain().epoch());
                activePasids--;
                allocator.free(pasid);
            }
        }
        finally
        {
            control.unlock();
        }
    }

    /**
     * Address-space exit: at once every PASID of {@code mm} goes to TEARDOWN (dummy root, faults suppressed) and
     * every bound driver gets an exit event (its listener is called after this returns from the lock, or the event
     * is queued for {@link #pollExitEvents}). Nothing waits for a driver. Until the last driver unbound, a bind to
     * {@code mm} is refused (bind after exit); after that {@code mm} is forgotten.
     *
     * @throws IllegalArgumentException if {@code mm} holds no PASID (never bound, or every PASID of it is gone) or
     *     already exited.
     */
    public void exit(final long mm)
    {
        final List<ExitEvent> notify = new ArrayList<>();
        control.lock();
        try
        {
            final AddressSpace space = spaces.get(mm);
            if (null == space || space.exited)
            {
                throw new IllegalArgumentException("address space " + mm + (null == space ?
                    " holds no PASID (never bound a device, or every PASID of it is gone)" : " has already exited"));
            }
            space.exited = true;
            for (final int pasid : space.pasids)
            {
                teardown(pasid, PasidHandle.of(pasid, generation(table.stateWord(pasid))), mm, notify);
                if (STATE_TEARDOWN == state(table.stateWord(pasid)))
                {
                    space.tearingDown++;
                }
            }
            space.sharedPasid = 0;
            space.pasids = EMPTY;
            if (0 == space.tearingDown)
            {
                spaces.remove(mm);
            }
        }
        finally
        {
            control.unlock();
        }
        deliver(notify);
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

    /**
     * The live PASIDs of address space {@code mm} (shared first, then private). Lock-free, allocation-free.
     *
     * @return how many were written to {@code pasidsOut}.
     */
    public int pasidsOf(final long mm, final int[] pasidsOut)
    {
        final AddressSpace space = spaces.get(mm);
        if (null == space)
        {
            return 0;
        }
        final int[] pasids = space.pasids;
        final int n = Math.min(pasids.length, pasidsOut.length);
        System.arraycopy(pasids, 0, pasidsOut, 0, n);
        return n;
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
        final Device device = device(requesterId);
        if (null == device || pasid < allocator.minId() || pasid > allocator.maxId())
        {
            into.set(FaultAttribution.Kind.UNKNOWN_PASID, requesterId, pasid, address);
            return into;
        }
        while (true)
        {
            final long seq = table.readBegin(pasid);
            if (seq < 0)
            {
                into.set(FaultAttribution.Kind.UNKNOWN_PASID, requesterId, pasid, address);
                return into;
            }
            final long stateWord = table.stateWordPlain(pasid);
            final int state = state(stateWord);
            final long owner = table.owner(pasid);
            final long root = table.root(pasid);
            // NOTE: the cell is read inside the entry's seq window. A life's cells are published after its
            // activation, and cleared by unbinds that follow any teardown; both are entry writes. So a cell of the
            // next life, or one cleared after the teardown, comes with a changed seq (the cell's acquire load sees
            // every store before it): a validated read saw the cell and the entry at one instant of one life.
            final Object cell = DriverDataCells.cell(device.drvdata, pasid);
            if (!table.readValidate(pasid, seq))
            {
                Thread.onSpinWait();
                continue;
            }
            if (STATE_TEARDOWN == state)
            {
                table.countSuppressedFault(pasid);
                suppressedFaults.increment();
                into.set(FaultAttribution.Kind.SUPPRESSED, requesterId, pasid, address);
                into.generation = generation(stateWord);
                return into;
            }
            if (STATE_ACTIVE != state)
            {
                into.set(FaultAttribution.Kind.UNKNOWN_PASID, requesterId, pasid, address);
                return into;
            }
            if (null == cell)
            {
                // NOTE: the cell, not the data: a bond made with null data is bound (NULL_DRVDATA).
                into.set(FaultAttribution.Kind.NOT_BOUND_TO_DEVICE, requesterId, pasid, address);
                return into;
            }
            into.set(FaultAttribution.Kind.ATTRIBUTED, requesterId, pasid, address);
            into.owner = owner;
            into.addressSpace = root >= 0 ? root : -1;
            into.generation = generation(stateWord);
            into.driverData = DriverDataCells.unwrap(cell);
            return into;
        }
    }

    // ------------------------------------------------------------------------------------------------ counts

    /** Fills {@code into} with the space's counts (the allocator's by a state-table scan). */
    public PasidSpaceCounts counts(final PasidSpaceCounts into)
    {
        allocator.counts(into.allocator);
        into.activePasids = activePasids;
        into.teardownPasids = teardownPasids;
        into.bonds = bonds.used();
        into.addressSpaces = spaces.size();
        into.owners = owners.size();
        into.foreignOwnerRefusals = foreignRefusals.get();
        into.suppressedFaults = suppressedFaults.sum();
        into.exitEvents = exitEvents.get();
        into.tableNativeBytes = table.nativeBytes() + bonds.nativeBytes();
        into.tableLeaves = table.leafCount();
        into.driverDataLeaves = drvdataLeaves;
        into.driverDataHeapBytes = DriverDataCells.heapBytes(drvdataDirectorySlots, drvdataLeaves);
        return into;
    }

    // ------------------------------------------------------------------------------------------------ internals

    private int allocatePasid(final int pasidBits)
    {
        final int hi = (int)Math.min(allocator.maxId(), (1L << pasidBits) - 1);
        if (hi < allocator.minId())
        {
            throw new IllegalArgumentException(pasidBits + "-bit PASIDs cannot reach the allocator's range [" +
                allocator.minId() + ", " + allocator.maxId() + "]");
        }
        final int pasid = hi == allocator.maxId() ? allocator.allocate() : allocator.allocate(allocator.minId(), hi);
        if (pasid <= 0)
        {
            throw new IdsExhaustedException("no free PASID in [" + allocator.minId() + ", " + hi + "]" +
                (IdAllocator.ALL_IN_GRACE == pasid ? ": every PASID not in use is waiting out its grace period" : ""),
                IdAllocator.ALL_IN_GRACE == pasid);
        }
        return pasid;
    }

    private void addBond(final int pasid, final Device device, final Object drvdata)
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
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        final int slot = bonds.add(pasid, device.requesterId(), drvdata, view.firstBond(), device.firstBond);
        if (slot < 0)
        {
            throw new IllegalArgumentException("bond table is full (" + (bonds.capacity() - 1) + " bonds)");
        }
        bonds.prevOfDevice(slot, 0);
        if (0 != device.firstBond)
        {
            bonds.prevOfDevice(device.firstBond, slot);
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
    }

    /** Unlinks and frees the bond (pasid, device), which exists; returns the bonds the PASID has left. */
    private int removeBond(final int pasid, final Device device)
    {
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        final long key = BondDescriptor.key(pasid, device.requesterId());
        int prev = 0;
        int slot = view.firstBond();
        while (0 != slot && bonds.key(slot) != key)
        {
            prev = slot;
            slot = bonds.nextOfPasid(slot);
        }
        if (0 == slot)
        {
            throw new IllegalStateException("bond (PASID " + pasid + ", device " + device +
                ") is in the device's index but not in the PASID's bond list: tables are corrupt");
        }
        // NOTE: the cell first, the entry's bond list after: a reader that no longer finds the bond by bondsOf
        // (the entry, acquire) no longer finds its data either.
        device.clearDrvdata(pasid);
        // NOTE: after the cell is cleared (release store of the shorter list, read by bondsOf's acquire).
        requesterIds.remove(pasid, device.requesterId());
        int first = view.firstBond();
        if (0 == prev)
        {
            first = bonds.nextOfPasid(slot);
        }
        else
        {
            bonds.nextOfPasid(prev, bonds.nextOfPasid(slot));
        }
        // NOTE: O(1) unlink from the device's list through the writer-only prev pointers (the stress tool's slow
        // drivers showed the former walk, O(bonds of the device) under the control lock, stalling every binder).
        final int prevOfDevice = bonds.prevOfDevice(slot);
        final int nextOfDevice = bonds.nextOfDevice(slot);
        if (0 == prevOfDevice)
        {
            device.firstBond = nextOfDevice;
        }
        else
        {
            bonds.nextOfDevice(prevOfDevice, nextOfDevice);
        }
        if (0 != nextOfDevice)
        {
            bonds.prevOfDevice(nextOfDevice, prevOfDevice);
        }
        device.bondCount--;
        table.bonds(pasid, view.bondCount() - 1, first);
        bonds.remove(slot);
        return view.bondCount() - 1;
    }

    /** TEARDOWN of one ACTIVE PASID; collects the exit events. Returns the list it added to. */
    private List<ExitEvent> teardown(final int pasid, final long handle, final long mm, final List<ExitEvent> events)
    {
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        activePasids--;
        final int bondCount = view.bondCount();
        if (0 == bondCount)
        {
            table.retire(pasid, epochDomain().epoch());
            allocator.free(pasid);
            return events;
        }
        table.teardown(pasid);
        teardownPasids++;
        allocator.retire(pasid, bondCount);
        final List<ExitEvent> out = null == events ? new ArrayList<>(bondCount) : events;
        for (int slot = view.firstBond(); 0 != slot; slot = bonds.nextOfPasid(slot))
        {
            final Device device = device((int)(bonds.key(slot) & 0xFFFF));
            bonds.flags(slot, bonds.flags(slot) | BondDescriptor.FLAG_EXIT_NOTIFIED);
            out.add(new ExitEvent(device, handle, mm, bonds.drvdataOf(slot)));
        }
        return out;
    }

    private void deliver(final List<ExitEvent> events)
    {
        if (null == events)
        {
            return;
        }
        for (final ExitEvent event : events)
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

    private void checkOwner(final PasidOwner owner)
    {
        if (null == owner || owner.space != this)
        {
            foreignRefusals.getAndIncrement();
            throw new IllegalArgumentException(owner + " does not belong to this PasidSpace");
        }
        if (owner.closed)
        {
            throw new IllegalArgumentException(owner + " is closed");
        }
    }

    private void checkOwns(final PasidOwner owner, final int pasid, final long handle)
    {
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        if (view.owner() != owner.key())
        {
            foreignRefusals.getAndIncrement();
            throw new IllegalArgumentException(owner + " does not own " + PasidHandle.toString(handle) +
                " (owner key " + view.owner() + "): refused");
        }
    }

    private void checkDevice(final Device device)
    {
        if (null == device || device(device.requesterId()) != device)
        {
            throw new IllegalArgumentException("device " + device + " is not registered with this PasidSpace");
        }
    }

    /** Checks range and generation (and state if {@code state >= 0}); returns the PASID. */
    private int checkHandle(final long handle, final int state)
    {
        final int pasid = PasidHandle.pasid(handle);
        if (pasid < allocator.minId() || pasid > allocator.maxId())
        {
            throw new IllegalArgumentException("PASID " + pasid + " is outside [" + allocator.minId() + ", " +
                allocator.maxId() + "]");
        }
        final long stateWord = table.stateWord(pasid);
        if (generation(stateWord) != PasidHandle.generation(handle))
        {
            throw new IllegalArgumentException("stale handle: " + PasidHandle.toString(handle) +
                " but the PASID is now at generation " + generation(stateWord));
        }
        if (state >= 0 && state(stateWord) != state)
        {
            throw new IllegalArgumentException(PasidHandle.toString(handle) + " is " +
                stateName(state(stateWord)) + ", not " + stateName(state));
        }
        return pasid;
    }

    private static final int[] EMPTY = new int[0];

    /**
     * One address space: its PASIDs (copy-on-write, read lock-free by pasidsOf). In the index from its first bind
     * until its last PASID is gone (unbound while it lives, or retired after its exit).
     */
    private static final class AddressSpace
    {
        final long mm;
        int sharedPasid;
        volatile int[] pasids = EMPTY;
        boolean exited;
        /** After the exit: its PASIDs still in TEARDOWN (waiting for drivers); at 0 the address space is forgotten. */
        int tearingDown;

        AddressSpace(final long mm)
        {
            this.mm = mm;
        }

        void add(final int pasid)
        {
            final int[] next = Arrays.copyOf(pasids, pasids.length + 1);
            next[next.length - 1] = pasid;
            pasids = next;
        }

        void remove(final int pasid)
        {
            final int[] current = pasids;
            final int[] next = new int[current.length - 1];
            int n = 0;
            for (final int p : current)
            {
                if (p != pasid)
                {
                    next[n++] = p;
                }
            }
            pasids = next;
        }

        @Override
        public String toString()
        {
            return "mm " + mm;
        }
    }

    /** Builds a {@link PasidSpace}. */
    public static final class Builder
    {
        PasidAllocator allocator;
        int maxPasid = PasidAllocator.DEFAULT_MAX_ID;
        int maxBonds = 1 << 16;
        int addressSpaceQuota = 64;

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

        public PasidSpace build()
        {
            return new PasidSpace(this);
        }
    }
}
