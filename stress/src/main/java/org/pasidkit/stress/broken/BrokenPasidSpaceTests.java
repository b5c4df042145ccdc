/*
 * The PasidSpaceTests races run against BrokenPasidSpace, a copy of PasidSpace with one step removed (see
 * BrokenPasidSpace.Bug), except StaleHandleVsReuse, which runs the production PasidSpace with the reader's
 * driverDataOf minus its generation check: each test here MUST fail (FORBIDDEN outcomes). Checked by
 * org.pasidkit.stress.BrokenVariantsTest in `verify`; never part of the build's jcstress run.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.broken\.BrokenPasidSpaceTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIIII_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdsExhaustedException;
import org.pasidkit.tables.Device;
import org.pasidkit.tables.PasidHandle;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.PasidEntryView;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.pasidkit.tables.internal.PasidTableDescriptor.FLAG_STANDALONE;
import static org.pasidkit.tables.internal.PasidTableDescriptor.STATE_ACTIVE;
import static org.pasidkit.tables.internal.PasidTableDescriptor.STATE_TEARDOWN;

/**
 * Same outcome tables, actors and result codes as {@code org.pasidkit.stress.PasidSpaceTests}; the space under test
 * is broken.
 */
public final class BrokenPasidSpaceTests
{
    static final long MM = 7;
    static final long OTHER_MM = 8;
    static final int SPIN_LIMIT = 1 << 14;
    static final int RID_1 = 0x10;
    static final int RID_2 = 0x20;
    static final int RID_UNBOUND = 0x30;
    static final Object A = new Object();
    static final Object B = new Object();

    private BrokenPasidSpaceTests()
    {
    }

    static int dataCode(final Object data)
    {
        return null == data ? 0 : A == data ? 1 : B == data ? 2 : 9;
    }

    static int entriesOf(final BrokenPasidSpace space, final long mm, final int state, final PasidEntryView view)
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

    static int refusedWith(final RuntimeException e, final String expected)
    {
        return null != e.getMessage() && e.getMessage().contains(expected) ? 0 : -1;
    }

    /** {@code PasidSpaceTests.SharedBindVsExit} with BIND_EXIT_CHECK_OUTSIDE_LOCK. */
    @JCStressTest
    @Outcome(id = "1, 1, 2, 1, 1, 0", expect = ACCEPTABLE, desc = "bind first: bonded, then torn down and told")
    @Outcome(id = "0, 1, 2, 0, 0, 0", expect = ACCEPTABLE, desc = "exit first: bind refused as bind after exit")
    @Outcome(expect = FORBIDDEN, desc = "inconsistent end state: live PASID of an exited mm, untold bond, lost bind")
    @State
    public static class SharedBindVsExit
    {
        final BrokenPasidSpace space = new BrokenPasidSpace(8, BrokenPasidSpace.Bug.BIND_EXIT_CHECK_OUTSIDE_LOCK);
        final BrokenDevice device1 = space.addDevice(RID_1, 20, true);
        final BrokenDevice device2 = space.addDevice(RID_2, 20, false);
        final int pasid = PasidHandle.pasid(space.bind(MM, device1, A, 0));
        final PasidEntryView view = new PasidEntryView();
        final int[] pasids = new int[8];

        @Actor
        public void bind(final IIIIII_Result r)
        {
            try
            {
                space.bind(MM, device2, B, 0);
                r.r1 = 1;
            }
            catch (final IllegalArgumentException e)
            {
                r.r1 = refusedWith(e, "bind after exit");
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
                space.exit(MM);
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
            r.r4 = space.pollExitEvents(device2, 8);
            r.r5 = device2.bondCount();
            r.r6 = entriesOf(space, MM, STATE_ACTIVE, view) + space.pasidsOf(MM, pasids);
        }
    }

    /** {@code PasidSpaceTests.PrivateBindVsExit} with EXIT_READS_PASIDS_OUTSIDE_LOCK. */
    @JCStressTest
    @Outcome(id = "1, 1, 2, 1, 1, 0", expect = ACCEPTABLE, desc = "bind first: private PASID, then both torn down")
    @Outcome(id = "0, 1, 1, 0, 0, 0", expect = ACCEPTABLE, desc = "exit first: bind refused, no PASID allocated")
    @Outcome(expect = FORBIDDEN, desc = "inconsistent end state: a private PASID alive or untold after the exit")
    @State
    public static class PrivateBindVsExit
    {
        final BrokenPasidSpace space = new BrokenPasidSpace(8, BrokenPasidSpace.Bug.EXIT_READS_PASIDS_OUTSIDE_LOCK);
        final BrokenDevice device1 = space.addDevice(RID_1, 20, true);
        final BrokenDevice device2 = space.addDevice(RID_2, 20, false);
        final PasidEntryView view = new PasidEntryView();
        final int[] pasids = new int[8];

