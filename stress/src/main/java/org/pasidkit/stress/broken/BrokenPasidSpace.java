package org.pasidkit.stress.broken;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import org.jctools.maps.NonBlockingHashMapLong;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.PasidHandle;
import org.pasidkit.tables.internal.BondDescriptor;
import org.pasidkit.tables.internal.BondTable;
import org.pasidkit.tables.PasidEntryView;
import org.pasidkit.tables.internal.PasidTable;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * BROKEN on purpose: a copy of {@code org.pasidkit.tables.PasidSpace}'s address-space paths (bind shared and
 * private, unbind, exit, driverData, bondsOf, pasidsOf, entry, reportFault) over the production
 * {@link PasidAllocator}, {@link PasidTable} and {@link BondTable}, with the one step named by its {@link Bug}
 * removed. Reduced: no standalone owners, no quotas other than the address-space one, no counts; devices are
 * {@link BrokenDevice} copies (the production {@code Device} has package-private members).
 */
final class BrokenPasidSpace
{
    /** Which step is removed. */
    enum Bug
    {
        /** bind: "bind after exit" is checked before the control lock is taken (check, then act under the lock). */
        BIND_EXIT_CHECK_OUTSIDE_LOCK,
        /** exit: reads the address space's PASID list (copy-on-write, lock-free) before taking the control lock. */
        EXIT_READS_PASIDS_OUTSIDE_LOCK,
        /** unbind after exit: releases the PASID to the allocator before the bond is removed (production: after). */
        RELEASE_BEFORE_BOND_REMOVED,
        /** reportFault: reads the entry and the bond without validating the entry's sequence word afterwards. */
        FAULT_WITHOUT_VALIDATION,
        /**
         * The space's allocator is {@link BrokenPasidAllocator} with {@link AllocatorBug#ONE_EPOCH_GRACE}: a PASID
         * is reused one epoch after its retirement instead of two. The space's own code is the production one.
         */
        ALLOCATOR_ONE_EPOCH_GRACE,
        /**
         * reportFault: decides NOT_BOUND_TO_DEVICE from the bond's data object (null) instead of from the bond's
         * presence; production reads the device's cell, which holds NULL_DRVDATA for a bond made with null data.
         */
        FAULT_NULL_DATA_AS_NOT_BOUND
    }

    /** Fault kinds, numbered as the jcstress tests print {@code FaultAttribution.Kind} (ordinal + 1). */
    static final int ATTRIBUTED = 1;
    static final int SUPPRESSED = 2;
    static final int UNKNOWN_PASID = 3;
    static final int NOT_BOUND_TO_DEVICE = 4;

    static final int PRIVATE = 1;

    private final Bug bug;
    private final Ids allocator;
    private final PasidTable table;
    private final BondTable bonds;
    private final BrokenDevice[] devices = new BrokenDevice[1 << 16];
    private final NonBlockingHashMapLong<AddressSpace> spaces = new NonBlockingHashMapLong<>();
    private final ReentrantLock control = new ReentrantLock();
    private final int addressSpaceQuota = 64;
    private final PasidEntryView writerView = new PasidEntryView();

    /** Like {@code PasidSpaceTests.tinySpace}: PASIDs [1, maxPasid], 8 bond slots. */
    BrokenPasidSpace(final int maxPasid, final Bug bug)
    {
        this.bug = bug;
        // PasidSpace's default allocator: PasidAllocator.builder().range(1, maxPasid).build(); the broken copy with
        // the same defaults (stripes = 2 on the 2-CPU build machine, rings of 256, refills of 32, 256 readers).
        this.allocator = Bug.ALLOCATOR_ONE_EPOCH_GRACE == bug ?
            new BrokenIds(new BrokenPasidAllocator(maxPasid, 2, 256, 32, 256, AllocatorBug.ONE_EPOCH_GRACE)) :
            new ProductionIds(PasidAllocator.builder().range(1, maxPasid).build());
        this.table = new PasidTable(allocator.maxId());
        this.bonds = new BondTable(8 + 1);
    }

