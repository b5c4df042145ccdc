/*
 * jcstress tests of the copy-on-write requester-id lists (org.pasidkit.tables.internal.RequesterIdLists): the single
 * writer (bind/unbind under PasidSpace's control lock) publishing a new list against the lock-free reader (bondsOf
 * and the ATC invalidation fan-out).
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.RequesterIdListsTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * Their mutants (stress/mutants.txt: RequesterIdLists.*) publish the new list before filling it; BrokenVariantsTest
 * checks that each test shows its FORBIDDEN outcome.
 */
package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.pasidkit.tables.internal.RequesterIdLists;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Races of {@link RequesterIdLists}. The reader waits (bounded) until the PASID's list is no longer the one it
 * started with and reads it at once (message passing: it looks at the list right after the new one became visible,
 * where a list published before it was filled still holds zeros), then reports it as (length, first, second, third);
 * -1 for an element past its end. PASID 5 starts bound to devices 256 and 257 (list {@code 257, 256}).
 */
public final class RequesterIdListsTests
{
    static final int PASID = 5;
    static final int RID_A = 256;
    static final int RID_B = 257;
    static final int RID_C = 258;

    private RequesterIdListsTests()
    {
    }

    /** Longest bounded wait of the reader for the writer's list, in onSpinWait calls (tens of microseconds). */
    static final int SPIN_LIMIT = 1 << 12;

    static void read(final RequesterIdLists lists, final int[] before, final IIII_Result r)
    {
        int[] list = lists.of(PASID);
        for (int i = 0; i < SPIN_LIMIT && before == list; i++)
        {
            Thread.onSpinWait();
            list = lists.of(PASID);
        }
        r.r1 = list.length;
        r.r2 = list.length > 0 ? list[0] : -1;
        r.r3 = list.length > 1 ? list[1] : -1;
        r.r4 = list.length > 2 ? list[2] : -1;
    }

    /** A bind adds device 258 (first) while a reader takes the list: old or new, whole. */
    @JCStressTest
    @Outcome(id = "2, 257, 256, -1", expect = ACCEPTABLE, desc = "wait expired: the list before the add")
    @Outcome(id = "3, 258, 257, 256", expect = ACCEPTABLE, desc = "the list after the add")
    @Outcome(id = {"3, 0, .*", "3, .*, 0, .*", "3, .*, .*, 0"}, expect = FORBIDDEN,
        desc = "the new list seen before it was filled (an element still 0)")
    @Outcome(expect = FORBIDDEN, desc = "a half-filled list (an element still 0) or a mix of the two lists")
    @State
    public static class AddVsOf
    {
        final RequesterIdLists lists = new RequesterIdLists(63);
        final int[] before;

        public AddVsOf()
        {
            lists.add(PASID, RID_A);
            lists.add(PASID, RID_B);
            before = lists.of(PASID);
        }

        @Actor
        public void writer()
        {
            lists.add(PASID, RID_C);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            read(lists, before, r);
        }
    }

    /** An unbind removes device 257 (the first) while a reader takes the list: old or new, whole. */
    @JCStressTest
    @Outcome(id = "2, 257, 256, -1", expect = ACCEPTABLE, desc = "wait expired: the list before the remove")
    @Outcome(id = "1, 256, -1, -1", expect = ACCEPTABLE, desc = "the list after the remove")
    @Outcome(id = "1, 0, -1, -1", expect = FORBIDDEN, desc = "the new list seen before it was filled (still 0)")
    @Outcome(expect = FORBIDDEN, desc = "a half-filled list (an element still 0) or a mix of the two lists")
    @State
    public static class RemoveVsOf
    {
        final RequesterIdLists lists = new RequesterIdLists(63);
        final int[] before;

        public RemoveVsOf()
        {
            lists.add(PASID, RID_A);
            lists.add(PASID, RID_B);
            before = lists.of(PASID);
        }

        @Actor
        public void writer()
        {
            lists.remove(PASID, RID_B);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            read(lists, before, r);
        }
    }
}