        public PrivateBindVsExit()
        {
            space.bind(MM, device1, A, 0);
        }

        @Actor
        public void bind(final IIIIII_Result r)
        {
            try
            {
                space.bind(MM, device2, B, BrokenPasidSpace.PRIVATE);
                r.r1 = 1;
            }
            catch (final IllegalArgumentException e)
            {
                r.r1 = refusedWith(e, "bind after exit");
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
                space.exit(MM);
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
            r.r4 = space.pollExitEvents(device2, 8);
            r.r5 = device2.bondCount();
            r.r6 = entriesOf(space, MM, STATE_ACTIVE, view) + space.pasidsOf(MM, pasids);
        }
    }

    /** {@code PasidSpaceTests.UnbindVsAllocate} with RELEASE_BEFORE_BOND_REMOVED. */
    @JCStressTest
    @Outcome(id = "1, -2, -1, -1", expect = ACCEPTABLE, desc = "allocate before the release or within the grace period")
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "allocate after the release and the grace: no bond left")
    @Outcome(id = "1, -1, -1, -1", expect = FORBIDDEN,
        desc = "EXHAUSTED while the PASID was held or in its grace period (should be ALL_IN_GRACE)")
    @Outcome(expect = FORBIDDEN, desc = "PASID handed out while its bond still exists, or a failed unbind")
    @State
    public static class UnbindVsAllocate
    {
        final BrokenPasidSpace space = new BrokenPasidSpace(1, BrokenPasidSpace.Bug.RELEASE_BEFORE_BOND_REMOVED);
        final BrokenDevice device = space.addDevice(RID_1, 20, false);
        final long handle = space.bind(MM, device, A, 0);
        final int[] rids = new int[4];

        public UnbindVsAllocate()
        {
            space.exit(MM);
        }

