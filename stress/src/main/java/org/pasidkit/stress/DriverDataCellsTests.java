/*
 * jcstress tests of a device's driver-data index (org.pasidkit.tables.internal.DriverDataCells): the single writer's
 * bind and unbind of one PASID against the wait-free lookup of another PASID of the same leaf.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.DriverDataCellsTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * The order in which PasidSpace publishes a cell and the PASID entry's bond list is tested on PasidSpace itself
 * (PasidSpaceTests.BindVsBondsOfThenDriverData, UnbindVsBondsOfThenDriverData).
 *
 * What these tests cannot show: the safe publication of a data object (release store of the cell, acquire load). Earlier
 * tests of exactly that (the first bond of a leaf; a rebind) never failed, in about 1.2 million samples, even with every
 * access made plain: on x86 (TSO) the hardware keeps stores and loads in order and C2 did not reorder them. They were
 * replaced by these, whose mutants (stress/mutants.txt: DriverDataCells.*) fail on this machine; payloadCode still
 * reports a half-built object (0) as FORBIDDEN, for a weakly ordered CPU.
 */
package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.tables.internal.DriverDataCells;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** Races of {@link DriverDataCells}. */
public final class DriverDataCellsTests
{
    static final int PASID = 700;
    /** Another PASID of the same 256-PASID leaf. */
    static final int NEIGHBOUR = 701;

    private DriverDataCellsTests()
    {
    }

    /** A driver's data object with plain fields, written by its constructor. */
    public static final class Payload
    {
        int value;
        int check;

        public Payload(final int value)
        {
            this.value = value;
            this.check = ~value;
        }
    }

    /** -1 for no data; the payload's value if its fields are consistent; 0 if it was seen half-built. */
    static int payloadCode(final Object cell)
    {
        if (null == cell)
        {
            return -1;
        }
        final Payload payload = (Payload)DriverDataCells.unwrap(cell);
        return payload.value == ~payload.check ? payload.value : 0;
    }

    /**
     * PASID 700 is bound (data 1); the writer binds its neighbour 701 (data 2) in the same leaf while the reader looks
     * up 700, then 701, then 700 again. The bond of 700 is never lost, and 701 is absent or whole.
     */
    @JCStressTest
    @Outcome(id = "1, -1, 1", expect = ACCEPTABLE, desc = "701 looked up before its bind")
    @Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "701 looked up after its bind")
    @Outcome(id = {"-1, .*", ".*, .*, -1"}, expect = FORBIDDEN, desc = "the neighbour's bind lost the bond of 700")
    @Outcome(id = {"0, .*", ".*, 0, .*", ".*, .*, 0"}, expect = FORBIDDEN, desc = "a half-built data object")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class NeighbourBindVsCell
    {
        final Object[][] directory = DriverDataCells.newDirectory(1023);

        public NeighbourBindVsCell()
        {
            DriverDataCells.publish(directory, PASID, new Payload(1));
        }

        @Actor
        public void writer()
        {
            DriverDataCells.publish(directory, NEIGHBOUR, new Payload(2));
        }

        @Actor
        public void reader(final III_Result r)
        {
            r.r1 = payloadCode(DriverDataCells.cell(directory, PASID));
            r.r2 = payloadCode(DriverDataCells.cell(directory, NEIGHBOUR));
            r.r3 = payloadCode(DriverDataCells.cell(directory, PASID));
        }
    }

    /**
     * PASIDs 700 (data 1) and 701 (data 2) are bound; the writer unbinds 701 while the reader looks up 700, then 701,
     * then 700 again. The bond of 700 is never lost.
     */
    @JCStressTest
    @Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "701 looked up before its unbind")
    @Outcome(id = "1, -1, 1", expect = ACCEPTABLE, desc = "701 looked up after its unbind")
    @Outcome(id = {"-1, .*", ".*, .*, -1"}, expect = FORBIDDEN, desc = "the neighbour's unbind lost the bond of 700")
    @Outcome(id = {"0, .*", ".*, 0, .*", ".*, .*, 0"}, expect = FORBIDDEN, desc = "a half-built data object")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class NeighbourUnbindVsCell
    {
        final Object[][] directory = DriverDataCells.newDirectory(1023);

        public NeighbourUnbindVsCell()
        {
            DriverDataCells.publish(directory, PASID, new Payload(1));
            DriverDataCells.publish(directory, NEIGHBOUR, new Payload(2));
        }

        @Actor
        public void writer()
        {
            DriverDataCells.clear(directory, NEIGHBOUR);
        }

        @Actor
        public void reader(final III_Result r)
        {
            r.r1 = payloadCode(DriverDataCells.cell(directory, PASID));
            r.r2 = payloadCode(DriverDataCells.cell(directory, NEIGHBOUR));
            r.r3 = payloadCode(DriverDataCells.cell(directory, PASID));
        }
    }
}
