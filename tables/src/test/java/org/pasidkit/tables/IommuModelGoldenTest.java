package org.pasidkit.tables;

import java.util.List;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Golden command sequences per architecture model, checked against the driver rules each model's design notes cite:
 * a bind, an address-space change, an exit with two devices (A with ATS and PRI, B without), a teardown with page
 * requests outstanding; and deliberately wrong orders that each simulated IOMMU must report.
 */
class IommuModelGoldenTest
{
    /** Devices come from a space (their constructor is the space's); the models only read requester id and ATS. */
    final PasidSpace space = PasidSpace.builder().maxPasid((1 << 20) - 1).build();

    static final long ROOT = 0x1000;
    static final long ADDRESS = 0x7f0000001000L;
    static final int PASID = 5;

    final Device a = space.addDevice(0x100, 20, true, null);
    final Device b = space.addDevice(0x108, 20, false, null);

    IommuModel model(final IommuArch arch)
    {
        final IommuModel m = IommuModel.create(arch);
        m.addDevice(a);
        m.addDevice(b);
        m.logCommands(true);
        return m;
    }

    static void noViolations(final IommuModel m)
    {
        assertEquals(0, m.counts().violations(), () -> m.counts().firstViolations().toString());
    }

    @Nested
    class Vtd
    {
        final IommuModel m = model(IommuArch.VTD);

        @Test
        void bindQueuesNothingAndWritesTheEntryPresentLast()
        {
            m.bind(a, PASID, ROOT);
            // Not in caching mode: pasid_flush_caches flushes the write buffer only (a register, no descriptor).
            assertEquals(List.of(), m.drainLog());
            // directory entry (8) + pasid_clear_entry (64) + FLPTR, DID, AW/PGTT (24) + present (8)
            assertEquals(104, m.counts().tableBytesTouched());
            noViolations(m);
        }

        @Test
        void changeBatchesIotlbFirstThenDeviceTlbsThenOneWait()
        {
            m.bind(a, PASID, ROOT);
            m.bind(b, PASID, ROOT);
            m.drainLog();
            m.invalidateRange(PASID, ADDRESS, 0x2000);
            assertEquals(List.of(
                "P_IOTLB did=1 pasid=5 addr=0x7f0000000000 am=2",
                "P_DEVTLB sid=0x100 pasid=5 addr=0x7f0000001000 s=1",
                "IWD sw"), m.drainLog());
            assertEquals(1, m.counts().deviceTlbInvalidationsInChanges());
            noViolations(m);
        }

        @Test
        void exitWithTwoDevicesThenUnbindDrainsThePageRequests()
        {
            m.bind(a, PASID, ROOT);
            m.bind(b, PASID, ROOT);
            m.drainLog();
            assertTrue(m.pageRequest(a, PASID, ADDRESS));
            assertTrue(m.pageRequest(a, PASID, ADDRESS + 4096));
            assertFalse(m.pageRequest(b, PASID, ADDRESS), "B has no PRI");
            m.release(PASID);
            assertEquals(List.of(
                "PC_INV did=1 pasid=5", "IWD sw", "P_IOTLB did=1 pasid=5 all", "IWD sw",
                "P_DEVTLB sid=0x100 pasid=5 all", "IWD sw",
                "PC_INV did=1 pasid=5", "IWD sw", "P_IOTLB did=1 pasid=5 all", "IWD sw"), m.drainLog());
            m.unbind(a, PASID);
            assertEquals(List.of(
                "PGRP_RESP rid=0x100 pasid=5 code=1", "IWD sw",
                "PGRP_RESP rid=0x100 pasid=5 code=1", "IWD sw",
                "IWD fence", "P_IOTLB did=1 pasid=5 all", "P_DEVTLB sid=0x100 pasid=5 all", "IWD drain sw"),
                m.drainLog());
            m.unbind(b, PASID);
            assertEquals(List.of(), m.drainLog(), "entry already cleared by release, no PRI: nothing to do");
            assertEquals(2, m.counts().pageRequestsDrained());
            m.bind(a, PASID, 0x2000);
            noViolations(m);
        }

        @Test
        void deviceTlbBeforePasidCacheIsAViolation()
        {
            m.bind(a, PASID, ROOT);
            final VtdIommuModel vtd = (VtdIommuModel)m;
            final int slot = vtd.slotOf(0, PASID);
            vtd.clearEntry(slot, true);
            vtd.submitDevtlbAll(slot);
            vtd.submitWait(0);
            vtd.submitPasidCache(1, PASID);
            vtd.submitWait(0);
            vtd.submitPiotlbAll(1, PASID);
            vtd.submitWait(0);
            assertEquals(1, m.counts().violations());
            assertTrue(m.counts().firstViolations().get(0).contains("entry cache not invalidated"),
                m.counts().firstViolations().toString());
        }

