package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static org.pasidkit.tables.internal.VtdInvalidationDescriptor.*;
import static org.pasidkit.tables.internal.VtdPasidTableDescriptor.*;

/**
 * Intel VT-d scalable mode, first-level (SVA) translation, as Linux drives it; the IOMMU is coherent and not in
 * caching mode (bare metal), every device sits behind one DMAR unit, a device with ATS also has PRI.
 * <ul>
 *   <li>Tables: {@link org.pasidkit.tables.internal.VtdPasidTableDescriptor}. Commands:
 *       {@link org.pasidkit.tables.internal.VtdInvalidationDescriptor} (32 bytes each).</li>
 *   <li>Not thread-safe (see {@link IommuModel}).</li>
 * </ul>
 */
/*
 * Design notes: the rules and where each comes from (Linux drivers/iommu/intel/, v6.x).
 *
 * bind - intel_pasid_setup_first_level (pasid.c): intel_pasid_get_entry allocates the 4 KiB PASID table on first use
 *   and installs the directory entry (address | P) with cmpxchg64 before any entry in it is used; the entry is written
 *   with pasid_clear_entry, then FLPTR, DID, AW, PWSNP, NXE, PGTT, and pasid_set_present last. pasid_flush_caches: not
 *   in caching mode, so only iommu_flush_write_buffer (a register write): a bind queues no descriptor.
 * change - cache_tag_flush_range (cache.c): the domain's cache tags, the IOTLB tag first (cache_tag_assign puts IOTLB
 *   tags at the head of the list), then one device-TLB tag per device with ATS; qi_batch_add_piotlb /
 *   qi_batch_add_pasid_dev_iotlb batch up to QI_MAX_BATCHED_DESC_COUNT (16) descriptors, and qi_batch_flush_descs
 *   submits them with qi_submit_sync, which appends one invalidation-wait descriptor and spins on its status write
 *   (dmar.c). Past the flush-all threshold the P_IOTLB is PASID-wide (QI_GRAN_NONG_PASID) and the device-TLB covers
 *   every page.
 * release (mm exit) - intel_mm_release (svm.c) calls intel_pasid_tear_down_entry(fault_ignore = true) for each device:
 *   the entry is cleared with FPD set (pasid_clear_entry_with_fpd: P = 0, faults not reported), then three
 *   qi_submit_sync calls, each one descriptor + wait, in this order: PASID-cache invalidation
 *   (pasid_cache_invalidation_with_pasid), P_IOTLB of the whole PASID (qi_flush_piotlb), device-TLB of the whole PASID
 *   (devtlb_invalidation_with_pasid, ATS devices only).
 * unbind - remove_dev_pasid: intel_pasid_tear_down_entry(fault_ignore = false) does nothing for an entry release
 *   already cleared (not present); then intel_drain_pasid_prq (prq.c / svm.c, PRI devices only): the page requests of
 *   the PASID still queued are answered (handle_bad_prq_event: a page group response, each with qi_submit_sync), then
 *   a fenced wait, a P_IOTLB and a device-TLB invalidation of the PASID, submitted with QI_OPT_WAIT_DRAIN (the
 *   appended wait carries PD, the page-request drain) as VT-d spec section 7.10 describes.
 * The IOTLB is tagged by DID + PASID and can answer a translation request without the PASID entry, so the device TLB
 * must be invalidated after both the PASID cache and the IOTLB (the order of intel_pasid_tear_down_entry).
 */
final class VtdIommuModel extends ArchIommuModel
{
    static final List<String> COMMANDS = List.of("pasid-cache inv", "p_iotlb inv", "p_devtlb inv", "inv wait",
        "page group resp");
    static final int C_PC = 0;
    static final int C_PIOTLB = 1;
    static final int C_DEVTLB = 2;
    static final int C_WAIT = 3;
    static final int C_PGRP = 4;
    /** QI_MAX_BATCHED_DESC_COUNT (cache.c). */
    static final int MAX_BATCH = 16;
    /** Linux's invalidation queue is one 4 KiB page of 128-bit slots: 256 x 16 B = 128 x 32 B descriptors. */
    private static final int QUEUE_BYTES = 4096;

