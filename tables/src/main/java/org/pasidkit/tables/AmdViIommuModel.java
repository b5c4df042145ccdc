package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static org.pasidkit.tables.internal.AmdViCommandDescriptor.*;
import static org.pasidkit.tables.internal.AmdViGcr3TableDescriptor.*;

/**
 * AMD-Vi with SVA (v2 page tables through per-device GCR3 tables) as Linux drives it; one IOMMU; PASIDs of 16 bits
 * (the INVALIDATE_IOTLB_PAGES command carries 16; PASMAX); a device with ATS also has PRI (PPR).
 * <ul>
 *   <li>Tables: {@link org.pasidkit.tables.internal.AmdViGcr3TableDescriptor}; commands:
 *       {@link org.pasidkit.tables.internal.AmdViCommandDescriptor} (16 bytes each).</li>
 *   <li>Not thread-safe (see {@link IommuModel}).</li>
 * </ul>
 */
/*
 * Design notes: the rules and where each comes from (Linux drivers/iommu/amd/, v6.9+).
 *
 * bind - iommu_sva_set_dev_pasid (pasid.c) -> amd_iommu_set_gcr3 -> update_gcr3 (iommu.c): __get_gcr3_pte walks the
 *   levels and allocates a missing table, writing its parent entry (address | GCR3_VALID) before descending; the leaf
 *   is one 64-bit store of (mm->pgd & PAGE_MASK) | GCR3_VALID (root and valid bit together); then
 *   amd_iommu_dev_flush_pasid_all: INVALIDATE_IOMMU_PAGES (DomainID, PASID, GN, every page), INVALIDATE_IOTLB_PAGES for
 *   a device with ATS, then COMPLETION_WAIT (iommu_completion_wait). A device's first PASID sets its GCR3 table up
 *   (setup_gcr3_table): the device-table entry gets GV, GLX and the GCR3 root pointer, and the driver flushes it
 *   (device_flush_dte: INVALIDATE_DEVTAB_ENTRY, then COMPLETION_WAIT) before any GCR3 entry is used.
 * change - the SVA domain's mmu notifier -> amd_iommu_domain_flush_pages -> domain_flush_pages_v2: for every
 *   (device, PASID) of the domain, INVALIDATE_IOMMU_PAGES with that device's GCR3 DomainID and the PASID (GN = 1), and
 *   for a device with ATS INVALIDATE_IOTLB_PAGES; the range is encoded by build_inv_address (S bit, a naturally
 *   aligned span; no flush-all threshold in this driver). Then amd_iommu_domain_flush_complete: one COMPLETION_WAIT per
 *   IOMMU of the domain.
 * release (mm exit) - sva_mn_release (pasid.c): remove_dev_pasid for every (device, PASID) of the domain:
 *   amd_iommu_clear_gcr3 (the leaf entry zeroed) and amd_iommu_dev_flush_pasid_all as above.
 * unbind - amd_iommu_remove_dev_pasid: the (device, PASID) is gone from the domain's list if release ran, else the
 *   same clear + flush; page requests of the PASID still in the PPR log are answered with COMPLETE_PPR_REQUEST
 *   (amd_iommu_complete_ppr; status invalid) and the model waits for them (COMPLETION_WAIT) before the PASID is let go.
 * The IOMMU's TLB is tagged by DomainID + PASID and answers without a GCR3 walk, so the device's IOTLB must be
 * invalidated after INVALIDATE_IOMMU_PAGES (the order of amd_iommu_dev_flush_pasid_pages).
 */
final class AmdViIommuModel extends ArchIommuModel
{
    static final List<String> COMMANDS = List.of("INVALIDATE_DEVTAB_ENTRY", "INVALIDATE_IOMMU_PAGES",
        "INVALIDATE_IOTLB_PAGES", "COMPLETION_WAIT", "COMPLETE_PPR_REQUEST");
    static final int C_DEVTAB = 0;
    static final int C_IOMMU_PAGES = 1;
    static final int C_IOTLB_PAGES = 2;
    static final int C_WAIT = 3;
    static final int C_PPR = 4;
    /** CMD_BUFFER_ENTRIES (512) x 16 bytes. */
    private static final int QUEUE_BYTES = 512 * LENGTH;
    static final int MAX_PASID = 0xFFFF;
    private static final int ATS_QDEP = 32;