        @Test
        void deviceTlbBeforeIotlbIsAViolation()
        {
            m.bind(a, PASID, ROOT);
            final VtdIommuModel vtd = (VtdIommuModel)m;
            final int slot = vtd.slotOf(0, PASID);
            vtd.clearEntry(slot, true);
            vtd.submitPasidCache(1, PASID);
            vtd.submitWait(0);
            vtd.submitDevtlbAll(slot);
            vtd.submitWait(0);
            assertEquals(1, m.counts().violations());
            assertTrue(m.counts().firstViolations().get(0).contains("IOTLB not invalidated"),
                m.counts().firstViolations().toString());
        }
    }

    @Nested
    class SmmuV3
    {
        final IommuModel m = model(IommuArch.SMMUV3);

        @Test
        void bindSyncsTheL1TheCdBodyThenV()
        {
            m.bind(a, PASID, ROOT);
            assertEquals(List.of(
                "CFGI_CD sid=0x100 ssid=5 leaf=0", "CMD_SYNC",
                "CFGI_CD sid=0x100 ssid=5 leaf=1", "CMD_SYNC",
                "CFGI_CD sid=0x100 ssid=5 leaf=1", "CMD_SYNC",
                "ATC_INV sid=0x100 ssid=5 all", "CMD_SYNC"), m.drainLog());
            m.bind(b, PASID, ROOT);
            assertEquals(List.of(
                "CFGI_CD sid=0x108 ssid=5 leaf=0", "CMD_SYNC",
                "CFGI_CD sid=0x108 ssid=5 leaf=1", "CMD_SYNC",
                "CFGI_CD sid=0x108 ssid=5 leaf=1", "CMD_SYNC"), m.drainLog(), "no ATS: no ATC_INV");
            noViolations(m);
        }

        @Test
        void changeTlbiPerPageThenAtcInvPerAtsMaster()
        {
            m.bind(a, PASID, ROOT);
            m.bind(b, PASID, ROOT);
            m.drainLog();
            m.invalidateRange(PASID, ADDRESS, 0x2000);
            assertEquals(List.of(
                "TLBI_NH_VA asid=1 va=0x7f0000001000", "TLBI_NH_VA asid=1 va=0x7f0000002000", "CMD_SYNC",
                "ATC_INV sid=0x100 ssid=5 addr=0x7f0000000000 size=2", "CMD_SYNC"), m.drainLog());
            m.invalidateRange(PASID, ADDRESS, 4L << 20);
            assertEquals(List.of("TLBI_NH_ASID asid=1", "CMD_SYNC", "ATC_INV sid=0x100 ssid=5 all", "CMD_SYNC"),
                m.drainLog(), "512 pages or more: CMDQ_MAX_TLBI_OPS, the whole ASID");
            assertEquals(2, m.counts().deviceTlbInvalidationsInChanges());
            noViolations(m);
        }

        @Test
        void btmSendsNoTlbi()
        {
            final IommuModel btm = new SmmuV3IommuModel(IommuModel.DEFAULT_FLUSH_ALL_ABOVE_BYTES, true);
            btm.addDevice(a);
            btm.bind(a, PASID, ROOT);
            btm.logCommands(true);
            btm.invalidateRange(PASID, ADDRESS, 0x2000);
            assertEquals(List.of("ATC_INV sid=0x100 ssid=5 addr=0x7f0000000000 size=2", "CMD_SYNC"), btm.drainLog());
        }

        @Test
        void exitWithTwoDevicesThenUnbindDrainsThePageRequests()
        {
            m.bind(a, PASID, ROOT);
            m.bind(b, PASID, ROOT);
            m.drainLog();
            assertTrue(m.pageRequest(a, PASID, ADDRESS));
            m.release(PASID);
            assertEquals(List.of(
                "CFGI_CD sid=0x100 ssid=5 leaf=1", "CMD_SYNC", "CFGI_CD sid=0x100 ssid=5 leaf=1", "CMD_SYNC",
                "CFGI_CD sid=0x108 ssid=5 leaf=1", "CMD_SYNC", "CFGI_CD sid=0x108 ssid=5 leaf=1", "CMD_SYNC",
                "TLBI_NH_ASID asid=1", "CMD_SYNC",
                "ATC_INV sid=0x100 ssid=5 all", "CMD_SYNC"), m.drainLog());
            m.unbind(a, PASID);
            assertEquals(List.of(
                "CFGI_CD sid=0x100 ssid=5 leaf=1", "CMD_SYNC", "CFGI_CD sid=0x100 ssid=5 leaf=1", "CMD_SYNC",
                "ATC_INV sid=0x100 ssid=5 all", "CMD_SYNC",
                "PRI_RESP sid=0x100 ssid=5 resp=deny", "CMD_SYNC"), m.drainLog());
            m.unbind(b, PASID);
            assertEquals(List.of(
                "CFGI_CD sid=0x108 ssid=5 leaf=1", "CMD_SYNC", "CFGI_CD sid=0x108 ssid=5 leaf=1", "CMD_SYNC",
                "TLBI_NH_ASID asid=1", "CMD_SYNC"), m.drainLog(), "the last master: the domain's ASID flush");
            assertEquals(1, m.counts().pageRequestsDrained());
            m.bind(a, PASID, 0x2000);
            noViolations(m);
        }

