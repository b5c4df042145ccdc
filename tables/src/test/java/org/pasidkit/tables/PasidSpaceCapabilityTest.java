package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.pasidkit.allocator.IdState;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Capabilities and revocation, tested as a hostile caller or a buggy driver would: every mutating call with a
 * foreign, forged, stale or revoked capability is refused with its kind, names the value, counts, and changes
 * nothing; a driver that never unbinds loses its bond at the deadline and its PASID is reused only after the
 * revocation's ATC invalidation completed.
 */
class PasidSpaceCapabilityTest
{
    private long nowNs = 1_000;
    private final List<ExitEvent> gpuEvents = new ArrayList<>();
    private PasidSpace space;
    private Device gpu;
    private Device nic;

    @BeforeEach
    void setUp()
    {
        space = PasidSpace.builder().maxPasid(4).clock(() -> nowNs).build();
        gpu = space.addDevice(0x100, 20, true, gpuEvents::add);
        nic = space.addDevice(0x200, 20, false, null);
    }

    /** Everything a refusal must not change (the refusal counts aside). */
    private String fingerprint(final PasidSpace of)
    {
        return of.counts(new PasidSpaceCounts()).toString().replaceAll("refusals=\\[[^]]*]", "")
            .replaceAll("(oldestStuckWaitNs|oldestWaitNs)=\\d+", "");
    }

    private void refused(final RefusalKind kind, final String named, final Runnable call)
    {
        final String before = fingerprint(space);
        final long count = space.counts(new PasidSpaceCounts()).refusals(kind);
        final CapabilityException ex = assertThrows(CapabilityException.class, call::run);
        assertEquals(kind, ex.kind(), ex.getMessage());
        assertTrue(ex.getMessage().contains(named), "the message names " + named + ": " + ex.getMessage());
        assertEquals(before, fingerprint(space), "a refused call changed the space: " + ex.getMessage());
        assertEquals(count + 1, space.counts(new PasidSpaceCounts()).refusals(kind), "counted");
    }

    /** The reproduction: code that is not the GPU driver cannot unbind the GPU's bond and free its PASID. */
    @Test
    void onlyTheDriversBondUnbindsItSoTheExitedPasidIsNotReusedUnderTheGpu()
    {
        final AddressSpace process = space.openAddressSpace(1);
        final Bond gpuBond = space.bind(process, gpu, "gpu", 0);
        space.exit(process);
        assertEquals(1, gpuEvents.size());

        // A hostile caller: no Device by number (device(int) is not public), no way to build a Bond.
        final PasidSpace elsewhere = PasidSpace.builder().maxPasid(4).build();
        final Device lookalike = elsewhere.addDevice(0x100, 20, true, null);
        final Bond forgedBond = elsewhere.bind(elsewhere.openAddressSpace(1), lookalike, "x", 0);
        refused(RefusalKind.FOREIGN, "bond (PASID", () -> space.unbind(forgedBond));
        refused(RefusalKind.FORGED, "bond null", () -> space.unbind(null));
        assertTrue(gpuBond.isBound());

        // Four new processes bind: none gets the GPU's PASID while the GPU driver has not unbound.
        for (int p = 2; p <= 4; p++)
        {
            space.allocator().reclaim();
            final Bond other = space.bind(space.openAddressSpace(p), nic, "nic", 0);
            assertNotEquals(gpuBond.pasid(), other.pasid(), "process " + p + " got the GPU's PASID");
        }
        assertEquals(IdState.HELD, space.allocator().stateOf(gpuBond.pasid()));
        space.unbind(gpuBond);
        assertEquals(IdState.RETIRED, space.allocator().stateOf(gpuBond.pasid()));
    }

