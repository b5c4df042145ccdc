/*
 * The BondTableTests race run against a broken copy of BondTable: each test here MUST fail (FORBIDDEN outcomes).
 * Checked by org.pasidkit.stress.BrokenVariantsTest in `verify`; never part of the build's jcstress run.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.broken\.BrokenBondTableTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.tables.internal.BondDescriptor;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** Same outcome table as {@code org.pasidkit.stress.BondTableTests.SlotReuseVsDriverData}. */
public final class BrokenBondTableTests
{
    static final Object OLD_DATA = new Object();
    static final Object NEW_DATA = new Object();
    static final long OLD_KEY = BondDescriptor.key(5, 0x10);
    static final long NEW_KEY = BondDescriptor.key(6, 0x20);

    private BrokenBondTableTests()
    {
    }

    static int dataCode(final Object data)
    {
        return null == data ? 0 : OLD_DATA == data ? 1 : NEW_DATA == data ? 2 : 9;
    }

    /** Slot reuse against a lookup that does not compare the key. */
    @JCStressTest
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both lookups before the remove")
    @Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "old lookup before the remove, new one after the add")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "both lookups between the remove and the add (or in flight)")
    @Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "old lookup after the remove, new one after the add")
    @Outcome(expect = FORBIDDEN, desc = "a lookup returned the other bond's data, or the slot was not reused")
    @State
    public static class NoKeyCheckSlotReuseVsDriverData
    {
        final BrokenBondTable bonds = new BrokenBondTable(2);
        final int slot = bonds.add(5, 0x10, OLD_DATA, 0, 0);

        @Actor
        public void writer(final III_Result r)
        {
            bonds.remove(slot);
            r.r1 = bonds.add(6, 0x20, NEW_DATA, 0, 0);
        }

        @Actor
        public void reader(final III_Result r)
        {
            r.r2 = dataCode(bonds.driverDataNoKeyCheck(slot, OLD_KEY));
            r.r3 = dataCode(bonds.driverDataNoKeyCheck(slot, NEW_KEY));
        }
    }

    /** Slot reuse against a lookup that compares the key but has no sequence word. */
    @JCStressTest
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both lookups before the remove")
    @Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "old lookup before the remove, new one after the add")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "both lookups between the remove and the add (or in flight)")
    @Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "old lookup after the remove, new one after the add")
    @Outcome(expect = FORBIDDEN, desc = "a lookup returned the other bond's data, or the slot was not reused")
    @State
    public static class NoSeqSlotReuseVsDriverData
    {
        final BrokenBondTable bonds = new BrokenBondTable(2);
        final int slot = bonds.add(5, 0x10, OLD_DATA, 0, 0);

        @Actor
        public void writer(final III_Result r)
        {
            bonds.remove(slot);
            r.r1 = bonds.add(6, 0x20, NEW_DATA, 0, 0);
        }

        @Actor
        public void reader(final III_Result r)
        {
            r.r2 = dataCode(bonds.driverDataNoSeq(slot, OLD_KEY));
            r.r3 = dataCode(bonds.driverDataNoSeq(slot, NEW_KEY));
        }
    }
}