    private UnsafeBuffer[] directories = new UnsafeBuffer[8];
    private final List<List<UnsafeBuffer>> tables = new ArrayList<>();
    private int batched;

    VtdIommuModel(final long flushAllAboveBytes)
    {
        super(IommuArch.VTD, COMMANDS, flushAllAboveBytes, LENGTH, QUEUE_BYTES, PRQ_ENTRY_LENGTH, 256);
    }

    @Override
    void deviceAdded(final int deviceIndex, final Device device)
    {
        if (deviceIndex == directories.length)
        {
            directories = java.util.Arrays.copyOf(directories, deviceIndex * 2);
        }
        directories[deviceIndex] = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            checkDirectoryCapacity(device.maxPasid()), 64));
        tables.add(new ArrayList<>());
    }

    static int domainIdOf(final int pasidIndex)
    {
        return 1 + pasidIndex % 0xFFFE;
    }

    /** The PASID table holding {@code pasid}'s entry on device {@code d}; null if its directory entry is absent. */
    private UnsafeBuffer table(final int d, final int pasid)
    {
        // NOTE: acquire, pairs with the directory entry's compareAndSetLong in entryTable.
        final long pde = directories[d].getLongAcquire(directoryIndex(pasid) * DIRECTORY_ENTRY_LENGTH);
        if (0 == (pde & PDE_PRESENT))
        {
            return null;
        }
        return tables.get(d).get((int)(pde >>> 12) - 1);
    }

    /** intel_pasid_get_entry: allocates the table and installs its directory entry on first use. */
    private UnsafeBuffer entryTable(final int d, final int pasid)
    {
        UnsafeBuffer table = table(d, pasid);
        if (null == table)
        {
            table = new UnsafeBuffer(BufferUtil.allocateDirectAligned(TABLE_LENGTH, 4096));
            final List<UnsafeBuffer> list = tables.get(d);
            list.add(table);
            final long pde = ((long)list.size() << 12) | PDE_PRESENT;
            // NOTE: cmpxchg64 as the driver does; the zeroed table exists before the entry that points at it.
            directories[d].compareAndSetLong(directoryIndex(pasid) * DIRECTORY_ENTRY_LENGTH, 0, pde);
            counts.tableBytesTouched += DIRECTORY_ENTRY_LENGTH;
        }
        return table;
    }

    @Override
    boolean hwTranslating(final int slot)
    {
        final UnsafeBuffer table = table(slotDevice[slot], slotPasid[slot]);
        return null != table &&
            0 != (table.getLongAcquire(entryOffset(slotPasid[slot]) + ENTRY_QW0_OFFSET) & PTE_PRESENT);
    }

    @Override
    String hwEntryProblem(final int slot)
    {
        final int pasid = slotPasid[slot];
        final UnsafeBuffer table = table(slotDevice[slot], pasid);
        final long qw0 = table.getLong(entryOffset(pasid) + ENTRY_QW0_OFFSET);
        if (((qw0 & PGTT_MASK) >>> PGTT_SHIFT) == PGTT_FL_ONLY &&
            0 == (table.getLong(entryOffset(pasid) + ENTRY_QW2_OFFSET) & ADDRESS_MASK))
        {
            return "vtd: PASID " + pasid + " entry on " + devices[slotDevice[slot]] + " present before its " +
                "first-level page-table pointer (FLPTR 0)";
        }
        if (0 == (qw0 & PGTT_MASK))
        {
            return "vtd: PASID " + pasid + " entry on " + devices[slotDevice[slot]] + " present before its PGTT";
        }
        return null;
    }

    @Override
    boolean iotlbServesWithoutEntry()
    {
        return true;
    }

    // ---- driver steps (package-private so tests can issue them in a wrong order)

    @Override
    void driverBind(final int slot, final int d, final int pasid, final int p, final long root)
    {
        final UnsafeBuffer table = entryTable(d, pasid);
        final int e = entryOffset(pasid);
        if (0 != (table.getLong(e + ENTRY_QW0_OFFSET) & PTE_PRESENT))
        {
            throw new IllegalStateException("vtd: PASID " + pasid + " entry on " + devices[d] + " is present " +
                "(-EBUSY)");
        }
        // pasid_clear_entry
        for (int q = 0; q < ENTRY_LENGTH; q += 8)
        {
            tableStore(table, e + q, 0);
        }
        tableStore(table, e + ENTRY_QW2_OFFSET, (root & ADDRESS_MASK) | NXE);
        tableStore(table, e + ENTRY_QW1_OFFSET, domainIdOf(p) | PWSNP);
        tableStore(table, e + ENTRY_QW0_OFFSET, (2L << AW_SHIFT) | ((long)PGTT_FL_ONLY << PGTT_SHIFT));
        entryStored(slot);
        setPresent(slot);
    }

    /** pasid_set_present: the last store of the setup. */
    void setPresent(final int slot)
    {
        final UnsafeBuffer table = table(slotDevice[slot], slotPasid[slot]);
        final int e = entryOffset(slotPasid[slot]);
        tableStoreRelease(table, e + ENTRY_QW0_OFFSET, table.getLong(e + ENTRY_QW0_OFFSET) | PTE_PRESENT);
        entryStored(slot);
    }

    @Override
    void driverInvalidateRange(final int p, final int pasid, final long address, final long length)
    {
        final boolean all = length > flushAllAboveBytes;
        final int span = spanLog2(address, length);
        final int did = domainIdOf(p);
        batched = 0;
        int index = claim(C_PIOTLB);
        if (all)
        {
            queue.putLong(index + QW0_OFFSET, pIotlb(GRAN_NONG_PASID, did, pasid));
            queue.putLong(index + QW1_OFFSET, 0);
        }
        else
        {
            final long base = (address >>> (12 + span)) << (12 + span);
            queue.putLong(index + QW0_OFFSET, pIotlb(GRAN_PSI_PASID, did, pasid));
            queue.putLong(index + QW1_OFFSET, (base & ADDR_MASK) | Math.min(span, 63));
        }
        queue.putLong(index + QW2_OFFSET, 0);
        queue.putLong(index + QW3_OFFSET, 0);
        batchAdded();
        final long devAddress = devtlbAddress(address, all ? 52 : span);
        final int[] slots = pasidSlots[p];
        for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
        {
            final int d = slotDevice[slots[i]];
            if (ats(d))
            {
                index = claim(C_DEVTLB);
                final int sid = devices[d].requesterId();
                queue.putLong(index + QW0_OFFSET, pDevtlb(sid, sid, pasid));
                queue.putLong(index + QW1_OFFSET, devAddress);
                queue.putLong(index + QW2_OFFSET, 0);
                queue.putLong(index + QW3_OFFSET, 0);
                batchAdded();
            }
        }
        if (batched > 0)
        {
            submitWait(0);
        }
    }

    private void batchAdded()
    {
        if (++batched == MAX_BATCH)
        {
            submitWait(0);
        }
    }

    @Override
    void driverRelease(final int p, final int pasid)
    {
        final int[] slots = pasidSlots[p];
        for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
        {
            tearDownEntry(slots[i], true);
        }
    }

    @Override
    void driverUnbind(final int slot, final int d, final int pasid, final int p, final boolean lastDevice)
    {
        tearDownEntry(slot, false);
        if (ats(d))
        {
            drainPasidPrq(slot);
        }
    }

    /** intel_pasid_tear_down_entry: nothing for an entry that is not present. */
    void tearDownEntry(final int slot, final boolean faultIgnore)
    {
        if (!hwTranslating(slot))
        {
            return;
        }
        clearEntry(slot, faultIgnore);
        final int did = domainIdOf(pasidIndexOf(slotPasid[slot]));
        submitPasidCache(did, slotPasid[slot]);
        submitWait(0);
        submitPiotlbAll(did, slotPasid[slot]);
        submitWait(0);
        if (ats(slotDevice[slot]))
        {
            submitDevtlbAll(slot);
            submitWait(0);
        }
    }

    /** intel_pasid_clear_entry: P cleared (FPD set when faults are to be ignored), then the rest zeroed. */
    void clearEntry(final int slot, final boolean faultIgnore)
    {
        final UnsafeBuffer table = table(slotDevice[slot], slotPasid[slot]);
        final int e = entryOffset(slotPasid[slot]);
        tableStoreRelease(table, e + ENTRY_QW0_OFFSET, faultIgnore ? PTE_FPD : 0);
        for (int q = 8; q < ENTRY_LENGTH; q += 8)
        {
            tableStore(table, e + q, 0);
        }
    }

    void submitPasidCache(final int did, final int pasid)
    {
        final int index = claim(C_PC);
        queue.putLong(index + QW0_OFFSET, pasidCache(did, pasid));
        queue.putLong(index + QW1_OFFSET, 0);
        queue.putLong(index + QW2_OFFSET, 0);
        queue.putLong(index + QW3_OFFSET, 0);
    }

    void submitPiotlbAll(final int did, final int pasid)
    {
        final int index = claim(C_PIOTLB);
        queue.putLong(index + QW0_OFFSET, pIotlb(GRAN_NONG_PASID, did, pasid));
        queue.putLong(index + QW1_OFFSET, 0);
        queue.putLong(index + QW2_OFFSET, 0);
        queue.putLong(index + QW3_OFFSET, 0);
    }

    void submitDevtlbAll(final int slot)
    {
        final int index = claim(C_DEVTLB);
        final int sid = devices[slotDevice[slot]].requesterId();
        queue.putLong(index + QW0_OFFSET, pDevtlb(sid, sid, slotPasid[slot]));
        queue.putLong(index + QW1_OFFSET, DEVTLB_ALL_ADDR | DEVTLB_SIZE);
        queue.putLong(index + QW2_OFFSET, 0);
        queue.putLong(index + QW3_OFFSET, 0);
    }

    /** qi_submit_sync's appended wait: status write, then the driver spins on the status. */
    void submitWait(final long flags)
    {
        batched = 0;
        final int index = claim(C_WAIT);
        final long token = nextWaitToken();
        queue.putLong(index + QW0_OFFSET, iwd(flags, (int)token));
        queue.putLong(index + QW1_OFFSET, 0);
        queue.putLong(index + QW2_OFFSET, token);
        queue.putLong(index + QW3_OFFSET, 0);
        awaitStatus(token);
    }

    /** intel_drain_pasid_prq: answer the PASID's queued requests, then the fenced drain sequence (spec 7.10). */
    void drainPasidPrq(final int slot)
    {
        drainPageRequests(slot);
        int index = claim(C_WAIT);
        queue.putLong(index + QW0_OFFSET, TYPE_IWD | IWD_FENCE);
        queue.putLong(index + QW1_OFFSET, 0);
        queue.putLong(index + QW2_OFFSET, 0);
        queue.putLong(index + QW3_OFFSET, 0);
        submitPiotlbAll(domainIdOf(pasidIndexOf(slotPasid[slot])), slotPasid[slot]);
        submitDevtlbAll(slot);
        submitWait(IWD_PRQ_DRAIN);
    }

    // ---- page requests

    @Override
    void writePageRequest(final int index, final int requesterId, final int pasid, final long address, final int group)
    {
        prq.putLong(index, 1 | (1L << 8) | ((long)requesterId << 16) | ((long)pasid << 32));
        prq.putLong(index + 8, 1 | (1L << 2) | ((long)group << 3) | address);
        prq.putLong(index + 16, 0);
        prq.putLong(index + 24, 0);
    }

    @Override
    int pageRequestRequesterId(final int index)
    {
        return (int)((prq.getLong(index) >>> 16) & 0xFFFF);
    }

    @Override
    int pageRequestPasid(final int index)
    {
        return (int)((prq.getLong(index) >>> 32) & 0xFFFFF);
    }

    @Override
    void respond(final int index, final boolean success)
    {
        final int claimed = claim(C_PGRP);
        queue.putLong(claimed + QW0_OFFSET, pageGroupResponse(pageRequestRequesterId(index), pageRequestPasid(index),
            success ? RESP_SUCCESS : RESP_INVALID));
        queue.putLong(claimed + QW1_OFFSET, (1L << 2) | (((prq.getLong(index + 8) >>> 3) & 0x1FF) << 3));
        queue.putLong(claimed + QW2_OFFSET, 0);
        queue.putLong(claimed + QW3_OFFSET, 0);
        // intel_svm_page_response / handle_bad_prq_event: one qi_submit_sync per response.
        submitWait(0);
    }

    @Override
    void finishResponses(final int n)
    {
    }

    // ---- the simulated IOMMU

    @Override
    void execute(final int index)
    {
        final long qw0 = queue.getLong(index + QW0_OFFSET);
        switch (type(qw0))
        {
            case TYPE_PC:
                forEachSlotOf(pasid(qw0), C_PC);
                break;
            case TYPE_P_IOTLB:
                if (GRAN_NONG_PASID == granularity(qw0))
                {
                    forEachSlotOf(pasid(qw0), C_PIOTLB);
                }
                break;
            case TYPE_P_DEVTLB:
            {
                final long qw1 = queue.getLong(index + QW1_OFFSET);
                final int d = deviceIndexOfRequesterId(sid(qw0));
                final boolean all = 0 != (qw1 & DEVTLB_SIZE) && (qw1 & ADDR_MASK) == DEVTLB_ALL_ADDR;
                hwDevtlbInvalidate(d < 0 ? -1 : slotOf(d, pasid(qw0)), all);
                break;
            }
            case TYPE_IWD:
                if (0 != (qw0 & IWD_STATUS_WRITE))
                {
                    hwCompleteWait(queue.getLong(index + QW2_OFFSET));
                }
                break;
            case TYPE_PGRP_RESP:
                break;
            default:
                violation("vtd: unknown descriptor type " + type(qw0) + " at queue offset " + index);
        }
    }

    private void forEachSlotOf(final int pasid, final int command)
    {
        final int p = pasidIndexOf(pasid);
        if (p < 0)
        {
            return;
        }
        final int[] slots = pasidSlots[p];
        for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
        {
            if (C_PC == command)
            {
                hwEntryCacheInvalidate(slots[i]);
            }
            else
            {
                hwIotlbInvalidateAll(slots[i]);
            }
        }
    }

    @Override
    String describe(final int index)
    {
        final long qw0 = queue.getLong(index + QW0_OFFSET);
        final long qw1 = queue.getLong(index + QW1_OFFSET);
        switch (type(qw0))
        {
            case TYPE_PC:
                return "PC_INV did=" + did(qw0) + " pasid=" + pasid(qw0);
            case TYPE_P_IOTLB:
                return GRAN_NONG_PASID == granularity(qw0) ?
                    "P_IOTLB did=" + did(qw0) + " pasid=" + pasid(qw0) + " all" :
                    "P_IOTLB did=" + did(qw0) + " pasid=" + pasid(qw0) + " addr=" + hex(qw1 & ADDR_MASK) + " am=" +
                        (qw1 & 0x3F);
            case TYPE_P_DEVTLB:
                return "P_DEVTLB sid=" + hex(sid(qw0)) + " pasid=" + pasid(qw0) +
                    ((qw1 & ADDR_MASK) == DEVTLB_ALL_ADDR ? " all" : " addr=" + hex(qw1 & ADDR_MASK) +
                        (0 != (qw1 & DEVTLB_SIZE) ? " s=1" : ""));
            case TYPE_IWD:
                return "IWD" + (0 != (qw0 & IWD_FENCE) ? " fence" : "") + (0 != (qw0 & IWD_PRQ_DRAIN) ? " drain" : "") +
                    (0 != (qw0 & IWD_STATUS_WRITE) ? " sw" : "");
            case TYPE_PGRP_RESP:
                return "PGRP_RESP rid=" + hex(sid(qw0)) + " pasid=" + pasid(qw0) + " code=" + ((qw0 >>> 12) & 0xF);
            default:
                return "type " + type(qw0);
        }
    }
}
