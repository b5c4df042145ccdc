/*
 * jcstress tests of the PasidSpace facade (org.pasidkit.tables.PasidSpace): the control path (bind, unbind, exit,
 * serialized by one lock) against itself and against the lock-free data path (reportFault, driverData,
 * driverDataOf, bondsOf) and the allocator's reclaim.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.PasidSpaceTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * Every state builds its own tiny space (a few PASIDs, 8 bond slots): jcstress creates many states, and each one
 * holds native memory (PASID table leaf, bond-table chunk, epoch slots) until it is collected.
 */
package org.pasidkit.stress;

import java.util.concurrent.TimeUnit;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIIII_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.IIIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdState;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.tables.AddressSpace;
import org.pasidkit.tables.Bond;
import org.pasidkit.tables.CapabilityException;
import org.pasidkit.tables.Device;
import org.pasidkit.tables.ExitListener;
import org.pasidkit.tables.FaultAttribution;
import org.pasidkit.tables.PasidHandle;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.PasidEntryView;
import org.pasidkit.tables.PasidSpaceCounts;
import org.pasidkit.tables.RefusalKind;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.pasidkit.tables.internal.PasidTableDescriptor.FLAG_STANDALONE;
import static org.pasidkit.tables.internal.PasidTableDescriptor.STATE_ACTIVE;
import static org.pasidkit.tables.internal.PasidTableDescriptor.STATE_TEARDOWN;

/**
 * Races of {@link PasidSpace}. Codes used in the results:
 * <ul>
 *   <li>control calls: 1 returned, 0 refused as expected ({@code IllegalArgumentException} "has exited", or
 *       {@code IdsExhaustedException} for "every PASID is in its grace period"), -1 any other exception;</li>
 *   <li>data objects: 0 null, 1 the first bond's ({@code A}), 2 the second bond's ({@code B}), 9 anything else;</li>
 *   <li>fault kinds: 1 ATTRIBUTED, 2 SUPPRESSED, 3 UNKNOWN_PASID, 4 NOT_BOUND_TO_DEVICE.</li>
 * </ul>
 */
public final class PasidSpaceTests
{
    static final long MM = 7;
    static final long OTHER_MM = 8;
    static final int RID_1 = 0x10;
    static final int RID_2 = 0x20;
    static final int RID_UNBOUND = 0x30;
    static final Object A = new Object();
    static final Object B = new Object();
    static final ExitListener IGNORE = (event) -> {};

    private PasidSpaceTests()
    {
    }

    static PasidSpace tinySpace(final int maxPasid)
    {
        return PasidSpace.builder().maxPasid(maxPasid).maxBonds(8).build();
    }

    static int dataCode(final Object data)
    {
        return null == data ? 0 : A == data ? 1 : B == data ? 2 : 9;
    }

    static int faultCode(final FaultAttribution fault)
    {
        return fault.kind().ordinal() + 1;
    }

    /** Entries of {@code mm} (not standalone) now in {@code state}, by a scan of the whole table. */
    static int entriesOf(final PasidSpace space, final long mm, final int state, final PasidEntryView view)
    {
        int n = 0;
        for (int pasid = space.allocator().minId(); pasid <= space.allocator().maxId(); pasid++)
        {
            if (space.entry(pasid, view) && state == view.state() && mm == view.owner() &&
                0 == (view.flags() & FLAG_STANDALONE))
            {
                n++;
            }
        }
        return n;
    }

    /** 0 if {@code e} is the expected refusal (its message contains {@code expected}), -1 for any other. */
    static int refusedWith(final RuntimeException e, final String expected)
    {
        return null != e.getMessage() && e.getMessage().contains(expected) ? 0 : -1;
    }

