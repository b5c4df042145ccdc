package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.pasidkit.allocator.IdState;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.tables.internal.PasidTableDescriptor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random sequences of every life-cycle call against a sequential model of the whole state; after each step
 * the tables, the indexes (driver data by PASID and by handle, bonds, address spaces), fault attribution, the counts
 * and the allocator must agree with the model. Failure messages start with the seed and step.
 * <p>
 * Address spaces in the model: {@code mmAlive} holds an mm from its first bind until its last PASID is gone (TRUE
 * while it lives, FALSE after its exit while drivers are still bound); then it is forgotten, as PasidSpace forgets
 * it, and its id may be bound again as a new address space.
 */
class PasidSpaceModelTest
{
    private static final int MAX_PASID = 40;
    private static final int[] RIDS = {0x10, 0x20, 0x30};

    static LongStream seeds()
    {
        return LongStream.rangeClosed(1, 40);
    }

    /** Model of one live PASID. */
    private static final class Live
    {
        long handle;
        long ownerKey;
        long mm = -1;
        boolean teardown;
        boolean isPrivate;
        final Map<Integer, Object> bonds = new TreeMap<>();
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void randomLifeCyclesAgreeWithTheModel(final long seed)
    {
        final Random random = new Random(seed);
        final PasidSpace space = PasidSpace.builder().maxPasid(MAX_PASID).addressSpaceQuota(3).build();
        final Device[] devices = {
            space.addDevice(RIDS[0], 20, true, null),
            space.addDevice(RIDS[1], 20, false, null),
            space.addDevice(RIDS[2], 4, true, null)};
        final Map<Integer, Live> live = new HashMap<>();
        final Map<Long, Boolean> mmAlive = new HashMap<>();
        final List<PasidOwner> owners = new ArrayList<>();
        final List<Long> deadHandles = new ArrayList<>();
        long reuseChecks = 0;

        for (int step = 0; step < 1500; step++)
        {
            final String where = "seed " + seed + " step " + step + ": ";
            final int op = random.nextInt(100);
            try
            {
                if (op < 30)
                {
                    final long mm = random.nextInt(8);
                    final Device device = devices[random.nextInt(devices.length)];
                    final boolean isPrivate = random.nextInt(5) == 0;
                    // NOTE: now and then a bond with null data: bound all the same (faults attributed, not NOT_BOUND).
                    final Object data = random.nextInt(6) == 0 ? null : "d" + step;
                    final Boolean alive = mmAlive.get(mm);
                    final Live shared = isPrivate ? null : sharedOf(live, mm);
                    final boolean expectRefusal = Boolean.FALSE.equals(alive) ||
                        (null != shared && (shared.bonds.containsKey(device.requesterId()) ||
                            PasidHandle.pasid(shared.handle) > device.maxPasid())) ||
                        (null == shared && countOf(live, mm) >= 3);
                    if (expectRefusal)
                    {
                        assertThrows(IllegalArgumentException.class, () ->
                            space.bind(mm, device, data, isPrivate ? PasidSpace.PRIVATE : 0), where + "bind refused");
                    }
                    else
                    {
                        final long handle;
                        try
                        {
                            handle = space.bind(mm, device, data, isPrivate ? PasidSpace.PRIVATE : 0);
                        }
                        catch (final IdsExhaustedException ex)
                        {
                            assertTrue(live.size() + countInGrace(space) >= 1, where + "exhausted with room");
                            continue;
                        }
                        final int pasid = PasidHandle.pasid(handle);
                        Live entry = live.get(pasid);
                        if (null == entry)
                        {
                            entry = new Live();
                            entry.handle = handle;
                            entry.ownerKey = mm;
                            entry.mm = mm;
                            entry.isPrivate = isPrivate;
                            live.put(pasid, entry);
                            reuseChecks += deadHandles.stream().filter((h) -> PasidHandle.pasid(h) == pasid).count();
                        }
                        else
                        {
                            assertEquals(shared, entry, where + "shared PASID expected");
                            assertEquals(entry.handle, handle);
                        }
                        assertTrue(pasid <= device.maxPasid(), where + "PASID " + pasid + " too wide for " + device);
                        entry.bonds.put(device.requesterId(), data);
                        mmAlive.put(mm, true);
                    }
                }
                else if (op < 45 && !live.isEmpty())
                {
                    final Live entry = pickLive(random, live);
                    if (entry.bonds.isEmpty())
                    {
                        continue;
                    }
                    final int rid = pickKey(random, entry.bonds);
                    space.unbind(entry.handle, space.device(rid));
                    entry.bonds.remove(rid);
                    if (entry.bonds.isEmpty() && (entry.teardown || entry.mm >= 0))
                    {
                        live.remove(PasidHandle.pasid(entry.handle));
                        deadHandles.add(entry.handle);
                    }
                }
                else if (op < 53)
                {
                    final long mm = random.nextInt(8);
                    if (!Boolean.TRUE.equals(mmAlive.get(mm)))
                    {
                        assertThrows(IllegalArgumentException.class, () -> space.exit(mm), where + "exit refused");
                        continue;
                    }
                    space.exit(mm);
                    mmAlive.put(mm, false);
                    for (final Live entry : new ArrayList<>(live.values()))
                    {
                        if (entry.mm == mm)
                        {
                            entryGone(live, deadHandles, entry);
                        }
                    }
                }
                else if (op < 58)
                {
                    owners.add(space.openOwner("o" + step, 1 + random.nextInt(3)));
                }
                else if (op < 68 && !owners.isEmpty())
                {
                    final PasidOwner owner = owners.get(random.nextInt(owners.size()));
                    final long held = live.values().stream().filter((l) -> l.ownerKey == -owner.id() && !l.teardown).count();
                    if (owner.isClosed() || held >= owner.quota())
                    {
                        assertThrows(IllegalArgumentException.class, () -> space.allocate(owner), where + "quota");
                        continue;
                    }
                    final long handle;
                    try
                    {
                        handle = space.allocate(owner);
                    }
                    catch (final IdsExhaustedException ex)
                    {
                        continue;
                    }
                    final Live entry = new Live();
                    entry.handle = handle;
                    entry.ownerKey = -owner.id();
                    assertNull(live.put(PasidHandle.pasid(handle), entry), where + "PASID held by two owners");
                }
                else if (op < 75 && !owners.isEmpty())
                {
                    final PasidOwner owner = owners.get(random.nextInt(owners.size()));
                    final Live entry = standaloneOf(random, live);
                    if (null == entry)
                    {
                        continue;
                    }
                    final Device device = devices[random.nextInt(devices.length)];
                    final boolean ok = !owner.isClosed() && entry.ownerKey == -owner.id() && !entry.teardown &&
                        !entry.bonds.containsKey(device.requesterId()) &&
                        PasidHandle.pasid(entry.handle) <= device.maxPasid();
                    if (ok)
                    {
                        space.attach(owner, entry.handle, device, "a" + step);
                        entry.bonds.put(device.requesterId(), "a" + step);
                    }
                    else
                    {
                        assertThrows(IllegalArgumentException.class,
                            () -> space.attach(owner, entry.handle, device, "x"), where + "attach refused");
                    }
                }
                else if (op < 82 && !owners.isEmpty())
                {
                    final PasidOwner owner = owners.get(random.nextInt(owners.size()));
                    final Live entry = standaloneOf(random, live);
                    if (null == entry)
                    {
                        continue;
                    }
                    if (!owner.isClosed() && entry.ownerKey == -owner.id() && !entry.teardown)
                    {
                        space.free(owner, entry.handle);
                        entryGone(live, deadHandles, entry);
                    }
                    else
                    {
                        assertThrows(IllegalArgumentException.class, () -> space.free(owner, entry.handle),
                            where + "free refused");
                    }
                }
                else if (op < 86 && !owners.isEmpty())
                {
                    final PasidOwner owner = owners.get(random.nextInt(owners.size()));
                    if (owner.isClosed())
                    {
                        assertThrows(IllegalArgumentException.class, () -> space.close(owner), where + "closed");
                        continue;
                    }
                    space.close(owner);
                    for (final Live entry : new ArrayList<>(live.values()))
                    {
                        if (entry.ownerKey == -owner.id() && !entry.teardown)
                        {
                            entryGone(live, deadHandles, entry);
                        }
                    }
                }
                else if (op < 92 && !deadHandles.isEmpty())
                {
                    final long stale = deadHandles.get(random.nextInt(deadHandles.size()));
                    final Device device = devices[random.nextInt(devices.length)];
                    final Live current = live.get(PasidHandle.pasid(stale));
                    if (null != current && current.handle == stale)
                    {
                        continue;
                    }
                    assertThrows(IllegalArgumentException.class, () -> space.unbind(stale, device),
                        where + "stale handle " + PasidHandle.toString(stale));
                }
                else
                {
                    space.allocator().reclaim();
                }
            }
            catch (final AssertionError | RuntimeException ex)
            {
                throw new AssertionError(where + ex.getMessage(), ex);
            }
            mmAlive.keySet().removeIf((mm) -> live.values().stream().noneMatch((l) -> l.mm == mm));
            check("seed " + seed + " step " + step + ": ", space, devices, live, mmAlive, deadHandles);
        }
        assertTrue(reuseChecks >= 0);
    }