        @Test
        void atcInvBeforeTheCdIsSyncedIsAViolation()
        {
            m.bind(a, PASID, ROOT);
            final SmmuV3IommuModel smmu = (SmmuV3IommuModel)m;
            final int slot = smmu.slotOf(0, PASID);
            smmu.writeCdQword0(slot, 0);
            smmu.atcInvAll(0, PASID);
            smmu.sync();
            smmu.syncCd(0, PASID);
            assertEquals(1, m.counts().violations());
            assertTrue(m.counts().firstViolations().get(0).contains("entry cache not invalidated"),
                m.counts().firstViolations().toString());
        }
    }

    @Nested
    class AmdVi
    {
        final IommuModel m = model(IommuArch.AMD);

        @Test
        void bindFlushesTheDteOnceThenThePasid()
        {
            m.bind(a, PASID, ROOT);
            assertEquals(List.of(
                "INVALIDATE_DEVTAB_ENTRY devid=0x100", "COMPLETION_WAIT",
                "INVALIDATE_IOMMU_PAGES domid=1 pasid=5 all", "INVALIDATE_IOTLB_PAGES devid=0x100 pasid=5 all",
                "COMPLETION_WAIT"), m.drainLog());
            m.bind(a, PASID + 1, ROOT);
            assertEquals(List.of(
                "INVALIDATE_IOMMU_PAGES domid=1 pasid=6 all", "INVALIDATE_IOTLB_PAGES devid=0x100 pasid=6 all",
                "COMPLETION_WAIT"), m.drainLog(), "the GCR3 table is set up once per device");
            noViolations(m);
        }

        @Test
        void changeInvalidatesPerDeviceThenOneCompletionWait()
        {
            m.bind(a, PASID, ROOT);
            m.bind(b, PASID, ROOT);
            m.drainLog();
            m.invalidateRange(PASID, ADDRESS, 0x2000);
            assertEquals(List.of(
                "INVALIDATE_IOMMU_PAGES domid=1 pasid=5 addr=0x7f0000001000 s=1",
                "INVALIDATE_IOTLB_PAGES devid=0x100 pasid=5 addr=0x7f0000001000 s=1",
                "INVALIDATE_IOMMU_PAGES domid=2 pasid=5 addr=0x7f0000001000 s=1",
                "COMPLETION_WAIT"), m.drainLog());
            noViolations(m);
        }

        @Test
        void exitWithTwoDevicesThenUnbindDrainsThePageRequests()
        {
            m.bind(a, PASID, ROOT);
            m.bind(b, PASID, ROOT);
            m.drainLog();
            assertTrue(m.pageRequest(a, PASID, ADDRESS));
            assertTrue(m.pageRequest(a, PASID, ADDRESS + 8192));
            m.release(PASID);
            assertEquals(List.of(
                "INVALIDATE_IOMMU_PAGES domid=1 pasid=5 all", "INVALIDATE_IOTLB_PAGES devid=0x100 pasid=5 all",
                "COMPLETION_WAIT",
                "INVALIDATE_IOMMU_PAGES domid=2 pasid=5 all", "COMPLETION_WAIT"), m.drainLog());
            m.unbind(a, PASID);
            assertEquals(List.of(
                "COMPLETE_PPR_REQUEST devid=0x100 pasid=5 status=invalid",
                "COMPLETE_PPR_REQUEST devid=0x100 pasid=5 status=invalid", "COMPLETION_WAIT"), m.drainLog());
            m.unbind(b, PASID);
            assertEquals(List.of(), m.drainLog());
            assertEquals(2, m.counts().pageRequestsDrained());
            m.bind(a, PASID, 0x2000);
            noViolations(m);
        }

