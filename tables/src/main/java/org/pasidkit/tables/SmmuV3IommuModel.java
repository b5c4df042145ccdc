package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import static org.pasidkit.tables.internal.SmmuV3CdTableDescriptor.*;
import static org.pasidkit.tables.internal.SmmuV3CommandDescriptor.*;

/**
 * Arm SMMUv3 with SVA as Linux drives it (one SVA domain, hence one ASID, per PASID; one stream ID per master; no
 * range invalidation, so {@code CMDQ_MAX_TLBI_OPS} applies; broadcast TLB maintenance optional). A device with ATS
 * also has PRI.
 * <ul>
 *   <li>Tables: {@link org.pasidkit.tables.internal.SmmuV3CdTableDescriptor}; commands:
 *       {@link org.pasidkit.tables.internal.SmmuV3CommandDescriptor} (16 bytes each).</li>
 *   <li>Not thread-safe (see {@link IommuModel}).</li>
 * </ul>
 */
/*
 * Design notes: the rules and where each comes from (Linux drivers/iommu/arm/arm-smmu-v3/, v6.10+).
 *
 * bind - arm_smmu_sva_set_dev_pasid -> arm_smmu_make_sva_cd (V, ASID, TCR fields, TTB0 = mm->pgd, MAIR) ->
 *   arm_smmu_set_pasid -> arm_smmu_write_cd_entry. With a two-level table, arm_smmu_alloc_cd_ptr allocates the leaf on
 *   first use, writes the L1 descriptor (arm_smmu_write_cd_l1_desc) and syncs it ("an invalid L1CD can be cached":
 *   CFGI_CD with leaf = 0, CMD_SYNC). The CD itself goes through arm_smmu_write_entry's hitless update: V is the only
 *   used bit of an invalid CD, so every other qword is written first and synced (arm_smmu_sync_cd: CFGI_CD per stream
 *   ID, batched, CMD_SYNC), then qword 0 with V, synced again. arm_smmu_attach_commit then invalidates the ATC of the
 *   SSID on a master with ATS (arm_smmu_atc_inv_master: ATC_INV of everything, CMD_SYNC).
 * change - arm_smmu_mm_arch_invalidate_secondary_tlbs: a range of CMDQ_MAX_TLBI_OPS (512) pages or more becomes
 *   size 0: arm_smmu_tlb_inv_asid (TLBI_NH_ASID + CMD_SYNC) and an ATC_INV of everything; otherwise
 *   arm_smmu_tlb_inv_range_asid issues one TLBI_NH_VA per 4 KiB page into a command batch (CMDQ_BATCH_ENTRIES = 64
 *   commands: a full batch is issued without a sync) and submits it with one CMD_SYNC. Then arm_smmu_atc_inv_domain:
 *   nothing if no master has ATS (nr_ats_masters), else one ATC_INV per (master with ATS, stream ID) for the SSID,
 *   span rounded as arm_smmu_atc_inv_to_cmd does, batched, one CMD_SYNC. With broadcast TLB maintenance (BTM; the
 *   v5.11-v6.5 driver, arm_smmu_mm_invalidate_range) the CPU's TLBI reaches the SMMU and no TLBI command is sent.
 * release (mm exit) - arm_smmu_mm_release: each master's CD becomes the quiet CD (arm_smmu_make_sva_cd with mm NULL:
 *   EPD0 set, S and R cleared, still valid to avoid C_BAD_CD): qword 0 changes first (synced), then TTB0 is cleared as
 *   now unused (synced); then arm_smmu_tlb_inv_asid (TLBI_NH_ASID + CMD_SYNC) and arm_smmu_atc_inv_domain of
 *   everything (ATC_INV per master with ATS, CMD_SYNC).
 * unbind - arm_smmu_remove_dev_pasid -> arm_smmu_clear_cd (V cleared first, synced; the rest zeroed, synced), then
 *   arm_smmu_atc_inv_master for a master with ATS; page requests of the PASID still queued are answered with
 *   CMD_PRI_RESP deny (arm_smmu_handle_ppr answers every PRI request with deny) and a CMD_SYNC; when the last master
 *   leaves, arm_smmu_sva_domain_free flushes the ASID (TLBI_NH_ASID + CMD_SYNC) before the ASID can be reused.
 * The SMMU's TLB is tagged by ASID, which only a valid CD supplies: once the CD cache is invalidated no translation
 * request can hit it, so the ATC_INV of a teardown needs the CD invalidated first, not the TLBI.
 */
