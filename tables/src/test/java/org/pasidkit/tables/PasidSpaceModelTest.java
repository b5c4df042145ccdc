package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pasidkit.allocator.AllocatorCounts;
import org.pasidkit.allocator.IdsExhaustedException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded model test of the whole life cycle with hostile callers mixed in: random binds (shared, private, bindTo),
 * unbinds, exits, standalone owners (allocate, free, attach, close), device removal and re-registration, time
 * passing an unbind deadline (revocation), a device-TLB flush that fails now and then (pending revocations), reclaim
 * — and, between them, calls with foreign, forged, stale and revoked capabilities.
 * <p>
 * Checked after every step: every hostile call is refused with the expected {@link RefusalKind}, counted, and
 * changes nothing else; the counts (live, teardown, bonds, stuck bonds, address spaces) equal the model's; no PASID
 * is lost (free + cached + in use + in grace = capacity). Checked at every PASID handed out: <b>no PASID is reused
 * while any device bound to its previous life has not been unbound, or revoked with its ATC invalidation
 * synced</b> (device removal is a revocation). Each failure message starts with the seed and the step.
 */
class PasidSpaceModelTest
{
    private static final int MAX_PASID = 31;
    private static final long DEADLINE_NS = 1_000;

    /** One bond as the model knows it. */
    private static final class ModelBond
    {
        final Bond bond;
        final int generation;
        boolean ownerGone;

        ModelBond(final Bond bond)
        {
            this.bond = bond;
            this.generation = PasidHandle.generation(bond.handle());
        }
    }

    private Random random;
    private String where;
    private long nowNs;
    private PasidSpace space;
    private final Device[] devices = new Device[4];
    private final List<ModelBond> bonds = new ArrayList<>();
    private final Map<Long, AddressSpace> open = new HashMap<>();
    /** Address spaces that exited while a driver was still bound (their id cannot be opened yet). */
    private final Map<Long, AddressSpace> exited = new HashMap<>();
    private final List<PasidOwner> owners = new ArrayList<>();
    private final Map<PasidOwner, List<Long>> handles = new HashMap<>();
    private final List<Long> deadHandles = new ArrayList<>();
    /** (device identity, PASID, generation) whose ATC the flush invalidated and synced. */
    private final Set<String> flushed = new HashSet<>();
    private final long[] refused = new long[RefusalKind.values().length];
    private int revoked;
    private int reuseChecks;

    /** The hostile caller's own space: its capabilities are foreign here. */
    private PasidSpace otherSpace;
    private Device otherDevice;
    private AddressSpace otherAs;
    private PasidOwner otherOwner;
    private Bond otherBond;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomLifeCyclesWithHostileCallsKeepEveryPromise(final long seed)
    {
        random = new Random(seed);
        space = PasidSpace.builder().maxPasid(MAX_PASID).maxBonds(256).addressSpaceQuota(3)
            .unbindDeadline(DEADLINE_NS, TimeUnit.NANOSECONDS).clock(() -> nowNs)
            .deviceTlbFlush(this::flush).build();
        for (int d = 0; d < devices.length; d++)
        {
            devices[d] = space.addDevice(d + 1, 3 == d ? 4 : 20, 0 != d, null);
        }
        otherSpace = PasidSpace.builder().maxPasid(MAX_PASID).build();
        otherDevice = otherSpace.addDevice(1, 20, true, null);
        otherAs = otherSpace.openAddressSpace(0);
        otherBond = otherSpace.bind(otherAs, otherDevice, "theirs", 0);
        otherOwner = otherSpace.openOwner("theirs");

        for (int step = 0; step < 4_000; step++)
        {
            where = "seed " + seed + " step " + step + ": ";
            final int op = random.nextInt(100);
            if (op < 20)
            {
                bind();
            }
            else if (op < 32)
            {
                unbind();
            }
            else if (op < 38)
            {
                exit();
            }
            else if (op < 42)
            {
                openAddressSpace();
            }
            else if (op < 52)
            {
                standalone();
            }
            else if (op < 54)
            {
                removeAndReaddDevice();
            }
            else if (op < 66)
            {
                nowNs += random.nextInt(700);
                if (random.nextBoolean())
                {
                    space.revokeOverdue();
                    final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
                    assertTrue(counts.oldestStuckWaitNs() <= DEADLINE_NS, where + "a bond waits past the deadline " +
                        "after revokeOverdue: " + counts);
                }
            }
            else if (op < 72)
            {
                space.allocator().reclaim();
            }
            else
            {
                hostile();
            }
            check();
        }
        assertTrue(reuseChecks > 50, where + "the run reused PASIDs only " + reuseChecks + " times");
        assertTrue(revoked > 10, where + "the run revoked only " + revoked + " bonds");
        for (final RefusalKind kind : RefusalKind.values())
        {
            assertTrue(refused[kind.ordinal()] > 10, where + "the run tried " + refused[kind.ordinal()] + " " + kind +
                " calls");
        }
    }

