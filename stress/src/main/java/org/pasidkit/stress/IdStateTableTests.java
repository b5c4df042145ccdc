package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.pasidkit.allocator.internal.IdStateTable;

/*
 * Races on IdStateTable, the arbiter of id ownership: a compareAndSetByte on an id's state byte is won by exactly one
 * thread, and a CAS on a neighbouring byte of the same word neither blocks nor undoes it; two threads making the first
 * writes into one page of the table (committed by the kernel on first write, marked written by the table) both land.
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar -t IdStateTableTests \
 *       -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class IdStateTableTests
{
    private IdStateTableTests()
    {
    }

    @JCStressTest
    @Description("Owner and thief both CAS id 1 CACHED -> IN_USE (StripedIdCache pop vs steal); the thief also moves " +
        "id 2, the adjacent byte of the same word, CACHED -> FREE (a flush). r1, r2: CAS won (1) or lost (0); " +
        "r3, r4: final states of ids 1 and 2 (0 FREE, 1 CACHED, 2 IN_USE).")
    @Outcome(id = "1, 0, 2, 0", expect = Expect.ACCEPTABLE, desc = "owner won id 1; id 2 flushed")
    @Outcome(id = "0, 1, 2, 0", expect = Expect.ACCEPTABLE, desc = "thief won id 1; id 2 flushed")
    @Outcome(id = "1, 1, .*", expect = Expect.FORBIDDEN, desc = "both won id 1: handed out twice")
    @Outcome(id = "0, 0, .*", expect = Expect.FORBIDDEN, desc = "nobody won id 1: a spurious CAS failure")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a neighbouring byte's CAS was lost or overwrote the other")
    @State
    public static class CasSameAndAdjacentByte
    {
        final IdStateTable states = new IdStateTable(1, 2);

        public CasSameAndAdjacentByte()
        {
            states.putRelease(1, IdStateTable.CACHED);
            states.putRelease(2, IdStateTable.CACHED);
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            r.r1 = states.compareAndSet(1, IdStateTable.CACHED, IdStateTable.IN_USE) ? 1 : 0;
        }

        @Actor
        public void thief(final IIII_Result r)
        {
            r.r2 = states.compareAndSet(1, IdStateTable.CACHED, IdStateTable.IN_USE) ? 1 : 0;
            states.compareAndSet(2, IdStateTable.CACHED, IdStateTable.FREE);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = states.get(1);
            r.r4 = states.get(2);
        }
    }

    @JCStressTest
    @Description("Two threads make the first writes into one page of state bytes nobody has written yet (ids 1 and 2 " +
        "of a 8192-id table, mapped: the kernel commits the page on the first write): one stores IN_USE by " +
        "putRelease (an id just claimed from the bitmap), the other CASes FREE -> CACHED (a refill); each marks the " +
        "page written first. r1: the CAS won (1); r2, r3: final states of ids 1 and 2 (0 FREE, 1 CACHED, 2 IN_USE); " +
        "r4: pages marked written.")
    @Outcome(id = "1, 2, 1, 1", expect = Expect.ACCEPTABLE, desc = "both writes landed; the page is marked once")
    @Outcome(id = "1, 0, 1, .*", expect = Expect.FORBIDDEN, desc = "the putRelease was lost")
    @Outcome(id = "1, 2, 0, .*", expect = Expect.FORBIDDEN, desc = "the CAS won but its CACHED was lost")
    @Outcome(id = "1, 2, 1, 0", expect = Expect.FORBIDDEN,
        desc = "states written in a page not marked: a count would skip them")
    @Outcome(expect = Expect.FORBIDDEN, desc = "a CAS from FREE failed on a fresh page, or another state appeared")
    @State
    public static class FirstWritesOnOnePage
    {
        final IdStateTable states = new IdStateTable(1, 8192);

        @Actor
        public void claimer(final IIII_Result r)
        {
            states.putRelease(1, IdStateTable.IN_USE);
        }

        @Actor
        public void refill(final IIII_Result r)
        {
            r.r1 = states.compareAndSet(2, IdStateTable.FREE, IdStateTable.CACHED) ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r2 = states.get(1);
            r.r3 = states.get(2);
            r.r4 = states.pagesWritten();
        }
    }
}