        @Test
        void deviceIotlbBeforeIommuPagesIsAViolation()
        {
            m.bind(a, PASID, ROOT);
            final AmdViIommuModel amd = (AmdViIommuModel)m;
            final int slot = amd.slotOf(0, PASID);
            amd.setGcr3Entry(slot, 0);
            amd.submitIotlbPagesAll(slot);
            amd.submitIommuPagesAll(slot);
            amd.completionWait();
            assertEquals(1, m.counts().violations());
            assertTrue(m.counts().firstViolations().get(0).contains("entry cache not invalidated"),
                m.counts().firstViolations().toString());
        }
    }

    @ParameterizedTest
    @EnumSource(value = IommuArch.class, names = {"VTD", "SMMUV3", "AMD"})
    void reuseWithoutTeardownIsAViolation(final IommuArch arch)
    {
        final IommuModel m = model(arch);
        m.bind(a, PASID, ROOT);
        final ArchIommuModel model = (ArchIommuModel)m;
        final int slot = model.slotOf(0, PASID);
        // A broken driver: clears the entry, issues no invalidation at all, lets the PASID go.
        switch (arch)
        {
            case VTD:
                ((VtdIommuModel)m).clearEntry(slot, false);
                break;
            case SMMUV3:
                ((SmmuV3IommuModel)m).writeCdQword0(slot, 0);
                break;
            default:
                ((AmdViIommuModel)m).setGcr3Entry(slot, 0);
        }
        model.unbindWithoutTeardown(a, PASID);
        m.bind(a, PASID, 0x2000);
        final String all = m.counts().firstViolations().toString();
        assertTrue(all.contains("reused before its device-TLB invalidation completed"), all);
        assertTrue(all.contains("reused while the IOMMU may still cache its previous entry"), all);
    }

    @ParameterizedTest
    @EnumSource(value = IommuArch.class, names = {"VTD", "SMMUV3", "AMD"})
    void pageRequestOfThePreviousLifeAtReuseIsAViolation(final IommuArch arch)
    {
        final IommuModel m = model(arch);
        m.bind(a, PASID, ROOT);
        m.release(PASID);
        m.unbind(a, PASID);
        noViolations(m);
        assertTrue(m.pageRequest(a, PASID, ADDRESS), "a late request, sent after the drain");
        m.bind(a, PASID, 0x2000);
        final String all = m.counts().firstViolations().toString();
        assertTrue(all.contains("page request of its previous life still queued"), all);
        m.servicePageRequests();
        assertTrue(m.counts().firstViolations().toString().contains("from its previous life handled in its new life"),
            m.counts().firstViolations().toString());
    }

    @ParameterizedTest
    @EnumSource(value = IommuArch.class, names = {"VTD", "SMMUV3", "AMD"})
    void badInputIsRefusedWithoutStateChange(final IommuArch arch)
    {
        final IommuModel m = model(arch);
        final IllegalArgumentException zeroRoot = assertThrows(IllegalArgumentException.class,
            () -> m.bind(a, PASID, 0));
        assertTrue(zeroRoot.getMessage().contains("page-table root 0x0"), zeroRoot.getMessage());
        final IllegalArgumentException pasid0 = assertThrows(IllegalArgumentException.class,
            () -> m.bind(a, 0, ROOT));
        assertTrue(pasid0.getMessage().contains("PASID 0 must be in [1,"), pasid0.getMessage());
        final Device stranger = space.addDevice(0x200, 20, true, null);
        assertThrows(IllegalArgumentException.class, () -> m.bind(stranger, PASID, ROOT));
        assertEquals(0, m.counts().binds());
        assertEquals(0, m.counts().commands());
        assertEquals(0, m.counts().tableBytesTouched());
    }

    @ParameterizedTest
    @EnumSource(value = IommuArch.class, names = {"VTD", "SMMUV3", "AMD"})
    void countsEveryChangeDeviceTlbAsTheGenericModelWould(final IommuArch arch)
    {
        final IommuModel m = model(arch);
        final Device c = space.addDevice(0x110, 20, true, null);
        m.addDevice(c);
        for (int pasid = 1; pasid <= 3; pasid++)
        {
            m.bind(a, pasid, ROOT * pasid);
            m.bind(b, pasid, ROOT * pasid);
            m.bind(c, pasid, ROOT * pasid);
        }
        m.logCommands(false);
        for (int i = 0; i < 40; i++)
        {
            for (int pasid = 1; pasid <= 3; pasid++)
            {
                m.invalidateRange(pasid, ADDRESS + i * 4096L, (1L + i) << 15);
            }
        }
        // 40 changes x 3 PASIDs x 2 devices with ATS (a, c), as the generic model's count.
        assertEquals(240, m.counts().deviceTlbInvalidationsInChanges());
        noViolations(m);
    }
}
