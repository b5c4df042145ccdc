/*
 * jcstress tests of the off-heap PASID table (org.pasidkit.tables.internal.PasidTable): the single writer's entry
 * publication against lock-free readers.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.PasidTableTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * The broken twins of these tests (org.pasidkit.stress.broken.BrokenPasidTable*Tests) run the same races against
 * copies of PasidTable with one ordering removed; BrokenVariantsTest checks that they do fail.
 */
package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.tables.PasidEntryView;
import org.pasidkit.tables.internal.PasidTable;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.pasidkit.tables.internal.PasidTableDescriptor.DUMMY_ROOT;
import static org.pasidkit.tables.internal.PasidTableDescriptor.FLAG_FAULTS_ON;
import static org.pasidkit.tables.internal.PasidTableDescriptor.flags;
import static org.pasidkit.tables.internal.PasidTableDescriptor.generation;
import static org.pasidkit.tables.internal.PasidTableDescriptor.state;

/**
 * Races of {@link PasidTable}: one writer (as under {@code PasidSpace}'s control lock) rewrites PASID {@link #PASID}
 * while a reader looks at it without a lock. Results print states as numbers: 0 INVALID, 1 ACTIVE, 2 TEARDOWN,
 * 3 RETIRED; a root of -1 is the dummy invalid root.
 */
public final class PasidTableTests
{
    static final int PASID = 5;
    static final long OLD_OWNER = 100;
    static final long NEW_OWNER = 200;

    private PasidTableTests()
    {
    }

    static int rootCode(final long root)
    {
        return DUMMY_ROOT == root ? -1 : (int)root;
    }

    /**
     * The seqlock: a RETIRED entry (generation 1, owner 100) is activated for its next life (generation 2, owner
     * 200, root 200) while a reader takes a {@link PasidTable#snapshot}. The snapshot is all old or all new.
     */
    @JCStressTest
    @Outcome(id = "3, 1, 100, -1", expect = ACCEPTABLE, desc = "snapshot before the activation: the RETIRED first life")
    @Outcome(id = "1, 2, 200, 200", expect = ACCEPTABLE, desc = "snapshot after the activation: the ACTIVE second life")
    @Outcome(expect = FORBIDDEN, desc = "torn snapshot: fields of two lives (or a state word without its body)")
    @State
    public static class ActivateVsSnapshot
    {
        final PasidTable table = new PasidTable(63);
        final PasidEntryView view = new PasidEntryView();

        public ActivateVsSnapshot()
        {
            table.activate(PASID, OLD_OWNER, OLD_OWNER, FLAG_FAULTS_ON);
            table.retire(PASID, 0);
        }

        @Actor
        public void writer()
        {
            table.activate(PASID, NEW_OWNER, NEW_OWNER, FLAG_FAULTS_ON);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            table.snapshot(PASID, view);
            r.r1 = view.state();
            r.r2 = view.generation();
            r.r3 = (int)view.owner();
            r.r4 = rootCode(view.root());
        }
    }

    /**
     * The state word is published last: a reader that loads {@link PasidTable#stateWord} (acquire) and then the
     * body without a sequence check, as hardware walking the table does, never sees the new life's ACTIVE state with
     * the old life's owner or root. While the state word is still the old one the body may already be partly new:
     * such a reader must not trust the body of an entry that is not ACTIVE.
     */
    @JCStressTest
    @Outcome(id = "3, 1, 100, -1", expect = ACCEPTABLE, desc = "old state word, old body")
    @Outcome(id = "3, 1, 200, -1", expect = ACCEPTABLE, desc = "old (RETIRED) state word, owner already rewritten")
    @Outcome(id = "3, 1, 100, 200", expect = ACCEPTABLE, desc = "old (RETIRED) state word, root already rewritten")
    @Outcome(id = "3, 1, 200, 200", expect = ACCEPTABLE, desc = "old (RETIRED) state word, body already rewritten")
    @Outcome(id = "1, 2, 200, 200", expect = ACCEPTABLE, desc = "new ACTIVE state word with its whole body")
    @Outcome(expect = FORBIDDEN,
        desc = "ACTIVE (generation 2) with the old owner or root: a half-written entry looked valid")
    @State
    public static class ActivateVsStateWord
    {
        final PasidTable table = new PasidTable(63);

        public ActivateVsStateWord()
        {
            table.activate(PASID, OLD_OWNER, OLD_OWNER, FLAG_FAULTS_ON);
            table.retire(PASID, 0);
        }

        @Actor
        public void writer()
        {
            table.activate(PASID, NEW_OWNER, NEW_OWNER, FLAG_FAULTS_ON);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            final long stateWord = table.stateWord(PASID);
            r.r1 = state(stateWord);
            r.r2 = generation(stateWord);
            r.r3 = (int)table.owner(PASID);
            r.r4 = rootCode(table.root(PASID));
        }
    }

    /**
     * TEARDOWN: an ACTIVE entry (root 100, faults on) is torn down (dummy root, faults off) while a reader loads the
     * state word (acquire) and then the root. A reader that sees TEARDOWN sees the dummy root.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 100", expect = ACCEPTABLE, desc = "before the teardown: ACTIVE, faults on, live root")
    @Outcome(id = "1, 1, -1", expect = ACCEPTABLE, desc = "old ACTIVE state word, root already the dummy (safe side)")
    @Outcome(id = "2, 0, -1", expect = ACCEPTABLE, desc = "after the teardown: TEARDOWN, faults off, dummy root")
    @Outcome(expect = FORBIDDEN, desc = "TEARDOWN with the live root, or with faults on: half-written teardown")
    @State
    public static class TeardownVsStateWord
    {
        final PasidTable table = new PasidTable(63);

        public TeardownVsStateWord()
        {
            table.activate(PASID, OLD_OWNER, OLD_OWNER, FLAG_FAULTS_ON);
        }

        @Actor
        public void writer()
        {
            table.teardown(PASID);
        }

        @Actor
        public void reader(final III_Result r)
        {
            final long stateWord = table.stateWord(PASID);
            r.r1 = state(stateWord);
            r.r2 = flags(stateWord) & FLAG_FAULTS_ON;
            r.r3 = rootCode(table.root(PASID));
        }
    }
}