    private static void entryGone(final Map<Integer, Live> live, final List<Long> deadHandles, final Live entry)
    {
        if (entry.bonds.isEmpty())
        {
            live.remove(PasidHandle.pasid(entry.handle));
            deadHandles.add(entry.handle);
        }
        else
        {
            entry.teardown = true;
        }
    }

    private static void check(
        final String where,
        final PasidSpace space,
        final Device[] devices,
        final Map<Integer, Live> live,
        final Map<Long, Boolean> mmAlive,
        final List<Long> deadHandles)
    {
        final PasidEntryView view = new PasidEntryView();
        final FaultAttribution fault = new FaultAttribution();
        final long suppressedBefore = space.counts(new PasidSpaceCounts()).suppressedFaults();
        long suppressed = 0;
        final int[] rids = new int[8];
        int active = 0;
        int teardown = 0;
        int bondCount = 0;
        for (int pasid = 1; pasid <= MAX_PASID; pasid++)
        {
            final Live entry = live.get(pasid);
            space.entry(pasid, view);
            final IdState idState = space.allocator().stateOf(pasid);
            if (null == entry)
            {
                assertFalse(PasidTableDescriptor.STATE_ACTIVE == view.state() ||
                    PasidTableDescriptor.STATE_TEARDOWN == view.state(), where + "entry live in table only: " + view);
                assertFalse(IdState.IN_USE == idState || IdState.HELD == idState,
                    where + "PASID " + pasid + " is " + idState + " in the allocator but free in the model");
                for (final Device device : devices)
                {
                    assertNull(space.driverData(pasid, device.requesterId()), where + "drvdata of a dead PASID");
                    assertEquals(FaultAttribution.Kind.UNKNOWN_PASID,
                        space.reportFault(device.requesterId(), pasid, 0x1000, fault).kind(), where + fault);
                }
                continue;
            }
            assertEquals(PasidHandle.generation(entry.handle), view.generation(), where + "generation of " + pasid);
            assertEquals(entry.ownerKey, view.owner(), where + "owner of " + pasid);
            assertEquals(entry.bonds.size(), view.bondCount(), where + "bond count of " + pasid);
            bondCount += entry.bonds.size();
            if (entry.teardown)
            {
                teardown++;
                assertEquals(PasidTableDescriptor.STATE_TEARDOWN, view.state(), where + view);
                assertEquals(PasidTableDescriptor.DUMMY_ROOT, view.root(), where + view);
                assertFalse(view.faultsOn(), where + view);
                assertEquals(IdState.HELD, idState, where + "allocator state of " + pasid);
            }
            else
            {
                active++;
                assertEquals(PasidTableDescriptor.STATE_ACTIVE, view.state(), where + view);
                assertEquals(entry.mm >= 0 ? entry.mm : PasidTableDescriptor.NO_ROOT, view.root(), where + view);
                assertEquals(IdState.IN_USE, idState, where + "allocator state of " + pasid);
            }
            for (final Device device : devices)
            {
                final int rid = device.requesterId();
                assertEquals(entry.bonds.get(rid), space.driverData(pasid, rid), where + "drvdata of (" + pasid +
                    ", " + device + ")");
                assertEquals(entry.bonds.get(rid), space.driverDataOf(entry.handle, rid), where + "drvdata of " +
                    PasidHandle.toString(entry.handle) + " on " + device);
                space.reportFault(rid, pasid, 0x2000, fault);
                if (entry.teardown)
                {
                    assertEquals(FaultAttribution.Kind.SUPPRESSED, fault.kind(), where + fault);
                    suppressed++;
                }
                else if (entry.bonds.containsKey(rid))
                {
                    assertEquals(FaultAttribution.Kind.ATTRIBUTED, fault.kind(), where + fault);
                    assertEquals(entry.bonds.get(rid), fault.driverData(), where + fault);
                    assertEquals(entry.ownerKey, fault.owner(), where + fault);
                    assertEquals(entry.mm, fault.addressSpace(), where + fault);
                    assertEquals(PasidHandle.generation(entry.handle), fault.generation(), where + fault);
                }
                else
                {
                    assertEquals(FaultAttribution.Kind.NOT_BOUND_TO_DEVICE, fault.kind(), where + fault);
                }
            }
            final int n = space.bondsOf(pasid, rids);
            assertEquals(entry.bonds.size(), n, where + "bondsOf " + pasid);
            for (int i = 0; i < n; i++)
            {
                assertTrue(entry.bonds.containsKey(rids[i]), where + "bondsOf lists " + rids[i]);
            }
        }
        // NOTE: the 64 most recent dead handles (the older ones were checked at earlier steps; their PASIDs moved on).
        for (final long dead : deadHandles.subList(Math.max(0, deadHandles.size() - 64), deadHandles.size()))
        {
            for (final Device device : devices)
            {
                assertNull(space.driverDataOf(dead, device.requesterId()), where + "drvdata by the stale handle " +
                    PasidHandle.toString(dead));
            }
        }
        final int[] pasids = new int[8];
        for (long mm = 0; mm < 8; mm++)
        {
            if (!mmAlive.containsKey(mm))
            {
                assertEquals(0, space.pasidsOf(mm, pasids), where + "pasidsOf forgotten mm " + mm);
            }
        }
        for (final Map.Entry<Long, Boolean> mm : mmAlive.entrySet())
        {
            final int n = space.pasidsOf(mm.getKey(), pasids);
            final long expected = live.values().stream().filter((l) -> l.mm == mm.getKey() && !l.teardown).count();
            assertEquals(expected, n, where + "pasidsOf mm " + mm.getKey());
            for (int i = 0; i < n; i++)
            {
                final Live entry = live.get(pasids[i]);
                if (null == entry || entry.mm != mm.getKey())
                {
                    fail(where + "pasidsOf mm " + mm.getKey() + " lists " + pasids[i]);
                }
            }
        }
        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        assertEquals(suppressedBefore + suppressed, counts.suppressedFaults(), where + "suppressed faults " + counts);
        assertEquals(mmAlive.size(), counts.addressSpaces(), where + "address spaces indexed " + mmAlive + " " +
            counts);
        assertEquals(active, counts.activePasids(), where + counts);
        assertEquals(teardown, counts.teardownPasids(), where + counts);
        assertEquals(bondCount, counts.bonds(), where + counts);
        assertEquals(active, counts.allocator().inUse(), where + counts);
        assertEquals(teardown, counts.allocator().held(), where + counts);
        assertEquals(MAX_PASID, counts.allocator().free() + counts.allocator().cached() + counts.allocator().inUse() +
            counts.allocator().inGrace(), where + "a PASID was lost: " + counts);
        int deviceBonds = 0;
        for (final Device device : devices)
        {
            deviceBonds += device.bondCount();
        }
        assertEquals(bondCount, deviceBonds, where + "device bond counts");
    }