    @Test
    void foreignForgedAndStaleCapabilitiesAreRefusedNamedCountedAndChangeNothing()
    {
        final AddressSpace mine = space.openAddressSpace(1);
        final AddressSpace theirs = space.openAddressSpace(2);
        final Bond myBond = space.bind(mine, gpu, "mine", 0);
        final Bond theirBond = space.bind(theirs, gpu, "theirs", 0);
        final PasidOwner owner = space.openOwner("vm", 2);
        final PasidOwner thief = space.openOwner("thief");
        final long handle = space.allocate(owner);

        final PasidSpace other = PasidSpace.builder().maxPasid(4).build();
        final AddressSpace otherMm = other.openAddressSpace(1);
        final Device otherDevice = other.addDevice(0x100, 20, true, null);
        final PasidOwner otherOwner = other.openOwner("other");

        // foreign: another space's objects, another owner's or address space's PASID, a registered requester id
        refused(RefusalKind.FOREIGN, "another PasidSpace", () -> space.exit(otherMm));
        refused(RefusalKind.FOREIGN, "another PasidSpace", () -> space.bind(otherMm, gpu, "x", 0));
        refused(RefusalKind.FOREIGN, "01:00.0", () -> space.bind(mine, otherDevice, "x", 0));
        refused(RefusalKind.FOREIGN, "another PasidSpace", () -> space.allocate(otherOwner));
        refused(RefusalKind.FOREIGN, "does not own", () -> space.free(thief, handle));
        refused(RefusalKind.FOREIGN, "does not own", () -> space.attach(thief, handle, nic, "steal"));
        refused(RefusalKind.FOREIGN, "does not hold", () -> space.bindTo(mine, theirBond.handle(), nic, "x"));
        refused(RefusalKind.FOREIGN, "does not hold", () -> space.bindTo(mine, handle, nic, "x"));
        refused(RefusalKind.FOREIGN, "already open", () -> space.openAddressSpace(2));
        refused(RefusalKind.FOREIGN, "already registered", () -> space.addDevice(0x100, 20, true, null));
        refused(RefusalKind.FOREIGN, "01:00.0", () -> space.removeDevice(otherDevice));

        // forged: a life the PASID never had, a PASID out of range, null capabilities
        final long future = PasidHandle.of(PasidHandle.pasid(handle), PasidHandle.generation(handle) + 1);
        refused(RefusalKind.FORGED, "never had", () -> space.free(owner, future));
        refused(RefusalKind.FORGED, "outside [1, 4]", () -> space.free(owner, PasidHandle.of(77, 1)));
        refused(RefusalKind.FORGED, "never had", () -> space.attach(owner, PasidHandle.of(4, 9), gpu, "x"));
        refused(RefusalKind.FORGED, "owner null", () -> space.allocate(null));
        refused(RefusalKind.FORGED, "address space null", () -> space.exit(null));
        refused(RefusalKind.FORGED, "device null", () -> space.bind(mine, null, "x", 0));

        // stale: a second unbind, a handle of an ended life, a closed owner, an exited address space
        space.unbind(theirBond);
        refused(RefusalKind.STALE, "already unbound", () -> space.unbind(theirBond));
        space.free(owner, handle);
        refused(RefusalKind.STALE, "RETIRED", () -> space.free(owner, handle));
        space.close(thief);
        refused(RefusalKind.STALE, "closed", () -> space.allocate(thief));
        space.exit(theirs);
        refused(RefusalKind.STALE, "has exited", () -> space.exit(theirs));
        refused(RefusalKind.STALE, "has exited", () -> space.bind(theirs, nic, "late", 0));

        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        assertEquals(11, counts.refusals(RefusalKind.FOREIGN));
        assertEquals(6, counts.refusals(RefusalKind.FORGED));
        assertEquals(5, counts.refusals(RefusalKind.STALE));
        assertEquals(0, counts.refusals(RefusalKind.REVOKED));
        assertEquals(22, counts.refusals());
        assertTrue(myBond.isBound());
    }