    private boolean flush(final Device device, final int pasid)
    {
        if (device.ats() && random.nextInt(4) == 0)
        {
            return false;
        }
        final PasidEntryView view = new PasidEntryView();
        space.entry(pasid, view);
        flushed.add(System.identityHashCode(device) + "/" + pasid + "/" + view.generation());
        return true;
    }

    // ------------------------------------------------------------------------------------------------ operations

    private void openAddressSpace()
    {
        final long id = random.nextInt(6);
        if (open.containsKey(id) || exited.containsKey(id))
        {
            expectRefusal(RefusalKind.FOREIGN, () -> space.openAddressSpace(id));
            return;
        }
        open.put(id, space.openAddressSpace(id));
    }

    private void bind()
    {
        if (open.isEmpty())
        {
            return;
        }
        final AddressSpace as = pick(new ArrayList<>(open.values()));
        final Device device = devices[random.nextInt(devices.length)];
        final int flags = random.nextInt(4) == 0 ? PasidSpace.PRIVATE : 0;
        final int[] pasids = new int[8];
        final int n = space.pasidsOf(as.id(), pasids);
        if (n > 0 && random.nextInt(3) == 0)
        {
            final int pasid = pasids[random.nextInt(n)];
            final PasidEntryView view = new PasidEntryView();
            space.entry(pasid, view);
            tryBind(device, () -> space.bindTo(as, PasidHandle.of(pasid, view.generation()), device, "to"));
            return;
        }
        tryBind(device, () -> space.bind(as, device, null, flags));
    }

    private void tryBind(final Device device, final java.util.function.Supplier<Bond> call)
    {
        if (device.isRemoved())
        {
            expectRefusal(RefusalKind.STALE, call::get);
            return;
        }
        final String before = fingerprint();
        final Bond bond;
        try
        {
            bond = call.get();
        }
        catch (final IdsExhaustedException | IllegalArgumentException ex)
        {
            assertTrue(!(ex instanceof CapabilityException), where + "an honest bind refused: " + ex.getMessage());
            assertEquals(before, fingerprint(), where + "a refused bind changed the space: " + ex.getMessage());
            return;
        }
        acquired(bond.pasid(), PasidHandle.generation(bond.handle()));
        bonds.add(new ModelBond(bond));
    }

    private void unbind()
    {
        final List<ModelBond> bound = new ArrayList<>();
        for (final ModelBond b : bonds)
        {
            if (b.bond.isBound())
            {
                bound.add(b);
            }
        }
        if (bound.isEmpty())
        {
            return;
        }
        space.unbind(pick(bound).bond);
    }

    private void exit()
    {
        if (open.isEmpty())
        {
            return;
        }
        final AddressSpace as = pick(new ArrayList<>(open.values()));
        final int[] pasids = new int[8];
        final int n = space.pasidsOf(as.id(), pasids);
        space.exit(as);
        open.remove(as.id());
        boolean driverLeft = false;
        for (final ModelBond b : bonds)
        {
            for (int i = 0; i < n; i++)
            {
                if (b.bond.pasid() == pasids[i] && b.bond.isBound())
                {
                    b.ownerGone = true;
                    driverLeft = true;
                }
                else if (b.bond.pasid() == pasids[i] && b.bond.isRevoked() && isPending(b))
                {
                    // NOTE: a revocation (device removal) waiting for its flush holds the PASID in TEARDOWN too.
                    driverLeft = true;
                }
            }
        }
        if (driverLeft)
        {
            exited.put(as.id(), as);
        }
    }

