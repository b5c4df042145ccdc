/*
 * The RequesterIdListsTests races run against a broken copy of RequesterIdLists: each test here MUST fail (FORBIDDEN
 * outcomes). Checked by org.pasidkit.stress.BrokenVariantsTest in `verify`; never part of the build's jcstress run.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.broken\.BrokenRequesterIdListsTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** Same outcome tables as {@code org.pasidkit.stress.RequesterIdListsTests}. */
public final class BrokenRequesterIdListsTests
{
    static final int PASID = 5;
    static final int RID_A = 256;
    static final int RID_B = 257;
    static final int RID_C = 258;

    private BrokenRequesterIdListsTests()
    {
    }

    static void read(final BrokenRequesterIdLists lists, final IIII_Result r)
    {
        final int[] list = lists.of(PASID);
        r.r1 = list.length;
        r.r2 = list.length > 0 ? list[0] : -1;
        r.r3 = list.length > 1 ? list[1] : -1;
        r.r4 = list.length > 2 ? list[2] : -1;
    }

    /** Add against a reader, the new list published before it is filled. */
    @JCStressTest
    @Outcome(id = "2, 257, 256, -1", expect = ACCEPTABLE, desc = "the list before the add")
    @Outcome(id = "3, 258, 257, 256", expect = ACCEPTABLE, desc = "the list after the add")
    @Outcome(expect = FORBIDDEN, desc = "a half-filled list (an element still 0) or a mix of the two lists")
    @State
    public static class PublishFirstAddVsOf
    {
        final BrokenRequesterIdLists lists = new BrokenRequesterIdLists();

        public PublishFirstAddVsOf()
        {
            lists.add(PASID, RID_A);
            lists.add(PASID, RID_B);
        }

        @Actor
        public void writer()
        {
            lists.add(PASID, RID_C);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            read(lists, r);
        }
    }

    /** Remove against a reader, the new list published before it is filled. */
    @JCStressTest
    @Outcome(id = "2, 257, 256, -1", expect = ACCEPTABLE, desc = "the list before the remove")
    @Outcome(id = "1, 256, -1, -1", expect = ACCEPTABLE, desc = "the list after the remove")
    @Outcome(expect = FORBIDDEN, desc = "a half-filled list (an element still 0) or a mix of the two lists")
    @State
    public static class PublishFirstRemoveVsOf
    {
        final BrokenRequesterIdLists lists = new BrokenRequesterIdLists();

        public PublishFirstRemoveVsOf()
        {
            lists.add(PASID, RID_A);
            lists.add(PASID, RID_B);
        }

        @Actor
        public void writer()
        {
            lists.remove(PASID, RID_B);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            read(lists, r);
        }
    }
}