    @Test
    void aDriverThatNeverUnbindsIsRevokedAtTheDeadlineAndThePasidWaitsForTheAtcFlush()
    {
        final PasidSpace timed = PasidSpace.builder().maxPasid(2).clock(() -> nowNs)
            .unbindDeadline(5, TimeUnit.MILLISECONDS).build();
        final List<ExitEvent> events = new ArrayList<>();
        final Device device = timed.addDevice(0x100, 20, true, events::add);
        final AtcInvalidator invalidator = new AtcInvalidator(timed, 1 << 16, 64, 1 << 21, 50_000_000L, 1);
        final SimulatedIommu iommu = new SimulatedIommu(invalidator);
        final boolean[] iommuRuns = {false};
        invalidator.assist(() ->
        {
            if (iommuRuns[0])
            {
                iommu.poll(64);
            }
        });

        final AddressSpace process = timed.openAddressSpace(1);
        final Bond stuck = timed.bind(process, device, "stuck", 0);
        iommu.touch(device, stuck.pasid(), 0x4000);
        assertEquals(1, iommu.cached(device, stuck.pasid()));
        timed.exit(process);
        assertEquals(ExitEvent.Kind.OWNER_GONE, events.get(0).kind());

        nowNs += TimeUnit.MILLISECONDS.toNanos(4);
        assertEquals(0, timed.revokeOverdue(), "before the deadline nothing is revoked");
        final StuckBonds list = timed.stuckBonds(new StuckBonds(4));
        assertEquals(1, list.size());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(4), timed.counts(new PasidSpaceCounts()).oldestStuckWaitNs());

        // Past the deadline, but the IOMMU does not answer: the flush times out (50 ms), the bond is revoked (the
        // driver's calls are refused) but its hold on the PASID stays until the invalidation completes.
        nowNs += TimeUnit.MILLISECONDS.toNanos(2);
        assertEquals(1, timed.revokeOverdue());
        assertTrue(stuck.isRevoked());
        assertEquals(ExitEvent.Kind.REVOKED, events.get(1).kind());
        PasidSpaceCounts counts = timed.counts(new PasidSpaceCounts());
        assertEquals(1, counts.pendingRevocationFlushes(), counts.toString());
        assertEquals(0, counts.stuckBonds());
        assertEquals(IdState.HELD, timed.allocator().stateOf(stuck.pasid()), "not reusable before the flush");
        assertEquals(1, iommu.cached(device, stuck.pasid()));
        final CapabilityException late = assertThrows(CapabilityException.class, () -> timed.unbind(stuck));
        assertEquals(RefusalKind.REVOKED, late.kind());
        timed.allocator().reclaim();
        final Bond other = timed.bind(timed.openAddressSpace(2), device, "other", 0);
        assertNotEquals(stuck.pasid(), other.pasid(), "the revoked PASID was handed out before its ATC flush");

