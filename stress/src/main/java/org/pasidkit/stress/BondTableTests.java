/*
 * jcstress tests of the bond table (org.pasidkit.tables.internal.BondTable): slot reuse by the single writer against
 * the lock-free driverData lookup.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.BondTableTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * The broken twins (org.pasidkit.stress.broken.BrokenBondTable*Tests) run the same race against copies of BondTable
 * whose reader skips the key or the sequence check; BrokenVariantsTest checks that they do fail.
 */
package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.tables.internal.BondDescriptor;
import org.pasidkit.tables.internal.BondTable;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Races of {@link BondTable}. Data objects print as 0 (null), 1 (the old bond's data), 2 (the new bond's data).
 */
public final class BondTableTests
{
    static final Object OLD_DATA = new Object();
    static final Object NEW_DATA = new Object();
    static final long OLD_KEY = BondDescriptor.key(5, 0x10);
    static final long NEW_KEY = BondDescriptor.key(6, 0x20);

    private BondTableTests()
    {
    }

    static int dataCode(final Object data)
    {
        return null == data ? 0 : OLD_DATA == data ? 1 : NEW_DATA == data ? 2 : 9;
    }

    /**
     * The writer unbinds (PASID 5, device 0x10) and at once reuses its slot, the only one of the table, for
     * (PASID 6, device 0x20) with other data; the reader asks the slot for the old bond's data, then the new one's.
     * A lookup by a key returns that key's data or null, never the other bond's data.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both lookups before the remove")
    @Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "old lookup before the remove, new one after the add")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "both lookups between the remove and the add (or in flight)")
    @Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "old lookup after the remove, new one after the add")
    @Outcome(expect = FORBIDDEN, desc = "a lookup returned the other bond's data, or the slot was not reused")
    @State
    public static class SlotReuseVsDriverData
    {
        final BondTable bonds = new BondTable(2);
        /**
         * jcstress sizes its batches of states by their heap footprint; the table's 128 KiB native chunk is invisible
         * to it and ran the fork out of direct memory. This on-heap twin makes the footprint count.
         */
        final byte[] nativeFootprint = new byte[4096 * BondDescriptor.RECORD_LENGTH];
        final int slot;

        public SlotReuseVsDriverData()
        {
            slot = bonds.add(5, 0x10, OLD_DATA, 0, 0);
        }

        @Actor
        public void writer(final III_Result r)
        {
            bonds.remove(slot);
            r.r1 = bonds.add(6, 0x20, NEW_DATA, 0, 0);
        }

        @Actor
        public void reader(final III_Result r)
        {
            r.r2 = dataCode(bonds.driverData(slot, OLD_KEY));
            r.r3 = dataCode(bonds.driverData(slot, NEW_KEY));
        }
    }
}