final class SmmuV3IommuModel extends ArchIommuModel
{
    static final List<String> COMMANDS = List.of("CFGI_CD", "TLBI_NH_ASID", "TLBI_NH_VA", "ATC_INV", "PRI_RESP",
        "CMD_SYNC");
    static final int C_CFGI_CD = 0;
    static final int C_TLBI_ASID = 1;
    static final int C_TLBI_VA = 2;
    static final int C_ATC_INV = 3;
    static final int C_PRI_RESP = 4;
    static final int C_SYNC = 5;
    /** CMDQ_MAX_TLBI_OPS pages of 4 KiB (1 << (PAGE_SHIFT - 3)). */
    static final long MAX_TLBI_OPS_BYTES = 512L << 12;
    private static final int QUEUE_BYTES = 1 << 16;

    private final boolean btm;
    private final long tlbiAllFromBytes;
    private UnsafeBuffer[] l1 = new UnsafeBuffer[8];
    private final List<List<UnsafeBuffer>> leaves = new ArrayList<>();
    private boolean[] linear = new boolean[8];
    private final Int2IntHashMap pasidByAsid = new Int2IntHashMap(-1);

    SmmuV3IommuModel(final long flushAllAboveBytes, final boolean btm)
    {
        super(IommuArch.SMMUV3, COMMANDS, flushAllAboveBytes, LENGTH, QUEUE_BYTES, PRIQ_ENTRY_LENGTH, 256);
        this.btm = btm;
        this.tlbiAllFromBytes = Math.min(MAX_TLBI_OPS_BYTES, flushAllAboveBytes);
    }

