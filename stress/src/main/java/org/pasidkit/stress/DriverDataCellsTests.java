/*
 * jcstress tests of a device's driver-data index (org.pasidkit.tables.internal.DriverDataCells): the single writer's
 * leaf and cell publication against the wait-free lookup.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.DriverDataCellsTests' -m quick \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * The order in which PasidSpace publishes a cell and the PASID entry's bond list is tested on PasidSpace itself
 * (PasidSpaceTests.BindVsBondsOfThenDriverData, UnbindVsBondsOfThenDriverData); its broken twin, with the two
 * stores the other way round, is org.pasidkit.stress.broken.BrokenDriverDataCellsTests.
 */
package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.tables.internal.DriverDataCells;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** Races of {@link DriverDataCells}. */
public final class DriverDataCellsTests
{
    static final int PASID = 700;

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
     * The first bond of a leaf: the writer builds the data object, allocates the leaf, publishes both; the reader
     * looks the PASID up (twice, to widen the window). It sees no bond, or the object with its fields as the
     * constructor wrote them; never a half-built object, never the object and then no bond.
     */
    @JCStressTest
    @Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "both lookups before the publication")
    @Outcome(id = "-1, 42", expect = ACCEPTABLE, desc = "the second lookup after it")
    @Outcome(id = "42, 42", expect = ACCEPTABLE, desc = "both lookups after it")
    @Outcome(expect = FORBIDDEN, desc = "a half-built data object, or the bond seen and then lost")
    @State
    public static class LeafPublicationVsCell
    {
        final Object[][] directory = DriverDataCells.newDirectory(1023);

        @Actor
        public void writer()
        {
            DriverDataCells.publish(directory, PASID, new Payload(42));
        }

        @Actor
        public void reader(final II_Result r)
        {
            r.r1 = payloadCode(DriverDataCells.cell(directory, PASID));
            r.r2 = payloadCode(DriverDataCells.cell(directory, PASID));
        }
    }

    /**
     * Rebind of the same (PASID, device) pair: unbind (data 1) then bind again (data 2) in an existing leaf, while
     * the reader looks it up twice. A lookup sees 1, nothing, or 2, and the second never goes back in time.
     */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both before the unbind")
    @Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "unbind between the lookups")
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "unbind and rebind between the lookups")
    @Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "both between unbind and rebind")
    @Outcome(id = "-1, 2", expect = ACCEPTABLE, desc = "rebind between the lookups")
    @Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "both after the rebind")
    @Outcome(expect = FORBIDDEN, desc = "an older bond seen after a newer state, or a half-built object")
    @State
    public static class RebindVsCell
    {
        final Object[][] directory = DriverDataCells.newDirectory(1023);

        public RebindVsCell()
        {
            DriverDataCells.publish(directory, PASID, new Payload(1));
        }

        @Actor
        public void writer()
        {
            DriverDataCells.clear(directory, PASID);
            DriverDataCells.publish(directory, PASID, new Payload(2));
        }

        @Actor
        public void reader(final II_Result r)
        {
            r.r1 = payloadCode(DriverDataCells.cell(directory, PASID));
            r.r2 = payloadCode(DriverDataCells.cell(directory, PASID));
        }
    }
}
