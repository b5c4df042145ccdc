package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.pasidkit.allocator.IdState;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.internal.PasidTableDescriptor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PasidSpaceTest
{
    private PasidSpace space;
    private Device gpu;
    private Device nic;
    private final List<ExitEvent> events = new ArrayList<>();

    @BeforeEach
    void setUp()
    {
        space = PasidSpace.builder().maxPasid(1023).build();
        gpu = space.addDevice(0x0100, 20, true, events::add);
        nic = space.addDevice(0x0200, 20, true, null);
    }

    private static AddressSpace mm(final PasidSpace in, final long id)
    {
        return TestAddressSpaces.mm(in, id);
    }

    private AddressSpace mm(final long id)
    {
        return mm(space, id);
    }

    private String stateOf()
    {
        return space.counts(new PasidSpaceCounts()).toString().replaceAll("oldestWaitNs=\\d+", "");
    }

    @Test
    void bindGivesTheSharedPasidAndPrivateGivesAnother()
    {
        final long h1 = space.bind(mm(7), gpu, "gpu-data", 0).handle();
        final long h2 = space.bind(mm(7), nic, "nic-data", 0).handle();
        assertEquals(PasidHandle.pasid(h1), PasidHandle.pasid(h2), "one shared PASID per address space");
        final long priv = space.bind(mm(7), gpu, "gpu-private", PasidSpace.PRIVATE).handle();
        assertNotEquals(PasidHandle.pasid(h1), PasidHandle.pasid(priv));

        final int pasid = PasidHandle.pasid(h1);
        assertEquals("gpu-data", space.driverData(pasid, gpu.requesterId()));
        assertEquals("nic-data", space.driverData(pasid, nic.requesterId()));
        assertEquals("gpu-private", space.driverData(PasidHandle.pasid(priv), gpu.requesterId()));
        assertNull(space.driverData(PasidHandle.pasid(priv), nic.requesterId()));

        final int[] rids = new int[4];
        assertEquals(2, space.bondsOf(pasid, rids));
        final int[] pasids = new int[4];
        assertEquals(2, space.pasidsOf(7, pasids));
        assertEquals(pasid, pasids[0]);
        assertEquals(PasidHandle.pasid(priv), pasids[1]);
    }

    @Test
    void exitTearsDownAtOnceNotifiesAndReclaimsOnlyAfterEveryUnbind()
    {
        final Bond gpuBond = space.bind(mm(9), gpu, "g", 0);
        final Bond nicBond = space.bind(mm(9), nic, "n", 0);
        final long handle = gpuBond.handle();
        final int pasid = PasidHandle.pasid(handle);

        space.exit(mm(9));
        final PasidEntryView view = new PasidEntryView();
        space.entry(pasid, view);
        assertEquals(PasidTableDescriptor.STATE_TEARDOWN, view.state());
        assertEquals(PasidTableDescriptor.DUMMY_ROOT, view.root());
        assertFalse(view.faultsOn());
        assertEquals(1, events.size(), "the listener was called");
        assertEquals(handle, events.get(0).handle());
        assertSame(gpuBond, events.get(0).bond(), "the event hands the driver its bond");
        assertEquals(ExitEvent.Kind.OWNER_GONE, events.get(0).kind());
        final List<ExitEvent> polled = new ArrayList<>();
        assertEquals(1, space.pollExitEvents(nic, polled::add, 10), "the NIC polls its event");

        final FaultAttribution fault = space.reportFault(gpu.requesterId(), pasid, 0x1000, new FaultAttribution());
        assertEquals(FaultAttribution.Kind.SUPPRESSED, fault.kind());

        space.unbind(gpuBond);
        assertEquals(IdState.HELD, space.allocator().stateOf(pasid), "one driver still bound");
        assertEquals(1, space.counts(new PasidSpaceCounts()).teardownPasids());
        space.unbind(nicBond);
        assertEquals(IdState.RETIRED, space.allocator().stateOf(pasid));
        space.entry(pasid, view);
        assertEquals(PasidTableDescriptor.STATE_RETIRED, view.state());
        assertEquals(0, space.counts(new PasidSpaceCounts()).teardownPasids());
        assertEquals(1, view.suppressedFaults());
    }

    @Test
    void aDriverThatNeverUnbindsHoldsOnlyItsOwnPasid()
    {
        final PasidSpace tiny = PasidSpace.builder().maxPasid(2).build();
        final Device d = tiny.addDevice(1, 20, true, null);
        final Bond stuck = tiny.bind(mm(tiny, 1), d, "x", 0);
        tiny.exit(mm(tiny, 1));
        final Bond other = tiny.bind(mm(tiny, 2), d, "y", 0);
        assertNotEquals(stuck.pasid(), other.pasid());
        tiny.unbind(other);
        tiny.exit(mm(tiny, 2));
        final Bond again = tiny.bind(mm(tiny, 3), d, "z", 0);
        assertEquals(other.pasid(), again.pasid(), "the freed PASID comes back");
        assertEquals(IdState.HELD, tiny.allocator().stateOf(stuck.pasid()));
        final PasidSpaceCounts counts = tiny.counts(new PasidSpaceCounts());
        assertEquals(1, counts.teardownPasids());
        assertEquals(1, counts.stuckBonds());
        assertTrue(counts.oldestStuckWaitNs() > 0, counts.toString());
        final StuckBonds list = tiny.stuckBonds(new StuckBonds(4));
        assertEquals(1, list.size());
        assertEquals(stuck.pasid(), list.pasid(0));
        assertEquals(1, list.requesterId(0));
        assertEquals(1, list.owner(0));
    }

    @Test
    void aSmallSpaceReusesAPasidFreedAMomentAgoAtTheNextBind()
    {
        // 63 PASIDs: an allocator without caches, whose allocations sweep retired ids in batches of 3 (or every 32nd
        // failure); the bind reclaims when the allocator answers "all in grace", so no reader means no refusal
        final PasidSpace small = PasidSpace.builder().maxPasid(63).build();
        assertFalse(small.allocator().hasPerCpuCaches());
        final Device d = small.addDevice(1, 20, true, null);
        final Bond[] bonds = new Bond[63];
        for (int i = 0; i < bonds.length; i++)
        {
            bonds[i] = small.bind(mm(small, 100 + i), d, "x", 0);
        }
        for (int round = 0; round < 5; round++)
        {
            final Bond freed = bonds[round * 7];
            small.exit(mm(small, 100 + round * 7));
            small.unbind(freed);
            final Bond again = small.bind(mm(small, 1_000 + round), d, "y", 0);
            assertEquals(freed.pasid(), again.pasid(), "round " + round + ": the only free PASID, at the first bind");
            bonds[round * 7] = again;
        }
    }

    @Test
    void staleHandlesAreRefusedAndNeverActOnTheNextOwner()
    {
        final PasidSpace tiny = PasidSpace.builder().maxPasid(1).build();
        final Device d = tiny.addDevice(1, 20, true, null);
        final Bond first = tiny.bind(mm(tiny, 1), d, "old", 0);
        tiny.exit(mm(tiny, 1));
        tiny.unbind(first);
        final Bond second = tiny.bind(mm(tiny, 2), d, "new", 0);
        assertEquals(first.pasid(), second.pasid());
        assertNotEquals(PasidHandle.generation(first.handle()), PasidHandle.generation(second.handle()));
        final CapabilityException ex = assertThrows(CapabilityException.class, () -> tiny.unbind(first));
        assertEquals(RefusalKind.STALE, ex.kind(), ex.getMessage());
        assertTrue(second.isBound());
        assertEquals("new", tiny.driverData(second.pasid(), 1));
    }

    @Test
    void standaloneOwnersQuotasForeignOwnersAndClose()
    {
        final PasidOwner vm = space.openOwner("gpu-vm-1", 2);
        final PasidOwner other = space.openOwner("guest-2");
        final long a = space.allocate(vm);
        final long b = space.allocate(vm);
        final Bond attached = space.attach(vm, a, gpu, "ctx-a");
        assertEquals("ctx-a", space.driverData(PasidHandle.pasid(a), gpu.requesterId()));

        String before = stateOf();
        final IllegalArgumentException quota = assertThrows(IllegalArgumentException.class, () -> space.allocate(vm));
        assertTrue(quota.getMessage().contains("quota of 2"), quota.getMessage());
        assertEquals(before, stateOf());

        before = stateOf();
        assertEquals(RefusalKind.FOREIGN, assertThrows(CapabilityException.class, () -> space.free(other, a)).kind());
        assertEquals(RefusalKind.FOREIGN,
            assertThrows(CapabilityException.class, () -> space.attach(other, b, nic, "steal")).kind());
        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        assertEquals(2, counts.refusals(RefusalKind.FOREIGN));
        assertEquals(before.replace("refusals=[0, 0, 0, 0]", "refusals=[2, 0, 0, 0]"), stateOf());

        space.close(vm);
        assertEquals(1, events.size(), "the bound GPU was told");
        assertEquals(IdState.RETIRED, space.allocator().stateOf(PasidHandle.pasid(b)), "unbound PASID retired");
        assertEquals(IdState.HELD, space.allocator().stateOf(PasidHandle.pasid(a)));
        assertThrows(IllegalArgumentException.class, () -> space.allocate(vm), "closed owner");
        space.unbind(attached);
        assertEquals(IdState.RETIRED, space.allocator().stateOf(PasidHandle.pasid(a)));
    }

    @Test
    void narrowDevicesAreRefusedLikeEoverflow()
    {
        final PasidSpace wide = PasidSpace.builder().maxPasid((1 << 20) - 1).build();
        final Device full = wide.addDevice(1, 20, true, null);
        final Device narrow = wide.addDevice(2, 4, true, null);
        final PasidAllocator allocator = wide.allocator();
        for (int i = 0; i < 15; i++)
        {
            allocator.allocate();
        }
        wide.bind(mm(wide, 5), full, "f", 0);
        final String before = wide.counts(new PasidSpaceCounts()).toString().replaceAll("oldestWaitNs=\\d+", "");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> wide.bind(mm(wide, 5), narrow, "n", 0));
        assertTrue(ex.getMessage().contains("EOVERFLOW"), ex.getMessage());
        assertEquals(before, wide.counts(new PasidSpaceCounts()).toString().replaceAll("oldestWaitNs=\\d+", ""));
    }

    @Test
    void badInputNamesTheValueAndChangesNothing()
    {
        final Bond bond = space.bind(mm(3), gpu, "g", 0);
        final long handle = bond.handle();
        final String before = stateOf();
        assertThrows(IllegalArgumentException.class, () -> space.openAddressSpace(-1));
        assertThrows(IllegalArgumentException.class, () -> space.bind(mm(3), gpu, "again", 0));
        assertThrows(IllegalArgumentException.class, () -> space.bind(mm(3), gpu, "x", 8));
        assertThrows(IllegalArgumentException.class, () -> space.bindTo(mm(3), PasidHandle.of(5000, 1), nic, "x"));
        assertThrows(IllegalArgumentException.class, () -> space.addDevice(0x0100, 20, true, null));
        assertThrows(IllegalArgumentException.class, () -> space.addDevice(70000, 20, true, null));
        assertThrows(IllegalArgumentException.class, () -> space.addDevice(5, 21, true, null));
        final Device foreign = PasidSpace.builder().maxPasid(10).build().addDevice(7, 20, true, null);
        assertThrows(IllegalArgumentException.class, () -> space.bind(mm(3), foreign, "x", 0));
        assertEquals(before.replaceAll("refusals=\\[[^]]*]", ""), stateOf().replaceAll("refusals=\\[[^]]*]", ""),
            "nothing changed but the refusal counts");

        space.unbind(bond);
        final IllegalArgumentException second = assertThrows(IllegalArgumentException.class,
            () -> space.unbind(bond));
        assertTrue(second.getMessage().contains("PASID " + PasidHandle.pasid(handle)), second.getMessage());

        final AddressSpace four = mm(4);
        space.bind(four, gpu, "g4", 0);
        space.exit(four);
        final CapabilityException afterExit = assertThrows(CapabilityException.class,
            () -> space.bind(four, nic, "late", 0));
        assertTrue(afterExit.getMessage().contains("has exited"), afterExit.getMessage());
        assertEquals(RefusalKind.STALE, assertThrows(CapabilityException.class, () -> space.exit(four),
            "second exit").kind());
    }

    @Test
    void faultAttributionSaysWhoOwnsIt()
    {
        final long handle = space.bind(mm(11), gpu, "g", 0).handle();
        final int pasid = PasidHandle.pasid(handle);
        final FaultAttribution fault = new FaultAttribution();
        space.reportFault(gpu.requesterId(), pasid, 0xdead000, fault);
        assertEquals(FaultAttribution.Kind.ATTRIBUTED, fault.kind());
        assertEquals(11, fault.addressSpace());
        assertEquals("g", fault.driverData());
        assertEquals(FaultAttribution.Kind.NOT_BOUND_TO_DEVICE,
            space.reportFault(nic.requesterId(), pasid, 0, fault).kind());
        assertEquals(FaultAttribution.Kind.UNKNOWN_PASID, space.reportFault(gpu.requesterId(), 999, 0, fault).kind());
        assertEquals(FaultAttribution.Kind.UNKNOWN_PASID, space.reportFault(gpu.requesterId(), -3, 0, fault).kind());
        final PasidOwner owner = space.openOwner("vm");
        final long standalone = space.allocate(owner);
        space.attach(owner, standalone, nic, "vm-ctx");
        space.reportFault(nic.requesterId(), PasidHandle.pasid(standalone), 0, fault);
        assertEquals(FaultAttribution.Kind.ATTRIBUTED, fault.kind());
        assertEquals(-1, fault.addressSpace());
        assertEquals(-owner.id(), fault.owner());
        assertSame("vm-ctx", fault.driverData());
    }

    @Test
    void idleTwentyBitRangeCostsLittleTableMemoryAndGrowsWithUse()
    {
        final PasidSpace big = PasidSpace.builder().build();
        final PasidSpaceCounts counts = big.counts(new PasidSpaceCounts());
        final long idleTable = counts.tableNativeBytes();
        final long idleAllocator = big.allocator().nativeBytes();
        assertTrue(idleTable + idleAllocator < 1024 * 1024, "an idle 2^20 range must cost under 1 MiB of native " +
            "memory: tables " + idleTable + " B + allocator " + idleAllocator + " B");
        assertEquals(128 * 1024, idleTable, "idle: the PASID directory only (2^14 entries of 8 bytes)");
        assertEquals(0, counts.driverDataHeapBytes(), "no device, no driver-data index");
        final Device d = big.addDevice(1, 20, true, null);
        final long idleHeap = big.counts(counts).driverDataHeapBytes();
        assertEquals(4096 * 4, idleHeap, "a 20-bit device's driver-data directory: 4096 references");

        // dense: 1000 consecutive PASIDs (what the allocator hands out)
        for (int mm = 0; mm < 1000; mm++)
        {
            big.bind(mm(big, mm), d, null, 0);
        }
        big.counts(counts);
        final long dense = counts.tableNativeBytes() - idleTable;
        final long denseHeap = counts.driverDataHeapBytes() - idleHeap;
        assertEquals(16, counts.tableLeaves(), "1000 consecutive PASIDs fill 16 leaves of 64");
        assertEquals(16 * 4096 + 4096 * 32, dense, "16 table leaves + one 4096-record bond chunk");
        assertEquals(4, counts.driverDataLeaves(), "1000 consecutive PASIDs fill 4 driver-data leaves of 256");

        // sparse: 1000 PASIDs 1024 apart (every one in its own table leaf and driver-data leaf: the worst case)
        final PasidAllocator sparseAllocator = PasidAllocator.builder().range(1, (1 << 20) - 1).build();
        for (int id = 1; id < 1 << 20; id++)
        {
            if (0 != (id & 1023) || id > 1000 * 1024)
            {
                assertTrue(sparseAllocator.reserve(id));
            }
        }
        final PasidSpace sparse = PasidSpace.builder().allocator(sparseAllocator).build();
        final Device s = sparse.addDevice(1, 20, true, null);
        final PasidSpaceCounts sparseCounts = sparse.counts(new PasidSpaceCounts());
        final long sparseIdleHeap = sparseCounts.driverDataHeapBytes();
        for (int mm = 0; mm < 1000; mm++)
        {
            assertEquals(0, sparse.bind(mm(sparse, mm), s, null, 0).pasid() & 1023);
        }
        sparse.counts(sparseCounts);
        final long sparseBytes = sparseCounts.tableNativeBytes() - idleTable;
        final long sparseHeap = sparseCounts.driverDataHeapBytes() - sparseIdleHeap;
        assertEquals(1000, sparseCounts.tableLeaves());
        assertEquals(1000, sparseCounts.driverDataLeaves());
        assertEquals(1000 * 4096 + 4096 * 32, sparseBytes, "1000 table leaves + one bond chunk");
        System.out.printf("table memory: idle 2^20 range: %d KiB native (PASID directory; allocator: %d KiB more)%n" +
            "  per live PASID, 1 bond each, 1000 PASIDs: dense %.1f B native + %.1f B heap (driver-data index); " +
            "sparse (1024 apart) %.1f B native + %.1f B heap%n" +
            "  marginal: a table entry 64 B + a bond record 32 B native (+ a 4 KiB table leaf per 64 PASIDs, a " +
            "128 KiB bond chunk per 4096 bonds), a 4 B driver-data cell (+ a 1 KiB leaf per 256 PASIDs per device)%n",
            idleTable / 1024, idleAllocator / 1024, dense / 1000.0, denseHeap / 1000.0, sparseBytes / 1000.0,
            sparseHeap / 1000.0);
    }

    @Test
    void aBondWithNullDataIsBoundAndItsFaultsAreAttributed()
    {
        final Bond bond = space.bind(mm(12), gpu, null, 0);
        final int pasid = bond.pasid();
        assertNull(space.driverData(pasid, gpu.requesterId()));
        final FaultAttribution fault = space.reportFault(gpu.requesterId(), pasid, 0x1000, new FaultAttribution());
        assertEquals(FaultAttribution.Kind.ATTRIBUTED, fault.kind(), fault.toString());
        assertNull(fault.driverData());
        assertEquals(12, fault.addressSpace());
        assertEquals(FaultAttribution.Kind.NOT_BOUND_TO_DEVICE,
            space.reportFault(nic.requesterId(), pasid, 0x1000, fault).kind());
        assertThrows(IllegalArgumentException.class, () -> space.bind(mm(12), gpu, "again", 0), "bound, with null data");
        space.unbind(bond);
        assertThrows(IllegalArgumentException.class, () -> space.unbind(bond), "second unbind");
    }

    @Test
    void theSharedPasidStaysForTheAddressSpacesLifeByDefault()
    {
        final PasidSpaceCounts counts = new PasidSpaceCounts();
        final AddressSpace as = mm(30);
        final Bond shared = space.bind(as, gpu, "g", 0);
        final Bond priv = space.bind(as, nic, "p", PasidSpace.PRIVATE);
        space.unbind(shared);
        space.unbind(priv);
        assertEquals(1, space.pasidsOf(30, new int[4]), "the private PASID went at its last unbind; the shared stays");
        assertEquals(IdState.RETIRED, space.allocator().stateOf(priv.pasid()));
        final Bond rebind = space.bind(as, nic, "n", 0);
        assertEquals(shared.pasid(), rebind.pasid(), "a rebind gets the same PASID (mm->pasid for the mm's life)");
        assertEquals(shared.handle(), rebind.handle(), "the same life of it");
        assertEquals(1, space.counts(counts).addressSpaces());

        space.exit(as);
        assertEquals(1, space.counts(counts).addressSpaces(), "exited, a driver still bound");
        assertEquals(RefusalKind.FOREIGN, assertThrows(CapabilityException.class,
            () -> space.openAddressSpace(30)).kind(), "the id is not free until every driver unbound");
        space.unbind(rebind);
        assertEquals(0, space.counts(counts).addressSpaces(), "every driver unbound: forgotten");
        final AddressSpace reborn = space.openAddressSpace(30);
        final Bond fresh = space.bind(reborn, gpu, "new life", 0);
        assertNotEquals(shared.handle(), fresh.handle(), "a new address space with the same id, on a new PASID life");
        assertEquals("new life", space.driverData(fresh.pasid(), gpu.requesterId()));
    }

    @Test
    void withLastUnbindTheSharedPasidGoesAtItsLastUnbind()
    {
        final PasidSpace lastUnbind = PasidSpace.builder().maxPasid(1023)
            .sharedPasidLifetime(SharedPasidLifetime.LAST_UNBIND).build();
        final Device d = lastUnbind.addDevice(1, 20, true, null);
        final AddressSpace as = lastUnbind.openAddressSpace(30);
        final Bond first = lastUnbind.bind(as, d, "g", 0);
        lastUnbind.unbind(first);
        assertEquals(0, lastUnbind.pasidsOf(30, new int[4]));
        assertEquals(IdState.RETIRED, lastUnbind.allocator().stateOf(first.pasid()));
        final Bond again = lastUnbind.bind(as, d, "g2", 0);
        assertNotEquals(first.handle(), again.handle(), "a rebind gets a new PASID life");
        lastUnbind.exit(as);
        lastUnbind.unbind(again);
        assertEquals(0, lastUnbind.counts(new PasidSpaceCounts()).addressSpaces());
        assertThrows(IllegalArgumentException.class, () -> PasidSpace.builder().sharedPasidLifetime(null));
    }

    @Test
    void aStaleHandleGetsNoDriverData()
    {
        final PasidSpace tiny = PasidSpace.builder().maxPasid(1).build();
        final Device d = tiny.addDevice(1, 20, true, null);
        final Bond firstBond = tiny.bind(mm(tiny, 1), d, "old", 0);
        final long first = firstBond.handle();
        assertEquals("old", tiny.driverDataOf(first, 1));
        tiny.exit(mm(tiny, 1));
        assertEquals("old", tiny.driverDataOf(first, 1), "TEARDOWN: the bond stays until the driver unbinds");
        tiny.unbind(firstBond);
        assertNull(tiny.driverDataOf(first, 1));
        final long second = tiny.bind(mm(tiny, 2), d, "new", 0).handle();
        assertEquals(PasidHandle.pasid(first), PasidHandle.pasid(second));
        assertNull(tiny.driverDataOf(first, 1), "stale handle: never the next owner's data");
        assertEquals("new", tiny.driverDataOf(second, 1));
        assertNull(tiny.driverDataOf(second, 2), "unregistered device");
        assertNull(tiny.driverDataOf(second, -1), "requester id out of range");
        assertNull(tiny.driverDataOf(PasidHandle.of(7, 1), 1), "PASID out of range");
        assertNull(tiny.driverData(-5, 1));
        assertNull(tiny.driverData(1 << 20, 1));
        assertNull(tiny.driverData(1, 1 << 16));
    }

    @Test
    void lookupsAndFaultsAllocateNothingAndBindUnbindOnlyItsBond()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        final long tid = Thread.currentThread().getId();
        final AddressSpace as = mm(21);
        final long keep = space.bind(as, gpu, "keep", 0).handle();
        final int pasid = PasidHandle.pasid(keep);
        final int exited = space.bind(mm(22), gpu, "exited", 0).pasid();
        space.exit(mm(22));
        final FaultAttribution fault = new FaultAttribution();
        final PasidEntryView view = new PasidEntryView();
        final int[] out = new int[8];
        final Object nicData = "n";
        long sink = 0;
        // Warm up until 3 rounds in a row allocate nothing (data path) and at most one Bond per bind (control path):
        // one-off lazy work and a late JIT compile or deoptimization are not the steady state.
        final int perRound = 100_000;
        int rounds = 0;
        int cleanInARow = 0;
        long lookupBytes = -1;
        long bindBytes = -1;
        while (cleanInARow < 3 && rounds < 40)
        {
            final long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < perRound; i++)
            {
                sink += null == space.driverData(pasid, gpu.requesterId()) ? 0 : 1;
                sink += null == space.driverDataOf(keep, gpu.requesterId()) ? 0 : 1;
                sink += space.reportFault(gpu.requesterId(), pasid, i, fault).pasid();
                sink += space.reportFault(gpu.requesterId(), exited, i, fault).kind().ordinal();
                sink += space.bondsOf(pasid, out) + space.pasidsOf(21, out);
                sink += space.entry(pasid, view) ? 1 : 0;
            }
            final long middle = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < perRound; i++)
            {
                final Bond bond = space.bind(as, nic, nicData, 0);
                space.unbind(bond);
            }
            lookupBytes = middle - before;
            bindBytes = threads.getThreadAllocatedBytes(tid) - middle;
            // NOTE: a bind allocates its Bond (the driver's capability, 48 B with compressed references), nothing else.
            cleanInARow = 0 == lookupBytes && bindBytes <= 48L * perRound ? cleanInARow + 1 : 0;
            rounds++;
        }
        assertEquals(3, cleanInARow, "3 rounds in a row of 100k lookups and faults allocate 0 B and 100k bind/unbind " +
            "pairs at most their Bond objects, within 40 rounds; the last: lookups " + lookupBytes + " B, binds " +
            bindBytes + " B");
        assertTrue(sink > 0);
        assertEquals(rounds * (long)perRound, space.counts(new PasidSpaceCounts()).suppressedFaults(),
            "faults on the exited PASID");
    }
}