    Ids allocator()
    {
        return allocator;
    }

    EpochDomain epochDomain()
    {
        return allocator.epochDomain();
    }

    BrokenDevice addDevice(final int requesterId, final int pasidBits, final boolean listens)
    {
        control.lock();
        try
        {
            final BrokenDevice device = new BrokenDevice(requesterId, pasidBits, listens, allocator.maxId());
            devices[requesterId] = device;
            return device;
        }
        finally
        {
            control.unlock();
        }
    }

    private BrokenDevice device(final int requesterId)
    {
        return requesterId < 0 || requesterId > 0xFFFF ? null : devices[requesterId];
    }

    int pollExitEvents(final BrokenDevice device, final int limit)
    {
        int n = 0;
        while (n < limit && null != device.exitEvents.relaxedPoll())
        {
            n++;
        }
        return n;
    }

    long bind(final long mm, final BrokenDevice device, final Object drvdata, final int flags)
    {
        if (Bug.BIND_EXIT_CHECK_OUTSIDE_LOCK == bug)
        {
            // BROKEN: production checks this under the control lock, with the rest of the bind.
            final AddressSpace space = spaces.get(mm);
            if (null != space && space.exited)
            {
                throw new IllegalArgumentException("address space " + mm + " has exited: bind after exit");
            }
        }
        control.lock();
        try
        {
            AddressSpace space = spaces.get(mm);
            if (Bug.BIND_EXIT_CHECK_OUTSIDE_LOCK != bug && null != space && space.exited)
            {
                throw new IllegalArgumentException("address space " + mm + " has exited: bind after exit");
            }
            final boolean isPrivate = 0 != (flags & PRIVATE);
            int pasid = isPrivate || null == space ? 0 : space.sharedPasid;
            if (0 != pasid)
            {
                if (0 != device.slotOf(pasid))
                {
                    throw new IllegalArgumentException("device " + device + " is already bound to address space " +
                        mm + " (PASID " + pasid + ")");
                }
                addBond(pasid, device, drvdata);
                return PasidHandle.of(pasid, generation(table.stateWord(pasid)));
            }
            if (null != space && space.pasids.length >= addressSpaceQuota)
            {
                throw new IllegalArgumentException("address space " + mm + " quota full");
            }
            if (bonds.used() >= bonds.capacity() - 1)
            {
                throw new IllegalArgumentException("bond table is full (" + (bonds.capacity() - 1) + " bonds)");
            }
            pasid = allocatePasid(device.pasidBits);
            if (null == space)
            {
                space = new AddressSpace();
                spaces.put(mm, space);
            }
            final int generation = table.activate(pasid, mm, mm, FLAG_FAULTS_ON | (isPrivate ? FLAG_PRIVATE : 0));
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

    void unbind(final long handle, final BrokenDevice device)
    {
        control.lock();
        try
        {
            final int pasid = checkHandle(handle);
            final int state = state(table.stateWord(pasid));
            final int slot = device.slotOf(pasid);
            if (0 == slot || (STATE_ACTIVE != state && STATE_TEARDOWN != state))
            {
                throw new IllegalArgumentException("device " + device + " is not bound to " +
                    PasidHandle.toString(handle) + " (a second unbind, or never bound)");
            }
            if (Bug.RELEASE_BEFORE_BOND_REMOVED == bug && STATE_TEARDOWN == state)
            {
                // BROKEN: production releases the PASID only after removeBond below.
                allocator.release(pasid);
            }
            final int left = removeBond(pasid, device, slot);
            if (STATE_TEARDOWN == state)
            {
                if (Bug.RELEASE_BEFORE_BOND_REMOVED != bug)
                {
                    allocator.release(pasid);
                }
                if (0 == left)
                {
                    table.retire(pasid, epochDomain().epoch());
                }
            }
            else if (0 == left)
            {
                final PasidEntryView view = writerView;
                table.snapshot(pasid, view);
                if (0 == (view.flags() & FLAG_STANDALONE))
                {
                    final AddressSpace space = spaces.get(view.owner());
                    space.remove(pasid);
                    if (space.sharedPasid == pasid)
                    {
                        space.sharedPasid = 0;
                    }
                    table.retire(pasid, epochDomain().epoch());
                    allocator.free(pasid);
                }
            }
        }
        finally
        {
            control.unlock();
        }
    }

    void exit(final long mm)
    {
        final List<ExitEvent> notify = new ArrayList<>();
        // BROKEN under EXIT_READS_PASIDS_OUTSIDE_LOCK: production reads space.pasids under the control lock.
        final AddressSpace early = Bug.EXIT_READS_PASIDS_OUTSIDE_LOCK == bug ? spaces.get(mm) : null;
        final int[] earlyPasids = null == early ? null : early.pasids;
        control.lock();
        try
        {
            final AddressSpace space = spaces.get(mm);
            if (null == space || space.exited)
            {
                throw new IllegalArgumentException("address space " + mm +
                    (null == space ? " never bound a device" : " has already exited"));
            }
            space.exited = true;
            final int[] pasids = null != earlyPasids && early == space ? earlyPasids : space.pasids;
            for (final int pasid : pasids)
            {
                teardown(pasid, PasidHandle.of(pasid, generation(table.stateWord(pasid))), mm, notify);
            }
            space.sharedPasid = 0;
            space.pasids = EMPTY;
        }
        finally
        {
            control.unlock();
        }
        deliver(notify);
    }

    Object driverData(final int pasid, final int requesterId)
    {
        final BrokenDevice device = device(requesterId);
        if (null == device)
        {
            return null;
        }
        final int slot = device.slotOf(pasid);
        return 0 == slot ? null : bonds.driverData(slot, BondDescriptor.key(pasid, requesterId));
    }

    int bondsOf(final int pasid, final int[] requesterIdsOut)
    {
        if (pasid < allocator.minId() || pasid > allocator.maxId())
        {
            return 0;
        }
        while (true)
        {
            final long seq = table.readBegin(pasid);
            if (seq < 0)
            {
                return 0;
            }
            int n = 0;
            int slot = table.firstBond(pasid);
            while (0 != slot && n < requesterIdsOut.length)
            {
                requesterIdsOut[n++] = (int)(bonds.key(slot) & 0xFFFF);
                slot = bonds.nextOfPasid(slot);
            }
            if (table.readValidate(pasid, seq))
            {
                return n;
            }
            Thread.onSpinWait();
        }
    }

    int pasidsOf(final long mm, final int[] pasidsOut)
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

    boolean entry(final int pasid, final PasidEntryView into)
    {
        return table.snapshot(pasid, into);
    }

    Fault reportFault(final int requesterId, final int pasid, final Fault into)
    {
        final BrokenDevice device = device(requesterId);
        if (null == device || pasid < allocator.minId() || pasid > allocator.maxId())
        {
            return into.set(UNKNOWN_PASID);
        }
        while (true)
        {
            final long seq = table.readBegin(pasid);
            if (seq < 0)
            {
                return into.set(UNKNOWN_PASID);
            }
            final long stateWord = table.stateWordPlain(pasid);
            final int state = state(stateWord);
            final long owner = table.owner(pasid);
            final long root = table.root(pasid);
            final int slot = device.slotOf(pasid);
            final long key = BondDescriptor.key(pasid, requesterId);
            final Object data = 0 == slot ? null : bonds.driverData(slot, key);
            // NOTE: the bond's presence (production: the cell is not null); a bond's key changes only with an unbind,
            // which also rewrites the entry, so the validation below covers this load too.
            final boolean bound = 0 != slot && bonds.key(slot) == key;
            // BROKEN under FAULT_WITHOUT_VALIDATION: production retries unless the entry's seq is unchanged here.
            if (Bug.FAULT_WITHOUT_VALIDATION != bug && !table.readValidate(pasid, seq))
            {
                Thread.onSpinWait();
                continue;
            }
            if (STATE_TEARDOWN == state)
            {
                table.countSuppressedFault(pasid);
                into.set(SUPPRESSED);
                into.generation = generation(stateWord);
                return into;
            }
            if (STATE_ACTIVE != state)
            {
                return into.set(UNKNOWN_PASID);
            }
            // BROKEN under FAULT_NULL_DATA_AS_NOT_BOUND: production tests the cell (NULL_DRVDATA is bound), not data.
            if (Bug.FAULT_NULL_DATA_AS_NOT_BOUND == bug ? null == data : !bound)
            {
                return into.set(NOT_BOUND_TO_DEVICE);
            }
            into.set(ATTRIBUTED);
            into.owner = owner;
            into.addressSpace = root >= 0 ? root : -1;
            into.generation = generation(stateWord);
            into.driverData = data;
            return into;
        }
    }

    private int allocatePasid(final int pasidBits)
    {
        final int hi = (int)Math.min(allocator.maxId(), (1L << pasidBits) - 1);
        final int pasid = hi == allocator.maxId() ? allocator.allocate() : allocator.allocate(allocator.minId(), hi);
        if (pasid <= 0)
        {
            throw new IdsExhaustedException("no free PASID in [" + allocator.minId() + ", " + hi + "]" +
                (IdAllocator.ALL_IN_GRACE == pasid ? ": every PASID not in use is waiting out its grace period" : ""),
                IdAllocator.ALL_IN_GRACE == pasid);
        }
        return pasid;
    }

    private void addBond(final int pasid, final BrokenDevice device, final Object drvdata)
    {
        if (0 != device.slotOf(pasid))
        {
            throw new IllegalArgumentException("device " + device + " is already bound to PASID " + pasid);
        }
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        final int slot = bonds.add(pasid, device.requesterId, drvdata, view.firstBond(), device.firstBond);
        if (slot < 0)
        {
            throw new IllegalArgumentException("bond table is full (" + (bonds.capacity() - 1) + " bonds)");
        }
        device.firstBond = slot;
        device.bondCount++;
        device.slot(pasid, slot);
        table.bonds(pasid, view.bondCount() + 1, slot);
    }

    private int removeBond(final int pasid, final BrokenDevice device, final int slot)
    {
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        int first = view.firstBond();
        if (first == slot)
        {
            first = bonds.nextOfPasid(slot);
        }
        else
        {
            int prev = first;
            while (bonds.nextOfPasid(prev) != slot)
            {
                prev = bonds.nextOfPasid(prev);
            }
            bonds.nextOfPasid(prev, bonds.nextOfPasid(slot));
        }
        if (device.firstBond == slot)
        {
            device.firstBond = bonds.nextOfDevice(slot);
        }
        else
        {
            int prev = device.firstBond;
            while (bonds.nextOfDevice(prev) != slot)
            {
                prev = bonds.nextOfDevice(prev);
            }
            bonds.nextOfDevice(prev, bonds.nextOfDevice(slot));
        }
        device.bondCount--;
        device.slot(pasid, 0);
        table.bonds(pasid, view.bondCount() - 1, first);
        bonds.remove(slot);
        return view.bondCount() - 1;
    }

    private List<ExitEvent> teardown(final int pasid, final long handle, final long mm, final List<ExitEvent> events)
    {
        final PasidEntryView view = writerView;
        table.snapshot(pasid, view);
        final int bondCount = view.bondCount();
        if (0 == bondCount)
        {
            table.retire(pasid, epochDomain().epoch());
            allocator.free(pasid);
            return events;
        }
        table.teardown(pasid);
        allocator.retire(pasid, bondCount);
        for (int slot = view.firstBond(); 0 != slot; slot = bonds.nextOfPasid(slot))
        {
            final BrokenDevice device = device((int)(bonds.key(slot) & 0xFFFF));
            bonds.flags(slot, bonds.flags(slot) | BondDescriptor.FLAG_EXIT_NOTIFIED);
            events.add(new ExitEvent(device, handle, mm, bonds.drvdataOf(slot)));
        }
        return events;
    }

    private static void deliver(final List<ExitEvent> events)
    {
        for (final ExitEvent event : events)
        {
            if (!event.device.listens)
            {
                event.device.exitEvents.offer(event);
            }
        }
    }

    private int checkHandle(final long handle)
    {
        final int pasid = PasidHandle.pasid(handle);
        if (pasid < allocator.minId() || pasid > allocator.maxId())
        {
            throw new IllegalArgumentException("PASID " + pasid + " is outside the range");
        }
        final long stateWord = table.stateWord(pasid);
        if (generation(stateWord) != PasidHandle.generation(handle))
        {
            throw new IllegalArgumentException("stale handle: " + PasidHandle.toString(handle));
        }
        return pasid;
    }

    private static final int[] EMPTY = new int[0];

    /** The allocator operations PasidSpace uses: the production {@link PasidAllocator} or a broken copy. */
    interface Ids
    {
        int minId();

        int maxId();

        EpochDomain epochDomain();

        int allocate();

        int allocate(int lo, int hi);

        void free(int id);

        void retire(int id, int holders);

        int release(int id);

        int reclaim();
    }

    private static final class ProductionIds implements Ids
    {
        private final PasidAllocator ids;

        ProductionIds(final PasidAllocator ids)
        {
            this.ids = ids;
        }

        @Override
        public int minId()
        {
            return ids.minId();
        }

        @Override
        public int maxId()
        {
            return ids.maxId();
        }

        @Override
        public EpochDomain epochDomain()
        {
            return ids.epochDomain();
        }

        @Override
        public int allocate()
        {
            return ids.allocate();
        }

        @Override
        public int allocate(final int lo, final int hi)
        {
            return ids.allocate(lo, hi);
        }

        @Override
        public void free(final int id)
        {
            ids.free(id);
        }

        @Override
        public void retire(final int id, final int holders)
        {
            ids.retire(id, holders);
        }

        @Override
        public int release(final int id)
        {
            return ids.release(id);
        }

        @Override
        public int reclaim()
        {
            return ids.reclaim();
        }
    }

    private static final class BrokenIds implements Ids
    {
        private final BrokenPasidAllocator ids;

        BrokenIds(final BrokenPasidAllocator ids)
        {
            this.ids = ids;
        }

        @Override
        public int minId()
        {
            return ids.minId();
        }

        @Override
        public int maxId()
        {
            return ids.maxId();
        }

        @Override
        public EpochDomain epochDomain()
        {
            return ids.epochDomain();
        }

        @Override
        public int allocate()
        {
            return ids.allocate();
        }

        @Override
        public int allocate(final int lo, final int hi)
        {
            throw new UnsupportedOperationException("the broken allocator copy has no sub-range allocate");
        }

        @Override
        public void free(final int id)
        {
            ids.free(id);
        }

        @Override
        public void retire(final int id, final int holders)
        {
            ids.retire(id, holders);
        }

        @Override
        public int release(final int id)
        {
            return ids.release(id);
        }

        @Override
        public int reclaim()
        {
            return ids.reclaim();
        }
    }

    /** The production ExitEvent's fields. */
    static final class ExitEvent
    {
        final BrokenDevice device;
        final long handle;
        final long addressSpace;
        final Object driverData;

        ExitEvent(final BrokenDevice device, final long handle, final long addressSpace, final Object driverData)
        {
            this.device = device;
            this.handle = handle;
            this.addressSpace = addressSpace;
            this.driverData = driverData;
        }
    }

    /** The production FaultAttribution's fields (kind as ordinal + 1). */
    static final class Fault
    {
        int kind;
        long owner;
        long addressSpace;
        int generation;
        Object driverData;

        Fault set(final int kind)
        {
            this.kind = kind;
            this.owner = 0;
            this.addressSpace = -1;
            this.generation = 0;
            this.driverData = null;
            return this;
        }
    }

    private static final class AddressSpace
    {
        int sharedPasid;
        volatile int[] pasids = EMPTY;
        boolean exited;

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
    }
}