    private final List<List<UnsafeBuffer>> gcr3Tables = new ArrayList<>();
    private int[] levels = new int[8];
    private UnsafeBuffer deviceTable = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8 * DTE_LENGTH, 64));
    private boolean[] dteFlushed = new boolean[8];

    AmdViIommuModel(final long flushAllAboveBytes)
    {
        super(IommuArch.AMD, COMMANDS, flushAllAboveBytes, LENGTH, QUEUE_BYTES, PPR_ENTRY_LENGTH, 512);
    }

    @Override
    void deviceAdded(final int d, final Device device)
    {
        if (d == levels.length)
        {
            levels = Arrays.copyOf(levels, d * 2);
            dteFlushed = Arrays.copyOf(dteFlushed, d * 2);
            final UnsafeBuffer bigger = new UnsafeBuffer(BufferUtil.allocateDirectAligned(d * 2 * DTE_LENGTH, 64));
            bigger.putBytes(0, deviceTable, 0, d * DTE_LENGTH);
            deviceTable = bigger;
        }
        levels[d] = levels(Math.min(16, device.pasidBits()));
        gcr3Tables.add(new ArrayList<>());
    }

    @Override
    int archMaxPasid()
    {
        return MAX_PASID;
    }

    static int domainId(final int deviceIndex)
    {
        return 1 + deviceIndex;
    }

    /** The GCR3 root table of device {@code d} from its DTE; null if GV is clear. */
    private UnsafeBuffer root(final int d)
    {
        // NOTE: acquire, pairs with the release store of the DTE's qword 0 in setupGcr3Table.
        final long qw0 = deviceTable.getLongAcquire(d * DTE_LENGTH);
        return 0 == (qw0 & DTE_GV) ? null : gcr3Tables.get(d).get(0);
    }

    private UnsafeBuffer tableAt(final int d, final long entry)
    {
        return gcr3Tables.get(d).get((int)((entry & ADDRESS_MASK) >>> 12) - 1);
    }

    /** The leaf table holding {@code pasid}'s entry; null if a level on the way is not valid. */
    private UnsafeBuffer leafTable(final int d, final int pasid)
    {
        UnsafeBuffer table = root(d);
        for (int level = levels[d] - 1; level > 0 && null != table; level--)
        {
            final long entry = table.getLongAcquire(index(pasid, level) * ENTRY_LENGTH);
            table = 0 == (entry & GCR3_VALID) ? null : tableAt(d, entry);
        }
        return table;
    }

    @Override
    boolean hwTranslating(final int slot)
    {
        final UnsafeBuffer leaf = leafTable(slotDevice[slot], slotPasid[slot]);
        return null != leaf && 0 != (leaf.getLongAcquire(index(slotPasid[slot], 0) * ENTRY_LENGTH) & GCR3_VALID);
    }

    @Override
    String hwEntryProblem(final int slot)
    {
        final int d = slotDevice[slot];
        if (!dteFlushed[d])
        {
            return "amd: GCR3 entry of PASID " + slotPasid[slot] + " on " + devices[d] + " valid before its " +
                "device-table entry was flushed (INVALIDATE_DEVTAB_ENTRY)";
        }
        final long entry = leafTable(d, slotPasid[slot]).getLong(index(slotPasid[slot], 0) * ENTRY_LENGTH);
        if (0 == (entry & ADDRESS_MASK))
        {
            return "amd: GCR3 entry of PASID " + slotPasid[slot] + " on " + devices[d] + " valid before its root " +
                "pointer";
        }
        return null;
    }

    @Override
    boolean iotlbServesWithoutEntry()
    {
        return true;
    }

    // ---- driver steps

    @Override
    void driverBind(final int slot, final int d, final int pasid, final int p, final long root)
    {
        if (null == root(d))
        {
            setupGcr3Table(d);
        }
        UnsafeBuffer table = root(d);
        for (int level = levels[d] - 1; level > 0; level--)
        {
            final int offset = index(pasid, level) * ENTRY_LENGTH;
            final long entry = table.getLong(offset);
            if (0 == (entry & GCR3_VALID))
            {
                final List<UnsafeBuffer> list = gcr3Tables.get(d);
                final UnsafeBuffer child = new UnsafeBuffer(BufferUtil.allocateDirectAligned(TABLE_LENGTH, 4096));
                list.add(child);
                tableStoreRelease(table, offset, ((long)list.size() << 12) | GCR3_VALID);
                table = child;
            }
            else
            {
                table = tableAt(d, entry);
            }
        }
        final int leaf = index(pasid, 0) * ENTRY_LENGTH;
        if (0 != (table.getLong(leaf) & GCR3_VALID))
        {
            throw new IllegalStateException("amd: GCR3 entry of PASID " + pasid + " on " + devices[d] + " is valid");
        }
        setGcr3Entry(slot, (root & ADDRESS_MASK) | GCR3_VALID);
        flushPasidAll(slot);
    }

    /** setup_gcr3_table + set_dte_entry + device_flush_dte. */
    private void setupGcr3Table(final int d)
    {
        final List<UnsafeBuffer> list = gcr3Tables.get(d);
        list.add(new UnsafeBuffer(BufferUtil.allocateDirectAligned(TABLE_LENGTH, 4096)));
        final long gcr3Root = 1L << 12;
        tableStore(deviceTable, d * DTE_LENGTH + 8, dteQword1(gcr3Root, domainId(d)));
        tableStoreRelease(deviceTable, d * DTE_LENGTH, dteQword0(gcr3Root, levels[d]));
        final int index = claim(C_DEVTAB);
        queue.putLong(index, (devices[d].requesterId() & 0xFFFFL) | type(CMD_INV_DEV_ENTRY));
        queue.putLong(index + 8, 0);
        completionWait();
    }

    /** update_gcr3: one store of the leaf entry (0 clears it). */
    void setGcr3Entry(final int slot, final long value)
    {
        final int d = slotDevice[slot];
        tableStoreRelease(leafTable(d, slotPasid[slot]), index(slotPasid[slot], 0) * ENTRY_LENGTH, value);
        entryStored(slot);
    }

    /** amd_iommu_dev_flush_pasid_all: IOMMU pages, device IOTLB (ATS), completion wait. */
    void flushPasidAll(final int slot)
    {
        submitIommuPagesAll(slot);
        if (ats(slotDevice[slot]))
        {
            submitIotlbPagesAll(slot);
        }
        completionWait();
    }

    void submitIommuPagesAll(final int slot)
    {
        final int index = claim(C_IOMMU_PAGES);
        queue.putLong(index, iommuPagesLo(slotPasid[slot], domainId(slotDevice[slot])));
        queue.putLong(index + 8, ALL_PAGES_ADDRESS | S | GN | PDE);
    }

    void submitIotlbPagesAll(final int slot)
    {
        final int index = claim(C_IOTLB_PAGES);
        queue.putLong(index, iotlbPagesLo(devices[slotDevice[slot]].requesterId(), slotPasid[slot], ATS_QDEP));
        queue.putLong(index + 8, ALL_PAGES_ADDRESS | S | GN);
    }

    void completionWait()
    {
        final int index = claim(C_WAIT);
        final long token = nextWaitToken();
        queue.putLong(index, 1L | type(CMD_COMPL_WAIT));
        queue.putLong(index + 8, token);
        awaitStatus(token);
    }

    @Override
    void driverInvalidateRange(final int p, final int pasid, final long address, final long length)
    {
        final long hi = invAddress(address, length) | GN;
        final int[] slots = pasidSlots[p];
        for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
        {
            final int slot = slots[i];
            final int d = slotDevice[slot];
            int index = claim(C_IOMMU_PAGES);
            queue.putLong(index, iommuPagesLo(pasid, domainId(d)));
            queue.putLong(index + 8, hi);
            if (ats(d))
            {
                index = claim(C_IOTLB_PAGES);
                queue.putLong(index, iotlbPagesLo(devices[d].requesterId(), pasid, ATS_QDEP));
                queue.putLong(index + 8, hi & ~PDE);
            }
        }
        completionWait();
    }

    @Override
    void driverRelease(final int p, final int pasid)
    {
        final int[] slots = pasidSlots[p];
        for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
        {
            setGcr3Entry(slots[i], 0);
            flushPasidAll(slots[i]);
        }
    }

    @Override
    void driverUnbind(final int slot, final int d, final int pasid, final int p, final boolean lastDevice)
    {
        if (0 == (slotFlags[slot] & F_RELEASED))
        {
            setGcr3Entry(slot, 0);
            flushPasidAll(slot);
        }
        drainPageRequests(slot);
    }

    // ---- page requests

    @Override
    void writePageRequest(final int index, final int requesterId, final int pasid, final long address, final int group)
    {
        prq.putLong(index, (requesterId & 0xFFFFL) | ((long)(pasid & 0xFFFF) << 16) | ((long)(group & 0x3FF) << 32) |
            ((long)((pasid >>> 16) & 0xF) << 42) | (PPR_FLAG_GN << 48) | (PPR_REQ_FAULT << 60));
        prq.putLong(index + 8, address);
    }

    @Override
    int pageRequestRequesterId(final int index)
    {
        return (int)(prq.getLong(index) & 0xFFFF);
    }

    @Override
    int pageRequestPasid(final int index)
    {
        final long raw = prq.getLong(index);
        return (int)((((raw >>> 42) & 0xF) << 16) | ((raw >>> 16) & 0xFFFF));
    }

    @Override
    void respond(final int index, final boolean success)
    {
        final int claimed = claim(C_PPR);
        final long raw = prq.getLong(index);
        queue.putLong(claimed, (raw & 0xFFFF) | ((long)pageRequestPasid(index) << 32) | type(CMD_COMPLETE_PPR));
        queue.putLong(claimed + 8, GN | (((raw >>> 32) & 0x1FF) << 32) |
            ((long)(success ? PPR_STATUS_SUCCESS : PPR_STATUS_INVALID) << 44));
    }

    @Override
    void finishResponses(final int n)
    {
        if (n > 0 && IommuCounts.UNBIND == phase)
        {
            completionWait();
        }
    }

    // ---- the simulated IOMMU

    @Override
    void execute(final int index)
    {
        final long lo = queue.getLong(index);
        final long hi = queue.getLong(index + 8);
        switch (opcode(lo))
        {
            case CMD_INV_DEV_ENTRY:
            {
                final int d = deviceIndexOfRequesterId((int)(lo & 0xFFFF));
                if (d >= 0)
                {
                    dteFlushed[d] = true;
                }
                break;
            }
            case CMD_INV_IOMMU_PAGES:
            {
                if (isAll(hi))
                {
                    final int d = iommuPagesDomainId(lo) - 1;
                    final int slot = d < 0 || d >= deviceCount ? -1 : slotOf(d, iommuPagesPasid(lo));
                    hwEntryCacheInvalidate(slot);
                    hwIotlbInvalidateAll(slot);
                }
                break;
            }
            case CMD_INV_IOTLB_PAGES:
            {
                final int d = deviceIndexOfRequesterId(iotlbDeviceId(lo));
                hwDevtlbInvalidate(d < 0 ? -1 : slotOf(d, iotlbPasid(lo)), isAll(hi));
                break;
            }
            case CMD_COMPL_WAIT:
                hwCompleteWait(hi);
                break;
            case CMD_COMPLETE_PPR:
                break;
            default:
                violation("amd: unknown opcode " + opcode(lo) + " at queue offset " + index);
        }
    }

    @Override
    String describe(final int index)
    {
        final long lo = queue.getLong(index);
        final long hi = queue.getLong(index + 8);
        final String range = isAll(hi) ? " all" : " addr=" + hex(hi & ~0xFFFL) + (0 != (hi & S) ? " s=1" : "");
        switch (opcode(lo))
        {
            case CMD_INV_DEV_ENTRY:
                return "INVALIDATE_DEVTAB_ENTRY devid=" + hex(lo & 0xFFFF);
            case CMD_INV_IOMMU_PAGES:
                return "INVALIDATE_IOMMU_PAGES domid=" + iommuPagesDomainId(lo) + " pasid=" + iommuPagesPasid(lo) +
                    range;
            case CMD_INV_IOTLB_PAGES:
                return "INVALIDATE_IOTLB_PAGES devid=" + hex(iotlbDeviceId(lo)) + " pasid=" + iotlbPasid(lo) + range;
            case CMD_COMPL_WAIT:
                return "COMPLETION_WAIT";
            case CMD_COMPLETE_PPR:
                return "COMPLETE_PPR_REQUEST devid=" + hex(lo & 0xFFFF) + " pasid=" + ((lo >>> 32) & 0xFFFFF) +
                    " status=" + (PPR_STATUS_SUCCESS == ((hi >>> 44) & 0xF) ? "success" : "invalid");
            default:
                return "opcode " + opcode(lo);
        }
    }
}