        // The IOMMU runs again: the retry flushes, syncs, and only then releases the PASID.
        iommuRuns[0] = true;
        timed.revokeOverdue();
        counts = timed.counts(new PasidSpaceCounts());
        assertEquals(0, counts.pendingRevocationFlushes(), counts.toString());
        assertEquals(1, counts.failedRevocationFlushes());
        assertEquals(1, counts.revocations());
        assertEquals(0, iommu.cached(device, stuck.pasid()), "the revoked device's ATC was invalidated");
        assertEquals(IdState.RETIRED, timed.allocator().stateOf(stuck.pasid()));
        assertEquals(0, counts.teardownPasids());
        assertEquals(1, timed.counts(counts).addressSpaces(), "the exited address space is forgotten; 2 is open");
        assertEquals(0, iommu.staleTranslations());
    }

    @Test
    void deviceRemovalDuringTeardownRevokesItsBondsFlushesAndLetsThePasidGo()
    {
        final List<ExitEvent> flushed = new ArrayList<>();
        final PasidSpace removable = PasidSpace.builder().maxPasid(4).clock(() -> nowNs)
            .deviceTlbFlush((device, pasid) -> true).build();
        final List<ExitEvent> events = new ArrayList<>();
        final Device dying = removable.addDevice(0x100, 20, true, events::add);
        final Device staying = removable.addDevice(0x200, 20, true, flushed::add);
        final AddressSpace process = removable.openAddressSpace(1);
        final Bond dyingBond = removable.bind(process, dying, "d", 0);
        final Bond stayingBond = removable.bind(process, staying, "s", 0);
        final Bond privateBond = removable.bind(process, dying, "p", PasidSpace.PRIVATE);
        final AddressSpace live = removable.openAddressSpace(2);
        final Bond liveBond = removable.bind(live, dying, "l", 0);
        removable.exit(process);
        assertEquals(2, removable.counts(new PasidSpaceCounts()).teardownPasids());

        removable.removeDevice(dying);
        assertTrue(dying.isRemoved());
        assertFalse(removable.isRegistered(0x100));
        assertTrue(dyingBond.isRevoked() && privateBond.isRevoked() && liveBond.isRevoked());
        assertTrue(stayingBond.isBound());
        assertEquals(5, events.size(), "2 exit events (shared and private PASID), then 3 removals");
        assertEquals(ExitEvent.Kind.DEVICE_REMOVED, events.get(4).kind());
        assertEquals(IdState.RETIRED, removable.allocator().stateOf(privateBond.pasid()), "its only bond was revoked");
        assertEquals(IdState.HELD, removable.allocator().stateOf(dyingBond.pasid()), "the staying driver holds it");
        assertNull(removable.driverData(liveBond.pasid(), 0x100), "the removed device's data is gone");
        assertEquals(1, removable.pasidsOf(2, new int[4]), "the live address space keeps its shared PASID");
        final CapabilityException ex = assertThrows(CapabilityException.class,
            () -> removable.bind(live, dying, "again", 0));
        assertEquals(RefusalKind.STALE, ex.kind());
        assertEquals(RefusalKind.REVOKED,
            assertThrows(CapabilityException.class, () -> removable.unbind(dyingBond)).kind());

        removable.unbind(stayingBond);
        assertEquals(IdState.RETIRED, removable.allocator().stateOf(dyingBond.pasid()));
        final Device back = removable.addDevice(0x100, 20, true, null);
        assertTrue(removable.isRegistered(0x100));
        removable.bind(live, back, "back", 0);
        assertEquals(1, removable.counts(new PasidSpaceCounts()).devicesRemoved());
    }

    @Test
    void theRevocationAgentRevokesAnIdleSpacesOverdueBonds()
    {
        final PasidSpace idle = PasidSpace.builder().maxPasid(4).clock(() -> nowNs)
            .unbindDeadline(1, TimeUnit.MILLISECONDS).deviceTlbFlush((device, pasid) -> true).build();
        final Device device = idle.addDevice(0x100, 20, true, null);
        final AddressSpace process = idle.openAddressSpace(1);
        final Bond bond = idle.bind(process, device, "d", 0);
        idle.exit(process);
        final RevocationAgent agent = new RevocationAgent(idle, 1_000_000);
        assertFalse(idle.revocationDue());
        assertEquals(0, agent.doWork(), "not due yet");
        nowNs += TimeUnit.MILLISECONDS.toNanos(1);
        assertTrue(idle.revocationDue());
        assertEquals(1, agent.doWork());
        assertTrue(bond.isRevoked());
        assertEquals(IdState.RETIRED, idle.allocator().stateOf(bond.pasid()));
        assertFalse(idle.revocationDue());
        assertEquals(0, agent.doWork());
        assertThrows(IllegalArgumentException.class, () -> new RevocationAgent(idle, 0));
    }

    @Test
    void badBuilderValuesAreRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> PasidSpace.builder().unbindDeadline(-1, TimeUnit.SECONDS));
        assertThrows(IllegalArgumentException.class, () -> PasidSpace.builder().clock(null));
        assertThrows(IllegalArgumentException.class, () -> new StuckBonds(0));
    }
}