    private static long countInGrace(final PasidSpace space)
    {
        return space.counts(new PasidSpaceCounts()).allocator().inGrace();
    }

    private static Live sharedOf(final Map<Integer, Live> live, final long mm)
    {
        for (final Live entry : live.values())
        {
            if (entry.mm == mm && !entry.isPrivate && !entry.teardown)
            {
                return entry;
            }
        }
        return null;
    }

    private static long countOf(final Map<Integer, Live> live, final long mm)
    {
        return live.values().stream().filter((l) -> l.mm == mm && !l.teardown).count();
    }

    private static Live standaloneOf(final Random random, final Map<Integer, Live> live)
    {
        final List<Live> standalone = new ArrayList<>();
        for (final Live entry : live.values())
        {
            if (entry.mm < 0)
            {
                standalone.add(entry);
            }
        }
        return standalone.isEmpty() ? null : standalone.get(random.nextInt(standalone.size()));
    }

    private static Live pickLive(final Random random, final Map<Integer, Live> live)
    {
        final List<Live> all = new ArrayList<>(live.values());
        return all.get(random.nextInt(all.size()));
    }

    private static int pickKey(final Random random, final Map<Integer, Object> map)
    {
        final List<Integer> keys = new ArrayList<>(map.keySet());
        return keys.get(random.nextInt(keys.size()));
    }
}