    private void standalone()
    {
        final int op = random.nextInt(10);
        if (owners.isEmpty() || op == 0)
        {
            final PasidOwner owner = space.openOwner("o", 3);
            owners.add(owner);
            handles.put(owner, new ArrayList<>());
            return;
        }
        final PasidOwner owner = pick(owners);
        final List<Long> held = handles.get(owner);
        if (op < 5)
        {
            final String before = fingerprint();
            try
            {
                final long handle = space.allocate(owner, random.nextBoolean() ? 20 : 4);
                acquired(PasidHandle.pasid(handle), PasidHandle.generation(handle));
                held.add(handle);
            }
            catch (final IdsExhaustedException | IllegalArgumentException ex)
            {
                assertTrue(!(ex instanceof CapabilityException), where + ex.getMessage());
                assertEquals(before, fingerprint(), where + "a refused allocate changed the space");
            }
        }
        else if (op < 7 && !held.isEmpty())
        {
            final long handle = held.get(random.nextInt(held.size()));
            final Device device = devices[random.nextInt(devices.length)];
            tryBind(device, () -> space.attach(owner, handle, device, "ctx"));
        }
        else if (op < 9 && !held.isEmpty())
        {
            final long handle = held.remove(random.nextInt(held.size()));
            space.free(owner, handle);
            ownerGone(PasidHandle.pasid(handle));
            deadHandles.add(handle);
        }
        else
        {
            space.close(owner);
            for (final long handle : held)
            {
                ownerGone(PasidHandle.pasid(handle));
                deadHandles.add(handle);
            }
            owners.remove(owner);
            handles.remove(owner);
        }
    }

    private void removeAndReaddDevice()
    {
        final int d = random.nextInt(devices.length);
        final Device device = devices[d];
        if (!device.isRemoved())
        {
            space.removeDevice(device);
        }
        try
        {
            devices[d] = space.addDevice(device.requesterId(), device.pasidBits(), device.ats(), null);
        }
        catch (final IllegalArgumentException ex)
        {
            assertTrue(ex.getMessage().contains("waiting for their ATC flush"), where + ex.getMessage());
            // NOTE: a device at that requester id comes back once its revocations flushed: keep the removed
            // object (every call with it is refused as stale) until then.
        }
    }

