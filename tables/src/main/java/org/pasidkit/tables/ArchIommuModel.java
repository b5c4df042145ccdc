package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What the three architecture models share: the command queue (an Agrona buffer the driver side writes and the
 * simulated IOMMU consumes, synchronously, when the driver waits or the queue is full), the page-request queue, the
 * per-(device, PASID) state the simulated IOMMU checks, and the counters.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one thread at a time (see {@link IommuModel}); the "hardware" runs on the caller's thread inside
 *       {@link #hwProcess}.</li>
 *   <li>Progress: every call returns; a wait is satisfied by running the simulated IOMMU to the queue's tail.</li>
 *   <li>Allocation: state arrays grow on a new (device, PASID) pair or PASID; none on the change path after that
 *       (Agrona primitive maps, preallocated arrays), unless the command log is on.</li>
 * </ul>
 */
/*
 * Design notes: the checker's model of the hardware, per (device, PASID) "slot".
 *
 * Hardware may cache a translating entry at any time and fill its IOTLB and the device's ATC from it: whenever the
 * driver's store makes the entry translate (entryStored), the slot becomes ENTRY_CACHED | IOTLB_DIRTY (| DEVTLB_DIRTY
 * with ATS). An entry-cache invalidation (VT-d PASID-cache, SMMUv3 CFGI_CD, AMD-Vi INVALIDATE_IOMMU_PAGES) clears
 * ENTRY_CACHED only if the entry no longer translates in memory when the IOMMU processes it. An IOTLB invalidation of
 * the whole PASID clears IOTLB_DIRTY only once the entry cache is clean. A device-TLB invalidation of the whole PASID,
 * processed while the entry no longer translates, must find the IOMMU unable to refill the ATC: entry cache clean and,
 * where the IOTLB answers translation requests without the entry (VT-d: IOTLB tagged by DID + PASID; AMD-Vi: by
 * DomainID + PASID; not SMMUv3, whose TLB lookup needs the CD's ASID), the IOTLB clean; otherwise it is an ordering
 * violation and the ATC stays dirty. Its completion is the next wait the IOMMU processes (VT-d invalidation wait,
 * CMD_SYNC, COMPLETION_WAIT). A bind of a slot for a new life requires all of it clean and complete, and no page request
 * of an earlier life queued.
 */
abstract class ArchIommuModel implements IommuModel
{
    static final int PAGE_SHIFT = 12;
    static final long PAGE_MASK = ~0xFFFL;

    static final int F_BOUND = 1;
    static final int F_ENTRY_CACHED = 2;
    static final int F_IOTLB_DIRTY = 4;
    static final int F_DEVTLB_DIRTY = 8;
    static final int F_DEVTLB_PENDING = 16;
    static final int F_RELEASED = 32;
    static final int F_EVER_BOUND = 64;

    private static final int MAX_VIOLATIONS_KEPT = 8;

    final IommuCounts counts;
    final long flushAllAboveBytes;
    int phase;

    // ---- command queue: positions are byte counts, the buffer index is position & mask
    final UnsafeBuffer queue;
    private final int queueMask;
    final int commandLength;
    private long tail;
    private long head;
    /** Where the simulated IOMMU writes wait completions (the status address of a wait command): one long. */
    final UnsafeBuffer status = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    long waitToken;

    // ---- devices
    private final Int2IntHashMap deviceByRequesterId = new Int2IntHashMap(-1);
    Device[] devices = new Device[8];
    int deviceCount;

    // ---- (device, PASID) slots, never freed (their state spans the PASID's lives)
    private final Long2LongHashMap slotByKey = new Long2LongHashMap(-1);
    int slotCount;
    int[] slotDevice = new int[64];
    int[] slotPasid = new int[64];
    int[] slotLife = new int[64];
    int[] slotFlags = new int[64];
    private int[] pendingSlots = new int[64];
    private int pendingCount;

    // ---- PASIDs: bound slots of each
    private final Int2IntHashMap pasidIndex = new Int2IntHashMap(-1);
    int pasidCount;
    int[][] pasidSlots = new int[16][];
    int[] pasidSlotCount = new int[16];

    // ---- page-request queue
    final UnsafeBuffer prq;
    final int prqEntryLength;
    private final int prqEntries;
    private long prqHead;
    private long prqTail;
    private final int[] prqSlot;
    private final int[] prqLife;
    private final boolean[] prqDone;
    private int nextGroup;

    private List<String> log;

    ArchIommuModel(final IommuArch arch, final List<String> commandNames, final long flushAllAboveBytes,
        final int commandLength, final int queueBytes, final int prqEntryLength, final int prqEntries)
    {
        this.counts = new IommuCounts(arch, commandNames);
        this.flushAllAboveBytes = flushAllAboveBytes;
        this.commandLength = commandLength;
        this.queue = new UnsafeBuffer(BufferUtil.allocateDirectAligned(queueBytes, 64));
        this.queueMask = queueBytes - 1;
        this.prqEntryLength = prqEntryLength;
        this.prqEntries = prqEntries;
        this.prq = new UnsafeBuffer(BufferUtil.allocateDirectAligned(prqEntryLength * prqEntries, 64));
        this.prqSlot = new int[prqEntries];
        this.prqLife = new int[prqEntries];
        this.prqDone = new boolean[prqEntries];
    }

    @Override
    public IommuArch arch()
    {
        return counts.arch;
    }

    // =================================================================================================================
    // Devices, slots, PASIDs
    // =================================================================================================================

    @Override
    public void addDevice(final Device device)
    {
        if (deviceByRequesterId.containsKey(device.requesterId()))
        {
            throw new IllegalArgumentException("device " + device + " is already registered with the " +
                arch().cliName() + " model");
        }
        if (deviceCount == devices.length)
        {
            devices = Arrays.copyOf(devices, deviceCount * 2);
        }
        devices[deviceCount] = device;
        deviceByRequesterId.put(device.requesterId(), deviceCount);
        deviceAdded(deviceCount, device);
        deviceCount++;
    }

    /** Architecture hook: allocate the device's tables. */
    abstract void deviceAdded(int deviceIndex, Device device);

    final int deviceIndex(final Device device)
    {
        final int index = deviceByRequesterId.get(device.requesterId());
        if (index < 0)
        {
            throw new IllegalArgumentException("device " + device + " is not registered with the " +
                arch().cliName() + " model (call addDevice first)");
        }
        return index;
    }

    final int deviceIndexOfRequesterId(final int requesterId)
    {
        return deviceByRequesterId.get(requesterId);
    }

    final boolean ats(final int deviceIndex)
    {
        return devices[deviceIndex].ats();
    }

    /** The slot of (device, pasid), -1 if never bound. */
    final int slotOf(final int deviceIndex, final int pasid)
    {
        return (int)slotByKey.get(((long)deviceIndex << 20) | pasid);
    }

    private int slotFor(final int deviceIndex, final int pasid)
    {
        final long key = ((long)deviceIndex << 20) | pasid;
        int slot = (int)slotByKey.get(key);
        if (slot < 0)
        {
            slot = slotCount++;
            if (slot == slotDevice.length)
            {
                final int n = slot * 2;
                slotDevice = Arrays.copyOf(slotDevice, n);
                slotPasid = Arrays.copyOf(slotPasid, n);
                slotLife = Arrays.copyOf(slotLife, n);
                slotFlags = Arrays.copyOf(slotFlags, n);
            }
            slotDevice[slot] = deviceIndex;
            slotPasid[slot] = pasid;
            slotByKey.put(key, slot);
        }
        return slot;
    }

    final int pasidIndexOf(final int pasid)
    {
        return pasidIndex.get(pasid);
    }

    private int pasidIndexFor(final int pasid)
    {
        int p = pasidIndex.get(pasid);
        if (p < 0)
        {
            p = pasidCount++;
            if (p == pasidSlots.length)
            {
                pasidSlots = Arrays.copyOf(pasidSlots, p * 2);
                pasidSlotCount = Arrays.copyOf(pasidSlotCount, p * 2);
            }
            pasidSlots[p] = new int[4];
            pasidIndex.put(pasid, p);
        }
        return p;
    }

    private void addToPasid(final int p, final int slot)
    {
        int[] slots = pasidSlots[p];
        if (pasidSlotCount[p] == slots.length)
        {
            slots = pasidSlots[p] = Arrays.copyOf(slots, slots.length * 2);
        }
        slots[pasidSlotCount[p]++] = slot;
    }

    private void removeFromPasid(final int p, final int slot)
    {
        final int[] slots = pasidSlots[p];
        final int n = pasidSlotCount[p];
        for (int i = 0; i < n; i++)
        {
            if (slots[i] == slot)
            {
                slots[i] = slots[n - 1];
                pasidSlotCount[p] = n - 1;
                return;
            }
        }
    }

    /** The largest PASID the architecture's commands and tables can carry. */
    int archMaxPasid()
    {
        return (1 << 20) - 1;
    }

    final void checkPasid(final int pasid, final Device device)
    {
        final int max = Math.min(device.maxPasid(), archMaxPasid());
        if (pasid < 1 || pasid > max)
        {
            throw new IllegalArgumentException("PASID " + pasid + " must be in [1, " + max + "] for " + device +
                " on " + arch().cliName());
        }
    }

    // =================================================================================================================
    // The life-cycle calls: bookkeeping here, the driver's steps in the architecture subclass
    // =================================================================================================================

    @Override
    public final void bind(final Device device, final int pasid, final long pageTableRoot)
    {
        final int d = deviceIndex(device);
        checkPasid(pasid, device);
        if (0 == pageTableRoot || 0 != (pageTableRoot & ~PAGE_MASK))
        {
            throw new IllegalArgumentException("page-table root 0x" + Long.toHexString(pageTableRoot) +
                " must be non-zero and 4 KiB aligned");
        }
        final int slot = slotFor(d, pasid);
        if (0 != (slotFlags[slot] & F_BOUND))
        {
            throw new IllegalStateException("PASID " + pasid + " is already bound on " + device);
        }
        phase = IommuCounts.BIND;
        if (0 != (slotFlags[slot] & F_EVER_BOUND))
        {
            checkReusable(slot);
        }
        slotLife[slot]++;
        slotFlags[slot] = F_BOUND | F_EVER_BOUND;
        final int p = pasidIndexFor(pasid);
        addToPasid(p, slot);
        counts.binds++;
        driverBind(slot, d, pasid, p, pageTableRoot);
    }

    @Override
    public final void invalidateRange(final int pasid, final long address, final long length)
    {
        if (length <= 0)
        {
            throw new IllegalArgumentException("length " + length + " must be > 0");
        }
        final int p = pasidIndex.get(pasid);
        phase = IommuCounts.CHANGE;
        counts.rangeInvalidations++;
        if (p < 0 || 0 == pasidSlotCount[p])
        {
            return;
        }
        driverInvalidateRange(p, pasid, address, length);
    }

    @Override
    public final void release(final int pasid)
    {
        final int p = pasidIndex.get(pasid);
        phase = IommuCounts.RELEASE;
        counts.releases++;
        if (p < 0 || 0 == pasidSlotCount[p])
        {
            return;
        }
        driverRelease(p, pasid);
        for (int i = 0; i < pasidSlotCount[p]; i++)
        {
            slotFlags[pasidSlots[p][i]] |= F_RELEASED;
        }
    }

    @Override
    public final void unbind(final Device device, final int pasid)
    {
        final int d = deviceIndex(device);
        final int slot = slotOf(d, pasid);
        if (slot < 0 || 0 == (slotFlags[slot] & F_BOUND))
        {
            throw new IllegalStateException("PASID " + pasid + " is not bound on " + device);
        }
        phase = IommuCounts.UNBIND;
        counts.unbinds++;
        final int p = pasidIndex.get(pasid);
        final boolean last = 1 == pasidSlotCount[p];
        driverUnbind(slot, d, pasid, p, last);
        // NOTE: removed from the PASID's device list after the driver's steps: the domain-wide commands of the
        // teardown (an ASID flush at domain free) still cover it.
        removeFromPasid(p, slot);
        slotFlags[slot] &= ~(F_BOUND | F_RELEASED);
    }

    /**
     * Test seam: a broken driver that lets (device, pasid) go without any teardown (no entry clear, no invalidation,
     * no drain): the bookkeeping of {@link #unbind} only, so a test can show what the checker reports at reuse.
     */
    final void unbindWithoutTeardown(final Device device, final int pasid)
    {
        final int slot = slotOf(deviceIndex(device), pasid);
        removeFromPasid(pasidIndex.get(pasid), slot);
        slotFlags[slot] &= ~(F_BOUND | F_RELEASED);
    }

    abstract void driverBind(int slot, int deviceIndex, int pasid, int pasidIndex, long root);

    abstract void driverInvalidateRange(int pasidIndex, int pasid, long address, long length);

    abstract void driverRelease(int pasidIndex, int pasid);

    abstract void driverUnbind(int slot, int deviceIndex, int pasid, int pasidIndex, boolean lastDevice);

    // =================================================================================================================
    // Driver side: the command queue
    // =================================================================================================================

    /** Claims the next command slot (running the IOMMU if the queue is full); returns its buffer index. */
    final int claim(final int type)
    {
        if (tail - head + commandLength > queueMask + 1)
        {
            hwProcess();
        }
        final int index = (int)(tail & queueMask);
        tail += commandLength;
        counts.commandsByPhaseAndType[phase][type]++;
        counts.bytesByPhase[phase] += commandLength;
        return index;
    }

    /** A wait command was claimed: counts it; its token is the status value the IOMMU writes. */
    final long nextWaitToken()
    {
        counts.waitsByPhase[phase]++;
        return ++waitToken;
    }

    /** The driver spins on its wait's status word: runs the IOMMU to the queue's tail, then checks it. */
    final void awaitStatus(final long token)
    {
        hwProcess();
        // NOTE: acquire, pairs with the putLongRelease of hwCompleteWait (the IOMMU's status write).
        if ((int)status.getLongAcquire(0) != (int)token)
        {
            violation("wait " + token + " did not complete after the IOMMU consumed the queue");
        }
    }

    /** A store into table memory by the driver: counts its bytes. */
    final void tableStore(final UnsafeBuffer table, final int offset, final long value)
    {
        table.putLong(offset, value);
        counts.tableBytesTouched += 8;
    }

    /** The store that can make an entry translate: a release store, as the driver's WRITE_ONCE after its body. */
    final void tableStoreRelease(final UnsafeBuffer table, final int offset, final long value)
    {
        // NOTE: release, read by the IOMMU's walk (hwTranslating / entry checks) with acquire loads.
        table.putLongRelease(offset, value);
        counts.tableBytesTouched += 8;
    }

    // =================================================================================================================
    // Simulated IOMMU: consumes the queue and keeps the checker's state
    // =================================================================================================================

    /** Consumes every command up to the tail. */
    final void hwProcess()
    {
        while (head < tail)
        {
            final int index = (int)(head & queueMask);
            if (null != log)
            {
                log.add(describe(index));
            }
            execute(index);
            head += commandLength;
        }
    }

    /** Architecture hook: decode and apply the command at {@code index}. */
    abstract void execute(int index);

    /** Architecture hook: the command at {@code index} as text. */
    abstract String describe(int index);

    /** Architecture hook: whether the entry of {@code slot} translates in memory (read by the IOMMU). */
    abstract boolean hwTranslating(int slot);

    /** Architecture hook: null if the (translating) entry of {@code slot} is well formed, else what is wrong. */
    abstract String hwEntryProblem(int slot);

    /** Architecture hook: whether the IOMMU's TLB can answer a translation request without the PASID entry. */
    abstract boolean iotlbServesWithoutEntry();

    /** The driver stored into the entry of {@code slot}: the IOMMU may read it from now on. */
    final void entryStored(final int slot)
    {
        if (hwTranslating(slot))
        {
            final String problem = hwEntryProblem(slot);
            if (null != problem)
            {
                violation(problem);
            }
            int flags = slotFlags[slot] | F_ENTRY_CACHED | F_IOTLB_DIRTY;
            if (ats(slotDevice[slot]))
            {
                flags = (flags | F_DEVTLB_DIRTY) & ~F_DEVTLB_PENDING;
            }
            slotFlags[slot] = flags;
        }
    }

    final void hwEntryCacheInvalidate(final int slot)
    {
        if (slot >= 0 && !hwTranslating(slot))
        {
            slotFlags[slot] &= ~F_ENTRY_CACHED;
        }
    }

    final void hwIotlbInvalidateAll(final int slot)
    {
        if (slot >= 0 && 0 == (slotFlags[slot] & F_ENTRY_CACHED) && !hwTranslating(slot))
        {
            slotFlags[slot] &= ~F_IOTLB_DIRTY;
        }
    }

    /** A device-TLB invalidation reached the device; {@code all}: every translation of the PASID. */
    final void hwDevtlbInvalidate(final int slot, final boolean all)
    {
        if (IommuCounts.CHANGE == phase)
        {
            counts.deviceTlbInvalidationsInChanges++;
        }
        if (slot < 0 || !all || hwTranslating(slot))
        {
            return;
        }
        final int flags = slotFlags[slot];
        final boolean refillable = 0 != (flags & F_ENTRY_CACHED) ||
            (iotlbServesWithoutEntry() && 0 != (flags & F_IOTLB_DIRTY));
        if (refillable)
        {
            if (0 != (flags & F_DEVTLB_DIRTY))
            {
                violation(arch().cliName() + ": device-TLB invalidation of PASID " + slotPasid[slot] + " on " +
                    devices[slotDevice[slot]] + " processed while the IOMMU could still translate for it (" +
                    (0 != (flags & F_ENTRY_CACHED) ? "entry cache not invalidated" : "IOTLB not invalidated") +
                    "): the ATC can refill after it");
            }
            return;
        }
        if (0 != (flags & F_DEVTLB_DIRTY))
        {
            slotFlags[slot] = (flags & ~F_DEVTLB_DIRTY) | F_DEVTLB_PENDING;
            if (pendingCount == pendingSlots.length)
            {
                pendingSlots = Arrays.copyOf(pendingSlots, pendingCount * 2);
            }
            pendingSlots[pendingCount++] = slot;
        }
    }

    /**
     * A wait command: every invalidation before it has completed; writes {@code token} (the low 32 bits are what the
     * driver compares: a wait's status data is 32 bits) to the status word.
     */
    final void hwCompleteWait(final long token)
    {
        for (int i = 0; i < pendingCount; i++)
        {
            slotFlags[pendingSlots[i]] &= ~F_DEVTLB_PENDING;
        }
        pendingCount = 0;
        // NOTE: release, read by awaitStatus's acquire.
        status.putLongRelease(0, token);
    }

    private void checkReusable(final int slot)
    {
        final int flags = slotFlags[slot];
        final String where = "PASID " + slotPasid[slot] + " on " + devices[slotDevice[slot]];
        if (0 != (flags & F_ENTRY_CACHED))
        {
            violation(arch().cliName() + ": " + where + " reused while the IOMMU may still cache its previous entry");
        }
        if (0 != (flags & F_IOTLB_DIRTY))
        {
            violation(arch().cliName() + ": " + where + " reused before its IOTLB invalidation");
        }
        if (0 != (flags & (F_DEVTLB_DIRTY | F_DEVTLB_PENDING)))
        {
            violation(arch().cliName() + ": " + where + " reused before its device-TLB invalidation completed");
        }
        for (long i = prqHead; i < prqTail; i++)
        {
            final int e = (int)(i % prqEntries);
            if (!prqDone[e] && prqSlot[e] == slot)
            {
                violation(arch().cliName() + ": " + where + " reused with a page request of its previous life " +
                    "still queued");
                break;
            }
        }
    }

    // =================================================================================================================
    // Page requests
    // =================================================================================================================

    @Override
    public final boolean pageRequest(final Device device, final int pasid, final long address)
    {
        final int d = deviceIndex(device);
        final int slot = slotOf(d, pasid);
        if (!device.ats())
        {
            return false;
        }
        if (prqTail - prqHead == prqEntries)
        {
            counts.pageRequestsDropped++;
            return false;
        }
        final int e = (int)(prqTail % prqEntries);
        writePageRequest(e * prqEntryLength, device.requesterId(), pasid, address & PAGE_MASK, nextGroup++ & 0x1FF);
        prqSlot[e] = slot;
        prqLife[e] = slot < 0 ? -1 : slotLife[slot];
        prqDone[e] = false;
        prqTail++;
        counts.pageRequestsQueued++;
        return true;
    }

    @Override
    public final int servicePageRequests()
    {
        phase = IommuCounts.SERVICE;
        int n = 0;
        for (long i = prqHead; i < prqTail; i++)
        {
            final int e = (int)(i % prqEntries);
            if (prqDone[e])
            {
                continue;
            }
            final int index = e * prqEntryLength;
            final int d = deviceIndexOfRequesterId(pageRequestRequesterId(index));
            final int pasid = pageRequestPasid(index);
            final int slot = d < 0 ? -1 : slotOf(d, pasid);
            if (slot >= 0 && prqLife[e] != slotLife[slot])
            {
                violation(arch().cliName() + ": page request of PASID " + pasid + " from its previous life handled " +
                    "in its new life on " + devices[d]);
            }
            respond(index, slot >= 0 && 0 != (slotFlags[slot] & F_BOUND));
            prqDone[e] = true;
            n++;
        }
        finishResponses(n);
        trimPrq();
        counts.pageRequestsServiced += n;
        return n;
    }

    /** Teardown: answers (as the driver answers requests of a PASID going away) every request of {@code slot}. */
    final int drainPageRequests(final int slot)
    {
        int n = 0;
        for (long i = prqHead; i < prqTail; i++)
        {
            final int e = (int)(i % prqEntries);
            if (!prqDone[e] && prqSlot[e] == slot)
            {
                respond(e * prqEntryLength, false);
                prqDone[e] = true;
                n++;
            }
        }
        finishResponses(n);
        trimPrq();
        counts.pageRequestsDrained += n;
        return n;
    }

    private void trimPrq()
    {
        while (prqHead < prqTail && prqDone[(int)(prqHead % prqEntries)])
        {
            prqHead++;
        }
    }

    /** Architecture hook: the IOMMU writes a page request into the queue at byte {@code index} of {@link #prq}. */
    abstract void writePageRequest(int index, int requesterId, int pasid, long address, int group);

    abstract int pageRequestRequesterId(int index);

    abstract int pageRequestPasid(int index);

    /** Architecture hook: the driver's response command to the request at {@code index}. */
    abstract void respond(int index, boolean success);

    /** Architecture hook: after {@code n} responses (a wait where the driver waits). */
    abstract void finishResponses(int n);

    // =================================================================================================================
    // Violations, log, counters
    // =================================================================================================================

    final void violation(final String what)
    {
        counts.violations++;
        if (counts.firstViolations.size() < MAX_VIOLATIONS_KEPT)
        {
            counts.firstViolations.add(what);
        }
    }

    @Override
    public void logCommands(final boolean on)
    {
        log = on ? new ArrayList<>() : null;
    }

    @Override
    public List<String> drainLog()
    {
        if (null == log)
        {
            return List.of();
        }
        final List<String> out = new ArrayList<>(log);
        log.clear();
        return out;
    }

    @Override
    public IommuCounts counts()
    {
        return counts.copy();
    }

    /** log2 of the naturally aligned span of 4 KiB pages covering the range (the SMMUv3 / generic rounding). */
    static int spanLog2(final long address, final long length)
    {
        final long first = address >>> PAGE_SHIFT;
        final long last = (address + Math.max(1, length) - 1) >>> PAGE_SHIFT;
        return 64 - Long.numberOfLeadingZeros(first ^ last);
    }

    static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }
}
