/*
 * Driver-data publication races run against broken code: each test here MUST fail (FORBIDDEN outcomes).
 * Checked by org.pasidkit.stress.BrokenVariantsTest in `verify`; never part of the build's jcstress run.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.broken\.BrokenDriverDataCellsTests' -m quick \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.tables.internal.DriverDataCells;
import org.pasidkit.tables.PasidEntryView;
import org.pasidkit.tables.internal.PasidTable;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.pasidkit.tables.internal.PasidTableDescriptor.FLAG_FAULTS_ON;

/**
 * Twins of {@code org.pasidkit.stress.PasidSpaceTests.BindVsBondsOfThenDriverData} and
 * {@code UnbindVsBondsOfThenDriverData} (same outcome tables).
 * <p>
 * Twins of {@code DriverDataCellsTests.LeafPublicationVsCell} and {@code RebindVsCell} with plain stores and loads
 * (the only steps those two tests protect) were tried and never failed on this x86 machine (TSO keeps stores in order
 * and loads in order; C2 did not reorder them either): 0 FORBIDDEN in 940,564 and 284,084 samples over two quick runs.
 * They are not kept: they would prove nothing (stress/BROKEN-VARIANTS.md).
 */
public final class BrokenDriverDataCellsTests
{
    static final int PASID = 5;
    static final int FIRST_SLOT = 1;
    static final int SECOND_SLOT = 2;
    static final Object B = new Object();

    private BrokenDriverDataCellsTests()
    {
    }

    /**
     * The bind of a second device's two publications as PasidSpace's bind makes them, on the same internal tables,
     * but with the PASID entry's bond list published before the device's driver-data cell. A reader that reads the
     * entry (as bondsOf) and then the cell (as driverData) finds the bond listed and its data missing.
     * <p>
     * Result: bonds listed, device 2's data (0 none, 2 B).
     */
    @JCStressTest
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "both reads before the bind")
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "list read before the bind, data after its cell")
    @Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "both reads after the bind")
    @Outcome(id = "2, 0", expect = FORBIDDEN, desc = "the bond is listed but its data is not published yet")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class EntryFirstBindVsBondsOfThenDriverData
    {
        final PasidTable table = new PasidTable(8);
        final Object[][] cells2 = DriverDataCells.newDirectory(8);
        final PasidEntryView view = new PasidEntryView();

        public EntryFirstBindVsBondsOfThenDriverData()
        {
            table.activate(PASID, 7, 7, FLAG_FAULTS_ON);
            table.bonds(PASID, 1, FIRST_SLOT);
        }

        @Actor
        public void bind()
        {
            // BROKEN: the entry's bond list first, the cell after (PasidSpace.addBond does the opposite).
            table.bonds(PASID, 2, SECOND_SLOT);
            DriverDataCells.publish(cells2, PASID, B);
        }

        @Actor
        public void reader(final II_Result r)
        {
            // NOTE: bondsOf reads the same entry the same way (seq-validated); the count stands for the walked list.
            table.snapshot(PASID, view);
            r.r1 = view.bondCount();
            final Object data = DriverDataCells.unwrap(DriverDataCells.cell(cells2, PASID));
            r.r2 = null == data ? 0 : B == data ? 2 : 9;
        }
    }

    /**
     * The unbind of the second device's bond as PasidSpace's unbind (removeBond) makes its two writes, on the same
     * internal tables, but with the PASID entry's bond list changed before the device's driver-data cell is
     * cleared. A reader that reads the entry (as bondsOf) and then the cell (as driverData) no longer finds the bond
     * listed and still finds its data.
     * <p>
     * Result: unbind (1 done; the copy cannot fail), bonds listed, device 2's data (0 none, 2 B).
     */
    @JCStressTest
    @Outcome(id = "1, 2, 2", expect = ACCEPTABLE, desc = "both reads before the unbind")
    @Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "list read before the unbind, data after its cell cleared")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both reads after the unbind")
    @Outcome(id = "1, 1, 2", expect = FORBIDDEN, desc = "the bond is gone from the list but its data is still there")
    @Outcome(expect = FORBIDDEN, desc = "wrong data, a wrong bond count, or a failed unbind")
    @State
    public static class ListFirstUnbindVsBondsOfThenDriverData
    {
        final PasidTable table = new PasidTable(8);
        final Object[][] cells2 = DriverDataCells.newDirectory(8);
        final PasidEntryView view = new PasidEntryView();

        public ListFirstUnbindVsBondsOfThenDriverData()
        {
            table.activate(PASID, 7, 7, FLAG_FAULTS_ON);
            table.bonds(PASID, 1, FIRST_SLOT);
            DriverDataCells.publish(cells2, PASID, B);
            table.bonds(PASID, 2, SECOND_SLOT);
        }

        @Actor
        public void unbind(final III_Result r)
        {
            // BROKEN: the entry's bond list first, the cell after (PasidSpace.removeBond clears the cell first).
            table.bonds(PASID, 1, FIRST_SLOT);
            DriverDataCells.clear(cells2, PASID);
            r.r1 = 1;
        }

        @Actor
        public void reader(final III_Result r)
        {
            // NOTE: bondsOf reads the same entry the same way (seq-validated); the count stands for the walked list.
            table.snapshot(PASID, view);
            r.r2 = view.bondCount();
            final Object data = DriverDataCells.unwrap(DriverDataCells.cell(cells2, PASID));
            r.r3 = null == data ? 0 : B == data ? 2 : 9;
        }
    }
}