    private void hostile()
    {
        Device device = devices[random.nextInt(devices.length)];
        for (final Device d : devices)
        {
            device = device.isRemoved() ? d : device;
        }
        if (device.isRemoved())
        {
            return;
        }
        final Device live = device;
        switch (random.nextInt(12))
        {
            case 0:
                expectRefusal(RefusalKind.FOREIGN, () -> space.unbind(otherBond));
                break;
            case 1:
            {
                final ModelBond ended = pickEnded(Bond.UNBOUND);
                if (null != ended)
                {
                    expectRefusal(RefusalKind.STALE, () -> space.unbind(ended.bond));
                }
                break;
            }
            case 2:
            {
                final ModelBond ended = pickEnded(Bond.REVOKED);
                if (null != ended)
                {
                    expectRefusal(RefusalKind.REVOKED, () -> space.unbind(ended.bond));
                }
                break;
            }
            case 3:
                expectRefusal(RefusalKind.FOREIGN, () -> space.exit(otherAs));
                expectRefusal(RefusalKind.FOREIGN, () -> space.bind(otherAs, live, "x", 0));
                break;
            case 4:
                if (!exited.isEmpty())
                {
                    final AddressSpace gone = pick(new ArrayList<>(exited.values()));
                    expectRefusal(RefusalKind.STALE, () -> space.exit(gone));
                    expectRefusal(RefusalKind.STALE, () -> space.bind(gone, live, "late", 0));
                }
                break;
            case 5:
                if (!open.isEmpty())
                {
                    final AddressSpace as = pick(new ArrayList<>(open.values()));
                    expectRefusal(RefusalKind.FOREIGN, () -> space.bind(as, otherDevice, "x", 0));
                }
                break;
            case 6:
                if (!owners.isEmpty())
                {
                    final PasidOwner owner = pick(owners);
                    expectRefusal(RefusalKind.FOREIGN, () -> space.allocate(otherOwner));
                    final List<Long> held = handles.get(owner);
                    if (!held.isEmpty())
                    {
                        final long handle = held.get(random.nextInt(held.size()));
                        expectRefusal(RefusalKind.FOREIGN, () -> space.free(otherOwner, handle));
                        // another owner of this space names a PASID it does not own
                        final PasidOwner thief = space.openOwner("thief");
                        expectRefusal(RefusalKind.FOREIGN, () -> space.free(thief, handle));
                        expectRefusal(RefusalKind.FOREIGN, () -> space.attach(thief, handle, live, "steal"));
                        space.close(thief);
                        // a forged handle: the same PASID, a life it never had
                        final long forged = PasidHandle.of(PasidHandle.pasid(handle), PasidHandle.generation(handle) + 7);
                        expectRefusal(RefusalKind.FORGED, () -> space.free(owner, forged));
                    }
                }
                break;
            case 7:
                if (!owners.isEmpty() && !deadHandles.isEmpty())
                {
                    final PasidOwner owner = pick(owners);
                    final long dead = pick(deadHandles);
                    // a handle of an ended life: stale (the PASID is at a later life, or still in that one's teardown)
                    expectRefusal(RefusalKind.STALE, () -> space.free(owner, dead));
                }
                break;
            case 8:
                expectRefusal(RefusalKind.FORGED, () -> space.unbind(null));
                final PasidOwner owner = pickOwnerOrNew();
                expectRefusal(RefusalKind.FORGED, () -> space.free(owner, PasidHandle.of(MAX_PASID + 5, 1)));
                break;
            case 9:
                if (!open.isEmpty())
                {
                    final AddressSpace as = pick(new ArrayList<>(open.values()));
                    // bindTo a PASID that is not this address space's: another space's handle or a standalone one
                    final long alien = otherBond.handle();
                    final PasidEntryView view = new PasidEntryView();
                    final int current = space.entry(PasidHandle.pasid(alien), view) ? view.generation() : 0;
                    final int g = PasidHandle.generation(alien);
                    final RefusalKind expected = g > current ? RefusalKind.FORGED : g < current ? RefusalKind.STALE :
                        1 != view.state() ? RefusalKind.STALE : RefusalKind.FOREIGN;
                    final int[] pasids = new int[8];
                    final int n = space.pasidsOf(as.id(), pasids);
                    boolean ours = false;
                    for (int i = 0; i < n; i++)
                    {
                        ours |= pasids[i] == PasidHandle.pasid(alien);
                    }
                    if (!ours)
                    {
                        expectRefusal(expected, () -> space.bindTo(as, alien, live, "x"));
                    }
                }
                break;
            case 10:
                if (!owners.isEmpty())
                {
                    final PasidOwner closed = space.openOwner("closed");
                    space.close(closed);
                    expectRefusal(RefusalKind.STALE, () -> space.allocate(closed));
                }
                break;
            default:
                for (final Device d : devices)
                {
                    if (d.isRemoved())
                    {
                        expectRefusal(RefusalKind.STALE, () -> space.removeDevice(d));
                    }
                }
                expectRefusal(RefusalKind.FOREIGN, () -> space.removeDevice(otherDevice));
                break;
        }
    }

    // ------------------------------------------------------------------------------------------------ checks