    /**
     * Bind vs exit of the same address space: a second device binds to address space 7's shared PASID while 7 exits.
     * Either the bind wins (the bond exists, the PASID is in TEARDOWN and the new bond got its exit event) or the
     * exit wins (the bind is refused as "has exited" and changes nothing). Never an ACTIVE PASID for the exited
     * address space, never a bond that was not told about the exit.
     * <p>
     * Result: bind, exit, state of the shared PASID, exit events queued for device 2, device 2's bonds, live PASIDs
     * of 7 (ACTIVE entries owned by 7 plus {@code pasidsOf(7)}).
     */
    @JCStressTest
    @Outcome(id = "1, 1, 2, 1, 1, 0", expect = ACCEPTABLE, desc = "bind first: bonded, then torn down and told")
    @Outcome(id = "0, 1, 2, 0, 0, 0", expect = ACCEPTABLE, desc = "exit first: bind refused as bind after exit")
    @Outcome(id = "1, 1, 2, 0, 1, [1-9]", expect = FORBIDDEN,
        desc = "bind after exit went through: a live PASID for the exited address space, its bond never told")
    @Outcome(expect = FORBIDDEN, desc = "inconsistent end state: live PASID of an exited mm, untold bond, lost bind")
    @State
    public static class SharedBindVsExit
    {
        final PasidSpace space = tinySpace(8);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device1 = space.addDevice(RID_1, 20, true, IGNORE);
        final Device device2 = space.addDevice(RID_2, 20, true, null);
        final int pasid = space.bind(mm, device1, A, 0).pasid();
        final PasidEntryView view = new PasidEntryView();
        final int[] pasids = new int[8];

        @Actor
        public void bind(final IIIIII_Result r)
        {
            try
            {
                space.bind(mm, device2, B, 0);
                r.r1 = 1;
            }
            catch (final IllegalArgumentException e)
            {
                r.r1 = refusedWith(e, "has exited");
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void exit(final IIIIII_Result r)
        {
            try
            {
                space.exit(mm);
                r.r2 = 1;
            }
            catch (final RuntimeException e)
            {
                r.r2 = -1;
            }
        }

        @Arbiter
        public void check(final IIIIII_Result r)
        {
            space.entry(pasid, view);
            r.r3 = view.state();
            r.r4 = space.pollExitEvents(device2, IGNORE, 8);
            r.r5 = device2.bondCount();
            r.r6 = entriesOf(space, MM, STATE_ACTIVE, view) + space.pasidsOf(MM, pasids);
        }
    }

    /**
     * Private bind vs exit: a second device asks address space 7 for an extra PASID of its own while 7 exits. If the
     * bind wins, both PASIDs of 7 are in TEARDOWN and the new bond was told; if the exit wins, no PASID was
     * allocated for the exited address space.
     * <p>
     * Result: bind, exit, TEARDOWN entries of 7, exit events queued for device 2, device 2's bonds, live PASIDs of 7.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 2, 1, 1, 0", expect = ACCEPTABLE, desc = "bind first: private PASID, then both torn down")
    @Outcome(id = "0, 1, 1, 0, 0, 0", expect = ACCEPTABLE, desc = "exit first: bind refused, no PASID allocated")
    @Outcome(id = "1, 1, 1, 0, 1, [1-9]", expect = FORBIDDEN,
        desc = "the private PASID bound during the exit stays alive, its bond never told")
    @Outcome(expect = FORBIDDEN, desc = "inconsistent end state: a private PASID alive or untold after the exit")
    @State
    public static class PrivateBindVsExit
    {
        final PasidSpace space = tinySpace(8);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device1 = space.addDevice(RID_1, 20, true, IGNORE);
        final Device device2 = space.addDevice(RID_2, 20, true, null);
        final PasidEntryView view = new PasidEntryView();
        final int[] pasids = new int[8];

        public PrivateBindVsExit()
        {
            space.bind(mm, device1, A, 0);
        }

        @Actor
        public void bind(final IIIIII_Result r)
        {
            try
            {
                space.bind(mm, device2, B, PasidSpace.PRIVATE);
                r.r1 = 1;
            }
            catch (final IllegalArgumentException e)
            {
                r.r1 = refusedWith(e, "has exited");
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void exit(final IIIIII_Result r)
        {
            try
            {
                space.exit(mm);
                r.r2 = 1;
            }
            catch (final RuntimeException e)
            {
                r.r2 = -1;
            }
        }

        @Arbiter
        public void check(final IIIIII_Result r)
        {
            r.r3 = entriesOf(space, MM, STATE_TEARDOWN, view);
            r.r4 = space.pollExitEvents(device2, IGNORE, 8);
            r.r5 = device2.bondCount();
            r.r6 = entriesOf(space, MM, STATE_ACTIVE, view) + space.pasidsOf(MM, pasids);
        }
    }

    /**
     * Unbind vs reclaim: address space 7 exited while device 1 was bound, so its PASID (the only one of the space)
     * is held by that bond. The driver unbinds (the last holder lets go) while another thread drives the
     * allocator's reclaim and allocates. The PASID is handed out again only after the unbind released it: whoever
     * gets it sees no bond left.
     * <p>
     * Result: unbind, the other thread's allocate (the PASID, or -2 ALL_IN_GRACE, -1 EXHAUSTED), then what that
     * thread sees of the old bond if it got the PASID (driverData code, bondsOf count; -1, -1 if it did not).
     */
    @JCStressTest
    @Outcome(id = "1, -2, -1, -1", expect = ACCEPTABLE, desc = "allocate before the release or within the grace period")
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "allocate after the release and the grace: no bond left")
    @Outcome(id = "1, -1, -1, -1", expect = FORBIDDEN,
        desc = "EXHAUSTED while the PASID was held or in its grace period (should be ALL_IN_GRACE)")
    @Outcome(id = {"1, 1, [12], .*", "1, 1, .*, [1-9]"}, expect = FORBIDDEN,
        desc = "the PASID handed out again while its old bond's data or listing is still visible")
    @Outcome(expect = FORBIDDEN, desc = "PASID handed out while its bond still exists, or a failed unbind")
    @State
    public static class UnbindVsAllocate
    {
        final PasidSpace space = tinySpace(1);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device = space.addDevice(RID_1, 20, true, null);
        final Bond bond = space.bind(mm, device, A, 0);
        final long handle = bond.handle();
        final int[] rids = new int[4];