    @Override
    void deviceAdded(final int d, final Device device)
    {
        if (d == l1.length)
        {
            l1 = Arrays.copyOf(l1, d * 2);
            linear = Arrays.copyOf(linear, d * 2);
        }
        final List<UnsafeBuffer> list = new ArrayList<>();
        leaves.add(list);
        if (twoLevel(device.pasidBits()))
        {
            l1[d] = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                ((device.maxPasid() >>> SPLIT) + 1) * L1_DESC_LENGTH, 64));
        }
        else
        {
            linear[d] = true;
            list.add(new UnsafeBuffer(BufferUtil.allocateDirectAligned((device.maxPasid() + 1) * CD_LENGTH, 64)));
        }
    }

    static int asidOf(final int pasidIndex)
    {
        return 1 + pasidIndex % 0xFFFE;
    }

    /** The leaf (or linear table) holding {@code ssid}'s CD; null if its L1 descriptor is not valid. */
    private UnsafeBuffer leaf(final int d, final int ssid)
    {
        if (linear[d])
        {
            return leaves.get(d).get(0);
        }
        // NOTE: acquire, pairs with the release store of the L1 descriptor in cdTable.
        final long desc = l1[d].getLongAcquire((ssid >>> SPLIT) * L1_DESC_LENGTH);
        return 0 == (desc & L1_V) ? null : leaves.get(d).get((int)((desc & L1_L2PTR_MASK) >>> 16) - 1);
    }

    private int cdOffset(final int d, final int ssid)
    {
        return (linear[d] ? ssid : ssid & (L2_ENTRIES - 1)) * CD_LENGTH;
    }

    @Override
    boolean hwTranslating(final int slot)
    {
        final UnsafeBuffer leaf = leaf(slotDevice[slot], slotPasid[slot]);
        if (null == leaf)
        {
            return false;
        }
        final long qw0 = leaf.getLongAcquire(cdOffset(slotDevice[slot], slotPasid[slot]) + QW0_OFFSET);
        return 0 != (qw0 & V) && 0 == (qw0 & EPD0);
    }

    @Override
    String hwEntryProblem(final int slot)
    {
        final int d = slotDevice[slot];
        final UnsafeBuffer leaf = leaf(d, slotPasid[slot]);
        if (0 == (leaf.getLong(cdOffset(d, slotPasid[slot]) + QW1_OFFSET) & TTB0_MASK))
        {
            return "smmuv3: CD of SSID " + slotPasid[slot] + " on " + devices[d] + " valid before its TTB0";
        }
        return null;
    }

    @Override
    boolean iotlbServesWithoutEntry()
    {
        return false;
    }

    // ---- driver steps

    @Override
    void driverBind(final int slot, final int d, final int pasid, final int p, final long root)
    {
        final int asid = asidOf(p);
        pasidByAsid.put(asid, pasid);
        final UnsafeBuffer leaf = cdTable(d, pasid);
        final int cd = cdOffset(d, pasid);
        if (0 != (leaf.getLong(cd + QW0_OFFSET) & V))
        {
            throw new IllegalStateException("smmuv3: CD of SSID " + pasid + " on " + devices[d] + " is valid");
        }
        final long qw0 = T0SZ_48 | TG0_4K | IRGN0_WBWA | ORGN0_WBWA | SH0_IS | EPD1 | IPS_48 | AA64 | R | A | ASET |
            ((long)asid << ASID_SHIFT);
        tableStore(leaf, cd + QW1_OFFSET, root & TTB0_MASK);
        tableStore(leaf, cd + QW3_OFFSET, MAIR);
        tableStore(leaf, cd + QW0_OFFSET, qw0);
        entryStored(slot);
        syncCd(d, pasid);
        writeCdQword0(slot, qw0 | V);
        syncCd(d, pasid);
        if (ats(d))
        {
            atcInvAll(d, pasid);
            sync();
        }
    }

    /** arm_smmu_alloc_cd_ptr: the leaf on first use, its L1 descriptor, and a sync of the (possibly cached) L1. */
    private UnsafeBuffer cdTable(final int d, final int ssid)
    {
        UnsafeBuffer leaf = leaf(d, ssid);
        if (null == leaf)
        {
            leaf = new UnsafeBuffer(BufferUtil.allocateDirectAligned(L2_LENGTH, 4096));
            final List<UnsafeBuffer> list = leaves.get(d);
            list.add(leaf);
            tableStoreRelease(l1[d], (ssid >>> SPLIT) * L1_DESC_LENGTH, ((long)list.size() << 16) | L1_V);
            final int index = claim(C_CFGI_CD);
            queue.putLong(index, cfgiCd(devices[d].requesterId(), ssid));
            queue.putLong(index + 8, 0);
            sync();
        }
        return leaf;
    }

    void writeCdQword0(final int slot, final long qw0)
    {
        final int d = slotDevice[slot];
        tableStoreRelease(leaf(d, slotPasid[slot]), cdOffset(d, slotPasid[slot]) + QW0_OFFSET, qw0);
        entryStored(slot);
    }

    void writeCdQword(final int slot, final int offset, final long value)
    {
        final int d = slotDevice[slot];
        tableStore(leaf(d, slotPasid[slot]), cdOffset(d, slotPasid[slot]) + offset, value);
    }

    long cdQword0(final int slot)
    {
        final int d = slotDevice[slot];
        return leaf(d, slotPasid[slot]).getLong(cdOffset(d, slotPasid[slot]) + QW0_OFFSET);
    }

    /** arm_smmu_sync_cd: CFGI_CD (leaf) per stream ID, then the batch's CMD_SYNC. */
    void syncCd(final int d, final int ssid)
    {
        final int index = claim(C_CFGI_CD);
        queue.putLong(index, cfgiCd(devices[d].requesterId(), ssid));
        queue.putLong(index + 8, 1);
        sync();
    }

    void atcInvAll(final int d, final int ssid)
    {
        final int index = claim(C_ATC_INV);
        queue.putLong(index, atcInv(devices[d].requesterId(), ssid));
        queue.putLong(index + 8, SIZE_ALL);
    }

    void submitTlbiAsid(final int asid)
    {
        final int index = claim(C_TLBI_ASID);
        queue.putLong(index, tlbiAsid(OP_TLBI_NH_ASID, asid));
        queue.putLong(index + 8, 0);
        sync();
    }

    void sync()
    {
        final int index = claim(C_SYNC);
        final long token = nextWaitToken();
        queue.putLong(index, OP_CMD_SYNC | CS_SEV | (token << 32));
        queue.putLong(index + 8, 0);
        awaitStatus(token);
    }

    @Override
    void driverInvalidateRange(final int p, final int pasid, final long address, final long length)
    {
        final boolean all = length >= tlbiAllFromBytes;
        final int asid = asidOf(p);
        if (!btm)
        {
            if (all)
            {
                submitTlbiAsid(asid);
            }
            else
            {
                final long end = (address + length + 0xFFF) & PAGE_MASK;
                for (long va = address & PAGE_MASK; va < end; va += 4096)
                {
                    final int index = claim(C_TLBI_VA);
                    queue.putLong(index, tlbiAsid(OP_TLBI_NH_VA, asid));
                    queue.putLong(index + 8, va);
                }
                sync();
            }
        }
        final long dw1 = all ? SIZE_ALL : atcInvRange(address, spanLog2(address, length));
        final int[] slots = pasidSlots[p];
        boolean any = false;
        for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
        {
            final int d = slotDevice[slots[i]];
            if (ats(d))
            {
                final int index = claim(C_ATC_INV);
                queue.putLong(index, atcInv(devices[d].requesterId(), pasid));
                queue.putLong(index + 8, dw1);
                any = true;
            }
        }
        if (any)
        {
            sync();
        }
    }

    @Override
    void driverRelease(final int p, final int pasid)
    {
        final int[] slots = pasidSlots[p];
        final int n = pasidSlotCount[p];
        for (int i = 0; i < n; i++)
        {
            final int slot = slots[i];
            final int d = slotDevice[slot];
            // arm_smmu_make_sva_cd(mm = NULL): the quiet CD; hitless: qword 0 (its used bits change), then TTB0.
            writeCdQword0(slot, EPD0 | EPD1 | V | IPS_48 | AA64 | A | ASET | ((long)asidOf(p) << ASID_SHIFT));
            syncCd(d, pasid);
            writeCdQword(slot, QW1_OFFSET, 0);
            syncCd(d, pasid);
        }
        submitTlbiAsid(asidOf(p));
        boolean any = false;
        for (int i = 0; i < n; i++)
        {
            final int d = slotDevice[slots[i]];
            if (ats(d))
            {
                atcInvAll(d, pasid);
                any = true;
            }
        }
        if (any)
        {
            sync();
        }
    }

    @Override
    void driverUnbind(final int slot, final int d, final int pasid, final int p, final boolean lastDevice)
    {
        if (0 != (cdQword0(slot) & V))
        {
            // arm_smmu_clear_cd: V first (the only used bit of the target), then the rest.
            writeCdQword0(slot, 0);
            syncCd(d, pasid);
            writeCdQword(slot, QW1_OFFSET, 0);
            writeCdQword(slot, QW3_OFFSET, 0);
            syncCd(d, pasid);
        }
        if (ats(d))
        {
            atcInvAll(d, pasid);
            sync();
        }
        drainPageRequests(slot);
        if (lastDevice)
        {
            submitTlbiAsid(asidOf(p));
        }
        else
        {
            // NOTE: the ASID stays in use by the domain's other masters (the same address space), and this stream's
            // CD is invalid, so no request of it can reach those TLB entries; the domain's free flushes the ASID.
            slotFlags[slot] &= ~F_IOTLB_DIRTY;
        }
    }

    // ---- page requests

    @Override
    void writePageRequest(final int index, final int requesterId, final int pasid, final long address, final int group)
    {
        prq.putLong(index, (requesterId & 0xFFFFFFFFL) | ((long)pasid << 32) | PRIQ_LAST | PRIQ_SSV);
        prq.putLong(index + 8, address | group);
    }

    @Override
    int pageRequestRequesterId(final int index)
    {
        return (int)(prq.getLong(index) & 0xFFFF);
    }

    @Override
    int pageRequestPasid(final int index)
    {
        return (int)((prq.getLong(index) >>> 32) & 0xFFFFF);
    }

    @Override
    void respond(final int index, final boolean success)
    {
        final int claimed = claim(C_PRI_RESP);
        queue.putLong(claimed, priResp(pageRequestRequesterId(index), pageRequestPasid(index)));
        queue.putLong(claimed + 8, (prq.getLong(index + 8) & 0x1FF) | ((long)(success ? RESP_SUCC : RESP_DENY) << 12));
    }

    @Override
    void finishResponses(final int n)
    {
        if (n > 0)
        {
            sync();
        }
    }

    // ---- the simulated SMMU

    @Override
    void execute(final int index)
    {
        final long dw0 = queue.getLong(index);
        final long dw1 = queue.getLong(index + 8);
        switch (opcode(dw0))
        {
            case OP_CFGI_CD:
            {
                final int d = deviceIndexOfRequesterId(sid(dw0));
                hwEntryCacheInvalidate(d < 0 ? -1 : slotOf(d, ssid(dw0)));
                break;
            }
            case OP_TLBI_NH_ASID:
            {
                final int p = pasidIndexOf(pasidByAsid.get(asid(dw0)));
                if (p >= 0)
                {
                    for (int i = 0, n = pasidSlotCount[p]; i < n; i++)
                    {
                        hwIotlbInvalidateAll(pasidSlots[p][i]);
                    }
                }
                break;
            }
            case OP_TLBI_NH_VA:
            case OP_PRI_RESP:
                break;
            case OP_ATC_INV:
            {
                final int d = deviceIndexOfRequesterId(sid(dw0));
                hwDevtlbInvalidate(d < 0 ? -1 : slotOf(d, ssid(dw0)), SIZE_ALL == (dw1 & 0x3F));
                break;
            }
            case OP_CMD_SYNC:
                hwCompleteWait(dw0 >>> 32);
                break;
            default:
                violation("smmuv3: unknown opcode " + hex(opcode(dw0)) + " at queue offset " + index);
        }
    }

    @Override
    String describe(final int index)
    {
        final long dw0 = queue.getLong(index);
        final long dw1 = queue.getLong(index + 8);
        switch (opcode(dw0))
        {
            case OP_CFGI_CD:
                return "CFGI_CD sid=" + hex(sid(dw0)) + " ssid=" + ssid(dw0) + " leaf=" + (dw1 & 1);
            case OP_TLBI_NH_ASID:
                return "TLBI_NH_ASID asid=" + asid(dw0);
            case OP_TLBI_NH_VA:
                return "TLBI_NH_VA asid=" + asid(dw0) + " va=" + hex(dw1 & PAGE_MASK);
            case OP_ATC_INV:
                return "ATC_INV sid=" + hex(sid(dw0)) + " ssid=" + ssid(dw0) +
                    (SIZE_ALL == (dw1 & 0x3F) ? " all" : " addr=" + hex(dw1 & PAGE_MASK) + " size=" + (dw1 & 0x3F));
            case OP_PRI_RESP:
                return "PRI_RESP sid=" + hex(sid(dw0)) + " ssid=" + ssid(dw0) + " resp=" +
                    (RESP_SUCC == ((dw1 >>> 12) & 3) ? "succ" : "deny");
            case OP_CMD_SYNC:
                return "CMD_SYNC";
            default:
                return "opcode " + hex(opcode(dw0));
        }
    }
}