    /** A PASID's new life was handed out: no device bound to an earlier life may still hold it. */
    private void acquired(final int pasid, final int generation)
    {
        for (final ModelBond b : bonds)
        {
            if (b.bond.pasid() != pasid || b.generation >= generation)
            {
                continue;
            }
            reuseChecks++;
            final boolean released = !b.bond.isBound() && (!b.bond.isRevoked() ||
                flushed.contains(System.identityHashCode(b.bond.device()) + "/" + pasid + "/" + b.generation));
            if (!released)
            {
                fail(where + "PASID " + pasid + " handed out at generation " + generation + " while " + b.bond +
                    " of generation " + b.generation + " was neither unbound nor revoked with its ATC flushed");
            }
        }
    }

    private void ownerGone(final int pasid)
    {
        for (final ModelBond b : bonds)
        {
            if (b.bond.pasid() == pasid && b.bond.isBound())
            {
                b.ownerGone = true;
            }
        }
    }

    private void expectRefusal(final RefusalKind kind, final Runnable call)
    {
        final String before = fingerprint();
        final long count = space.counts(new PasidSpaceCounts()).refusals(kind);
        try
        {
            call.run();
        }
        catch (final CapabilityException ex)
        {
            assertEquals(kind, ex.kind(), where + ex.getMessage());
            assertNotNull(ex.getMessage());
            assertEquals(before, fingerprint(), where + "a refused call changed the space: " + ex.getMessage());
            assertEquals(count + 1, space.counts(new PasidSpaceCounts()).refusals(kind), where + "not counted");
            refused[kind.ordinal()]++;
            return;
        }
        fail(where + "a " + kind + " call was accepted");
    }

    /** Everything but the refusal counts and the wait times. */
    private String fingerprint()
    {
        return space.counts(new PasidSpaceCounts()).toString()
            .replaceAll("refusals=\\[[^]]*]", "").replaceAll("(oldestStuckWaitNs|oldestWaitNs)=\\d+", "");
    }

    private void check()
    {
        int live = 0;
        int stuck = 0;
        for (final ModelBond b : bonds)
        {
            if (b.bond.isBound())
            {
                live++;
                stuck += b.ownerGone ? 1 : 0;
            }
        }
        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        revoked = (int)counts.revocations();
        assertEquals(live + counts.pendingRevocationFlushes(), counts.bonds(), where + "bond records: " + counts);
        assertEquals(stuck, counts.stuckBonds(), where + "stuck bonds: " + counts);
        assertEquals(open.size() + exitedStillIndexed(), counts.addressSpaces(), where + "address spaces: " + counts);
        final AllocatorCounts a = counts.allocator();
        assertEquals(MAX_PASID, a.free() + a.cached() + a.inUse() + a.inGrace(), where + "a PASID was lost: " + counts);
        assertEquals(counts.activePasids(), a.inUse(), where + counts);
        assertEquals(counts.teardownPasids(), a.held(), where + counts);
        assertEquals(0 != counts.stuckBonds(), counts.oldestStuckWaitNs() > 0, where + counts);
        final StuckBonds list = space.stuckBonds(new StuckBonds(64));
        assertEquals(stuck, list.total(), where + "stuck list");
    }

    /** An exited address space stays indexed while a bond record of its PASIDs remains (bound, or revocation pending). */
    private int exitedStillIndexed()
    {
        exited.values().removeIf((as) ->
        {
            for (final ModelBond b : bonds)
            {
                if (b.bond.owner() == as.id() && (b.bond.isBound() || b.bond.isRevoked() && isPending(b)))
                {
                    return false;
                }
            }
            return true;
        });
        return exited.size();
    }

    private boolean isPending(final ModelBond b)
    {
        return !flushed.contains(System.identityHashCode(b.bond.device()) + "/" + b.bond.pasid() + "/" + b.generation);
    }

    private ModelBond pickEnded(final int state)
    {
        final List<ModelBond> ended = new ArrayList<>();
        for (final ModelBond b : bonds)
        {
            if (b.bond.state == state)
            {
                ended.add(b);
            }
        }
        return ended.isEmpty() ? null : pick(ended);
    }

    private PasidOwner pickOwnerOrNew()
    {
        return owners.isEmpty() ? space.openOwner("new") : pick(owners);
    }

    private <T> T pick(final List<T> from)
    {
        return from.get(random.nextInt(from.size()));
    }
}