        public UnbindVsAllocate()
        {
            space.exit(mm);
        }

        @Actor
        public void driver(final IIII_Result r)
        {
            try
            {
                space.unbind(bond);
                r.r1 = 1;
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void allocator(final IIII_Result r)
        {
            space.allocator().reclaim();
            final int id = space.allocator().allocate();
            if (id == PasidHandle.pasid(handle))
            {
                r.r2 = id;
                r.r3 = dataCode(space.driverData(id, RID_1));
                r.r4 = space.bondsOf(id, rids);
            }
            else
            {
                r.r2 = id > 0 ? 100 + id : id;
                r.r3 = -1;
                r.r4 = -1;
            }
        }
    }

    /**
     * Lookup vs teardown: a device reports faults on address space 7's PASID while 7 exits. The fault is attributed
     * to 7 with device 1's data, or suppressed; a fault from a device that has no bond is NOT_BOUND while the PASID
     * is live and suppressed after. Once a fault was suppressed no later one is attributed. The bond, and so
     * driverData, stays until the driver unbinds.
     * <p>
     * Result: fault from device 1 (kind * 10 + data), fault from the unbound device (kind), fault from device 1
     * again (kind * 10 + data), then driverData of device 1.
     */
    @JCStressTest
    @Outcome(id = "11, 4, 11, 1", expect = ACCEPTABLE, desc = "all three faults before the exit")
    @Outcome(id = "11, 4, 20, 1", expect = ACCEPTABLE, desc = "exit between the second and third fault")
    @Outcome(id = "11, 2, 20, 1", expect = ACCEPTABLE, desc = "exit between the first and second fault")
    @Outcome(id = "20, 2, 20, 1", expect = ACCEPTABLE, desc = "all three faults after the exit")
    @Outcome(id = {"90, .*", ".*, .*, 90, .*"}, expect = FORBIDDEN,
        desc = "attributed with the wrong owner, address space or generation: a torn read of the entry")
    @Outcome(expect = FORBIDDEN, desc = "wrong or missing data, UNKNOWN while bound, attributed after suppressed")
    @State
    public static class ExitVsReportFault
    {
        final PasidSpace space = tinySpace(8);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device1 = space.addDevice(RID_1, 20, true, IGNORE);
        final Device device2 = space.addDevice(RID_2, 20, true, IGNORE);
        final Device unbound = space.addDevice(RID_UNBOUND, 20, true, IGNORE);
        final int pasid = space.bind(mm, device1, A, 0).pasid();
        final FaultAttribution fault = new FaultAttribution();

        public ExitVsReportFault()
        {
            space.bind(mm, device2, B, 0);
        }

        @Actor
        public void exit()
        {
            space.exit(mm);
        }

        @Actor
        public void device(final IIII_Result r)
        {
            r.r1 = attributed(space.reportFault(RID_1, pasid, 0x1000, fault));
            r.r2 = faultCode(space.reportFault(RID_UNBOUND, pasid, 0x1000, fault));
            r.r3 = attributed(space.reportFault(RID_1, pasid, 0x1000, fault));
            r.r4 = dataCode(space.driverData(pasid, RID_1));
        }

        /** kind * 10 + data code; an ATTRIBUTED fault with the wrong owner or generation gets 90. */
        private int attributed(final FaultAttribution f)
        {
            if (FaultAttribution.Kind.ATTRIBUTED == f.kind() && (MM != f.owner() || MM != f.addressSpace() ||
                1 != f.generation()))
            {
                return 90;
            }
            return faultCode(f) * 10 + dataCode(f.driverData());
        }
    }

    /** Longest bounded wait of the device actor for the control actor, in onSpinWait calls (about a millisecond). */
    static final int SPIN_LIMIT = 1 << 14;

    /**
     * Reuse vs a pinned reader: the only PASID of the space goes from address space 7 (device 1, data A) through
     * exit and unbind to a rebind by address space 8 (device 1 again, data B), while a device, inside one epoch
     * critical section, reports a fault, waits (bounded) until the control thread is done, and reports again. A
     * reader that saw the first life and is still pinned keeps the PASID in its grace period: the rebind is refused
     * and the second report cannot see a second life. Each report sees one life whole: never one life's owner or
     * generation with the other's data, never NOT_BOUND for the first life (device 1 was bound for as long as that
     * life was ACTIVE). NOT_BOUND is fine for the second life: it is ACTIVE a moment before its bond is recorded.
     * <p>
     * Result: rebind (new generation, 0 refused "in grace"), first report, second report, control done before the
     * second report (1) or the wait expired (0). Reports: 111 ATTRIBUTED to 7 with A (generation 1), 122 ATTRIBUTED
     * to 8 with B (generation 2), 210 SUPPRESSED (generation 1), 300 UNKNOWN_PASID, 400 NOT_BOUND_TO_DEVICE, 999 an
     * attribution that mixes the two lives.
     */
    @JCStressTest
    @Outcome(id = "0, (111|210), 300, 1", expect = ACCEPTABLE,
        desc = "saw the first life, stayed pinned: rebind refused (grace), the PASID is RETIRED at the second report")
    @Outcome(id = "0, 300, 300, 1", expect = ACCEPTABLE, desc = "pinned after the unbind: rebind refused all the same")
    @Outcome(id = "2, 300, 122, 1", expect = ACCEPTABLE,
        desc = "pinned after the retirement (it cannot hold the old life): the rebind reused the PASID")
    @Outcome(id = "2, (400|122), 122, 1", expect = ACCEPTABLE, desc = "entered after the reuse: the second life")
    @Outcome(id = {"[02], 111, (111|210|300), 0", "[02], 210, (210|300), 0", "[02], 300, 300, 0",
        "2, 300, (400|122), 0", "2, 400, (400|122), 0", "2, 122, 122, 0"}, expect = ACCEPTABLE,
        desc = "the bounded wait expired with the control still running (the rebind may come after the exit)")
    @Outcome(id = {"2, (111|210), .*, 1", ".*, (111|210), (400|122), .*"}, expect = FORBIDDEN,
        desc = "the PASID was reused while a reader that saw its first life was still pinned (grace broken)")
    @Outcome(id = "0, 400, .*", expect = FORBIDDEN,
        desc = "NOT_BOUND with no second life: first life read ACTIVE, bond read after the unbind (not one snapshot)")
    @Outcome(expect = FORBIDDEN, desc = "one life's owner or generation with the other life's data, or any other mix")
    @State
    public static class ReuseVsPinnedReportFault
    {
        final PasidSpace space = tinySpace(1);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device = space.addDevice(RID_1, 20, true, IGNORE);
        final Bond bond = space.bind(mm, device, A, 0);
        final long handle = bond.handle();
        final EpochDomain.Reader reader = space.epochDomain().register();
        final FaultAttribution fault = new FaultAttribution();
        volatile int controlDone;

        @Actor
        public void control(final IIII_Result r)
        {
            space.exit(mm);
            space.unbind(bond);
            try
            {
                r.r1 = PasidHandle.generation(space.bind(space.openAddressSpace(OTHER_MM), device, B, 0).handle());
            }
            catch (final IdsExhaustedException e)
            {
                r.r1 = e.inGrace() ? 0 : -1;
            }
            controlDone = 1;
        }

        @Actor
        public void device(final IIII_Result r)
        {
            final int pasid = PasidHandle.pasid(handle);
            reader.enter();
            r.r2 = lifeCode(space.reportFault(RID_1, pasid, 0x1000, fault));
            for (int i = 0; i < SPIN_LIMIT && 0 == controlDone; i++)
            {
                Thread.onSpinWait();
            }
            r.r4 = controlDone;
            r.r3 = lifeCode(space.reportFault(RID_1, pasid, 0x1000, fault));
            reader.exit();
        }
    }

    /**
     * Driver-data publication vs the bond list: device 2 binds to address space 7's shared PASID while a reader
     * lists the PASID's bonds ({@code bondsOf}, the PASID's requester-id list) until it sees the new bond (bounded
     * wait) and then at once asks for device 2's data ({@code driverData}, the device's cell): message passing, the
     * reader looks right after the list changed. The cell is published before the list, so a reader that lists the
     * bond also finds its data.
     * <p>
     * Result: bind (1 done), bonds listed, device 2's data.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "wait expired: both reads before the bind")
    @Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "wait expired: list read before the bind, data after")
    @Outcome(id = "1, 2, 2", expect = ACCEPTABLE, desc = "both reads after the bind")
    @Outcome(id = "1, 2, 0", expect = FORBIDDEN, desc = "the bond is listed but its data is not published yet")
    @Outcome(expect = FORBIDDEN, desc = "wrong data, a wrong bond count, or a failed bind")
    @State
    public static class BindVsBondsOfThenDriverData
    {
        final PasidSpace space = tinySpace(8);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device1 = space.addDevice(RID_1, 20, true, IGNORE);
        final Device device2 = space.addDevice(RID_2, 20, true, IGNORE);
        final int pasid = space.bind(mm, device1, A, 0).pasid();
        final int[] rids = new int[4];

        @Actor
        public void bind(final III_Result r)
        {
            try
            {
                space.bind(mm, device2, B, 0);
                r.r1 = 1;
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void reader(final III_Result r)
        {
            int bonds = space.bondsOf(pasid, rids);
            for (int i = 0; i < SPIN_LIMIT && 1 == bonds; i++)
            {
                Thread.onSpinWait();
                bonds = space.bondsOf(pasid, rids);
            }
            r.r2 = bonds;
            r.r3 = dataCode(space.driverData(pasid, RID_2));
        }
    }

    /**
     * Driver-data withdrawal vs the bond list: device 2 unbinds from address space 7's shared PASID (device 1 stays)
     * while a reader lists the bonds until the bond is gone (bounded wait) and then at once asks for device 2's data.
     * The cell is cleared before the list changes, so a reader that no longer lists the bond no longer finds its
     * data.
     * <p>
     * Result: unbind (1 done), bonds listed, device 2's data.
     */
    @JCStressTest
    @Outcome(id = "1, 2, 2", expect = ACCEPTABLE, desc = "wait expired: both reads before the unbind")
    @Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "wait expired: list read before the unbind, data after")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both reads after the unbind")
    @Outcome(id = "1, 1, 2", expect = FORBIDDEN, desc = "the bond is gone from the list but its data is still there")
    @Outcome(expect = FORBIDDEN, desc = "wrong data, a wrong bond count, or a failed unbind")
    @State
    public static class UnbindVsBondsOfThenDriverData
    {
        final PasidSpace space = tinySpace(8);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device1 = space.addDevice(RID_1, 20, true, IGNORE);
        final Device device2 = space.addDevice(RID_2, 20, true, IGNORE);
        final int pasid = space.bind(mm, device1, A, 0).pasid();
        final Bond bond = space.bind(mm, device2, B, 0);
        final int[] rids = new int[4];