        @Actor
        public void driver(final IIII_Result r)
        {
            try
            {
                space.unbind(handle, device);
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

    /** {@code PasidSpaceTests.ExitVsReportFault} with FAULT_WITHOUT_VALIDATION. */
    @JCStressTest
    @Outcome(id = "11, 4, 11, 1", expect = ACCEPTABLE, desc = "all three faults before the exit")
    @Outcome(id = "11, 4, 20, 1", expect = ACCEPTABLE, desc = "exit between the second and third fault")
    @Outcome(id = "11, 2, 20, 1", expect = ACCEPTABLE, desc = "exit between the first and second fault")
    @Outcome(id = "20, 2, 20, 1", expect = ACCEPTABLE, desc = "all three faults after the exit")
    @Outcome(expect = FORBIDDEN, desc = "wrong or missing data, UNKNOWN while bound, attributed after suppressed")
    @State
    public static class ExitVsReportFault
    {
        final BrokenPasidSpace space = new BrokenPasidSpace(8, BrokenPasidSpace.Bug.FAULT_WITHOUT_VALIDATION);
        final BrokenDevice device1 = space.addDevice(RID_1, 20, true);
        final BrokenDevice device2 = space.addDevice(RID_2, 20, true);
        final BrokenDevice unbound = space.addDevice(RID_UNBOUND, 20, true);
        final int pasid = PasidHandle.pasid(space.bind(MM, device1, A, 0));
        final BrokenPasidSpace.Fault fault = new BrokenPasidSpace.Fault();

        public ExitVsReportFault()
        {
            space.bind(MM, device2, B, 0);
        }

        @Actor
        public void exit()
        {
            space.exit(MM);
        }

        @Actor
        public void device(final IIII_Result r)
        {
            r.r1 = attributed(space.reportFault(RID_1, pasid, fault));
            r.r2 = space.reportFault(RID_UNBOUND, pasid, fault).kind;
            r.r3 = attributed(space.reportFault(RID_1, pasid, fault));
            r.r4 = dataCode(space.driverData(pasid, RID_1));
        }

        private int attributed(final BrokenPasidSpace.Fault f)
        {
            if (BrokenPasidSpace.ATTRIBUTED == f.kind && (MM != f.owner || MM != f.addressSpace || 1 != f.generation))
            {
                return 90;
            }
            return f.kind * 10 + dataCode(f.driverData);
        }
    }

    /** {@code PasidSpaceTests.ReuseVsPinnedReportFault} with ALLOCATOR_ONE_EPOCH_GRACE. */
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
        final BrokenPasidSpace space = new BrokenPasidSpace(1, BrokenPasidSpace.Bug.ALLOCATOR_ONE_EPOCH_GRACE);
        final BrokenDevice device = space.addDevice(RID_1, 20, true);
        final long handle = space.bind(MM, device, A, 0);
        final EpochDomain.Reader reader = space.epochDomain().register();
        final BrokenPasidSpace.Fault fault = new BrokenPasidSpace.Fault();
        volatile int controlDone;

        @Actor
        public void control(final IIII_Result r)
        {
            space.exit(MM);
            space.unbind(handle, device);
            try
            {
                r.r1 = PasidHandle.generation(space.bind(OTHER_MM, device, B, 0));
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
            r.r2 = lifeCode(space.reportFault(RID_1, pasid, fault));
            for (int i = 0; i < SPIN_LIMIT && 0 == controlDone; i++)
            {
                Thread.onSpinWait();
            }
            r.r4 = controlDone;
            r.r3 = lifeCode(space.reportFault(RID_1, pasid, fault));
            reader.exit();
        }
    }

    static int lifeCode(final BrokenPasidSpace.Fault f)
    {
        final int code = f.kind * 100 + f.generation * 10 + dataCode(f.driverData);
        if (BrokenPasidSpace.ATTRIBUTED == f.kind &&
            !(111 == code && MM == f.owner) && !(122 == code && OTHER_MM == f.owner))
        {
            return 999;
        }
        return code;
    }

    /**
     * {@code PasidSpaceTests.StaleHandleVsReuse} on the production {@link PasidSpace}, with the reader's
     * {@code driverDataOf} replaced by {@link #driverDataOfWithoutGenerationCheck}: production's {@code driverDataOf}
     * minus its one check, the handle's generation (and ACTIVE/TEARDOWN) against the state word read after the cell.
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
        final PasidSpace space = PasidSpace.builder().maxPasid(1).maxBonds(8).build();
        final Device device = space.addDevice(RID_1, 20, true, (event) -> {});
        final org.pasidkit.tables.AddressSpace mm = space.openAddressSpace(MM);
        final org.pasidkit.tables.Bond bond = space.bind(mm, device, A, 0);
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
            r.r2 = dataCode(driverDataOfWithoutGenerationCheck(space, handle, RID_1));
            r.r3 = dataCode(space.driverData(PasidHandle.pasid(handle), RID_1));
        }
    }

    /**
     * BROKEN: {@code PasidSpace.driverDataOf} without the generation check. What is left of it (the device's
     * directory, the leaf and the cell, acquire loads, then unwrap) is exactly what {@code driverData} does, so the
     * copy calls it; production then reads the state word and returns the data only if the handle's generation is
     * the current one.
     */
    static Object driverDataOfWithoutGenerationCheck(final PasidSpace space, final long handle, final int requesterId)
    {
        return space.driverData(PasidHandle.pasid(handle), requesterId);
    }

    /** {@code PasidSpaceTests.NullDrvdataExitVsReportFault} with FAULT_NULL_DATA_AS_NOT_BOUND. */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both faults before the exit: attributed")
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "exit between the faults")
    @Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "both faults after the exit: suppressed")
    @Outcome(expect = FORBIDDEN, desc = "NOT_BOUND or UNKNOWN for a bound device, or attributed after suppressed")
    @State
    public static class NullDrvdataExitVsReportFault
    {
        final BrokenPasidSpace space = new BrokenPasidSpace(8, BrokenPasidSpace.Bug.FAULT_NULL_DATA_AS_NOT_BOUND);
        final BrokenDevice device = space.addDevice(RID_1, 20, true);
        final int pasid = PasidHandle.pasid(space.bind(MM, device, null, 0));
        final BrokenPasidSpace.Fault fault = new BrokenPasidSpace.Fault();

        @Actor
        public void exit()
        {
            space.exit(MM);
        }

        @Actor
        public void device(final II_Result r)
        {
            r.r1 = space.reportFault(RID_1, pasid, fault).kind;
            r.r2 = space.reportFault(RID_1, pasid, fault).kind;
        }
    }
}