        @Actor
        public void unbind(final III_Result r)
        {
            try
            {
                space.unbind(bond);
                r.r1 = 1;
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void reader(final III_Result r)
        {
            int bonds = space.bondsOf(pasid, rids);
            for (int i = 0; i < SPIN_LIMIT && 2 == bonds; i++)
            {
                Thread.onSpinWait();
                bonds = space.bondsOf(pasid, rids);
            }
            r.r2 = bonds;
            r.r3 = dataCode(space.driverData(pasid, RID_2));
        }
    }

    /**
     * A stale handle vs reuse, the reader not pinned: the only PASID of the space goes from address space 7 (data A)
     * through exit and unbind to address space 8 (data B, generation 2) while a reader asks by the first life's handle
     * ({@code driverDataOf}) and then by the bare PASID ({@code driverData}). By the handle: A or nothing, never B.
     * By the PASID: whatever bond exists at that instant, so B only if the rebind happened, and never A once the
     * handle lookup found the cell empty (cells go A, empty, B).
     * <p>
     * Result: rebind (its generation, 0 refused "in grace"), data by the old handle, data by the PASID.
     */
    @JCStressTest
    @Outcome(id = "[02], 1, [01]", expect = ACCEPTABLE, desc = "handle lookup in the first life; PASID lookup before B")
    @Outcome(id = "2, 1, 2", expect = ACCEPTABLE, desc = "handle lookup in the first life; PASID lookup after B")
    @Outcome(id = "[02], 0, 0", expect = ACCEPTABLE, desc = "handle lookup after the unbind; no bond at the second")
    @Outcome(id = "2, 0, 2", expect = ACCEPTABLE, desc = "handle lookup after the unbind (or refused: generation 2)")
    @Outcome(id = "[02], 2, .*", expect = FORBIDDEN, desc = "the stale handle got the next owner's data")
    @Outcome(expect = FORBIDDEN, desc = "A after the cell was seen empty, B without a rebind, or a failed call")
    @State
    public static class StaleHandleVsReuse
    {
        final PasidSpace space = tinySpace(1);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device = space.addDevice(RID_1, 20, true, IGNORE);
        final Bond bond = space.bind(mm, device, A, 0);
        final long handle = bond.handle();

        @Actor
        public void control(final III_Result r)
        {
            try
            {
                space.exit(mm);
                space.unbind(bond);
                r.r1 = PasidHandle.generation(space.bind(space.openAddressSpace(OTHER_MM), device, B, 0).handle());
            }
            catch (final IdsExhaustedException e)
            {
                r.r1 = e.inGrace() ? 0 : -1;
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void reader(final III_Result r)
        {
            r.r2 = dataCode(space.driverDataOf(handle, RID_1));
            r.r3 = dataCode(space.driverData(PasidHandle.pasid(handle), RID_1));
        }
    }

    /**
     * A bond made with null data, vs a fault from its device: the fault is attributed (with null data) or, after
     * the exit, suppressed; never NOT_BOUND, which a null data object once produced.
     * <p>
     * Result: fault kind, fault kind of a second report.
     */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both faults before the exit: attributed")
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "exit between the faults")
    @Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "both faults after the exit: suppressed")
    @Outcome(id = {"4, .*", ".*, 4"}, expect = FORBIDDEN, desc = "NOT_BOUND for a bound device (its data is null)")
    @Outcome(expect = FORBIDDEN, desc = "NOT_BOUND or UNKNOWN for a bound device, or attributed after suppressed")
    @State
    public static class NullDrvdataExitVsReportFault
    {
        final PasidSpace space = tinySpace(8);
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device = space.addDevice(RID_1, 20, true, IGNORE);
        final int pasid = space.bind(mm, device, null, 0).pasid();
        final FaultAttribution fault = new FaultAttribution();

        @Actor
        public void exit()
        {
            space.exit(mm);
        }

        @Actor
        public void device(final II_Result r)
        {
            r.r1 = faultCode(space.reportFault(RID_1, pasid, 0x1000, fault));
            r.r2 = faultCode(space.reportFault(RID_1, pasid, 0x2000, fault));
        }
    }

    /** A fault report as {@code kind * 100 + generation * 10 + data}; 999 for an attribution that mixes lives. */
    static int lifeCode(final FaultAttribution f)
    {
        final int code = faultCode(f) * 100 + f.generation() * 10 + dataCode(f.driverData());
        if (FaultAttribution.Kind.ATTRIBUTED == f.kind() &&
            !(111 == code && MM == f.owner()) && !(122 == code && OTHER_MM == f.owner()))
        {
            return 999;
        }
        return code;
    }

    /**
     * Revocation vs a late unbind: address space 7 exited with one driver bound; the unbind deadline has just passed
     * when the driver's unbind and the space's {@code revokeOverdue} race. Exactly one of them ends the bond: either
     * the unbind (nothing is left to revoke) or the revocation (the late unbind is refused as revoked). The bond's
     * hold on the PASID is released exactly once and the PASID retired, its ATC flushed by the revocation or by the
     * driver before its unbind.
     * <p>
     * Result: unbind (1 done, 0 refused as revoked, -1 anything else), bonds revoked by {@code revokeOverdue}, the
     * bond's end state (0 still bound, 1 unbound, 2 revoked), and 1 if the PASID is RETIRED with no holder, no
     * TEARDOWN entry and no bond record left (0 otherwise).
     */
    @JCStressTest
    @Outcome(id = "1, 0, 1, 1", expect = ACCEPTABLE, desc = "the driver's unbind came first: nothing left to revoke")
    @Outcome(id = "0, 1, 2, 1", expect = ACCEPTABLE, desc = "the revocation came first: the late unbind refused")
    @Outcome(id = "-?1, 1, .*", expect = FORBIDDEN,
        desc = "the late unbind of a revoked bond was not refused as revoked (the bond ended twice)")
    @Outcome(expect = FORBIDDEN, desc = "the bond ended twice or not at all, or the PASID was not retired once")
    @State
    public static class RevokeVsLateUnbind
    {
        volatile long nowNs;
        final PasidSpace space = PasidSpace.builder().maxPasid(2).maxBonds(8)
            .unbindDeadline(10, TimeUnit.NANOSECONDS).clock(() -> nowNs).deviceTlbFlush((device, pasid) -> true).build();
        final AddressSpace mm = space.openAddressSpace(MM);
        final Device device = space.addDevice(RID_1, 20, true, IGNORE);
        final Bond bond = space.bind(mm, device, A, 0);

        {
            space.exit(mm);
            // NOTE: the deadline passes only now; no control call has run since the exit.
            nowNs = 100;
        }

        @Actor
        public void driver(final IIII_Result r)
        {
            try
            {
                space.unbind(bond);
                r.r1 = 1;
            }
            catch (final CapabilityException e)
            {
                r.r1 = RefusalKind.REVOKED == e.kind() ? 0 : -1;
            }
            catch (final RuntimeException e)
            {
                r.r1 = -1;
            }
        }

        @Actor
        public void reaper(final IIII_Result r)
        {
            r.r2 = space.revokeOverdue();
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = bond.isBound() ? 0 : bond.isRevoked() ? 2 : 1;
            final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
            r.r4 = IdState.RETIRED == space.allocator().stateOf(bond.pasid()) && 0 == counts.teardownPasids() &&
                0 == counts.bonds() && 0 == counts.stuckBonds() && 0 == counts.pendingRevocationFlushes() ? 1 : 0;
        }
    }
}
