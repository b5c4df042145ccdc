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
 * Their mutants (stress/mutants.txt: PasidTable.*) run these tests against PasidTable with one step removed;
 * BrokenVariantsTest checks that each shows its FORBIDDEN outcome.
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
    /** Longest bounded wait of a reader for the writer's state word, in onSpinWait calls (tens of microseconds). */
    static final int SPIN_LIMIT = 1 << 12;

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
    @Outcome(id = {"3, 1, 200, .*", "3, 1, 100, 200"}, expect = FORBIDDEN,
        desc = "torn snapshot: the RETIRED first life's state word with fields of the second life")
    @Outcome(id = {"1, 2, 100, .*", "1, 2, 200, -1"}, expect = FORBIDDEN,
        desc = "torn snapshot: the ACTIVE second life's state word with fields of the first life")
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
     * the old life's owner or root. The reader waits (bounded) for the new state word and reads the body at once:
     * it looks at the entry right after the state word became visible, where a state word stored before its body
     * shows the old body (message passing). If the wait expires it reports the old state word, whose body may
     * already be partly new: such a reader must not trust the body of an entry that is not ACTIVE.
     */
    @JCStressTest
    @Outcome(id = "3, 1, 100, -1", expect = ACCEPTABLE, desc = "wait expired: old state word, old body")
    @Outcome(id = {"3, 1, 200, -1", "3, 1, 100, 200", "3, 1, 200, 200"}, expect = ACCEPTABLE,
        desc = "wait expired: old (RETIRED) state word, body partly or wholly rewritten")
    @Outcome(id = "1, 2, 200, 200", expect = ACCEPTABLE, desc = "new ACTIVE state word with its whole body")
    @Outcome(id = {"1, 2, 100, .*", "1, 2, .*, -1"}, expect = FORBIDDEN,
        desc = "ACTIVE (generation 2) with the old owner or root: a half-written entry looked valid")
    @Outcome(expect = FORBIDDEN, desc = "another state word or body")
    @State
    public static class ActivateVsStateWord
    {
        final PasidTable table = new PasidTable(63);
        final long oldStateWord;

        public ActivateVsStateWord()
        {
            table.activate(PASID, OLD_OWNER, OLD_OWNER, FLAG_FAULTS_ON);
            table.retire(PASID, 0);
            oldStateWord = table.stateWord(PASID);
        }

        @Actor
        public void writer()
        {
            table.activate(PASID, NEW_OWNER, NEW_OWNER, FLAG_FAULTS_ON);
        }

        @Actor
        public void reader(final IIII_Result r)
        {
            long stateWord = table.stateWord(PASID);
            for (int i = 0; i < SPIN_LIMIT && oldStateWord == stateWord; i++)
            {
                Thread.onSpinWait();
                stateWord = table.stateWord(PASID);
            }
            r.r1 = state(stateWord);
            r.r2 = generation(stateWord);
            r.r3 = (int)table.owner(PASID);
            r.r4 = rootCode(table.root(PASID));
        }
    }

    /**
     * TEARDOWN: an ACTIVE entry (root 100, faults on) is torn down (dummy root, faults off) while a reader waits
     * (bounded) for the state word to change (acquire) and then loads the root at once. A reader that sees TEARDOWN
     * sees the dummy root.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 100", expect = ACCEPTABLE, desc = "wait expired before the teardown: ACTIVE, faults on, live root")
    @Outcome(id = "1, 1, -1", expect = ACCEPTABLE, desc = "wait expired: old ACTIVE state word, root already the dummy")
    @Outcome(id = "2, 0, -1", expect = ACCEPTABLE, desc = "after the teardown: TEARDOWN, faults off, dummy root")
    @Outcome(id = "2, 0, 100", expect = FORBIDDEN, desc = "TEARDOWN with the live root: a half-written teardown")
    @Outcome(id = "2, 1, .*", expect = FORBIDDEN, desc = "TEARDOWN with faults on")
    @Outcome(expect = FORBIDDEN, desc = "another state word or root")
    @State
    public static class TeardownVsStateWord
    {
        final PasidTable table = new PasidTable(63);
        final long activeStateWord;

        public TeardownVsStateWord()
        {
            table.activate(PASID, OLD_OWNER, OLD_OWNER, FLAG_FAULTS_ON);
            activeStateWord = table.stateWord(PASID);
        }

        @Actor
        public void writer()
        {
            table.teardown(PASID);
        }

        @Actor
        public void reader(final III_Result r)
        {
            long stateWord = table.stateWord(PASID);
            for (int i = 0; i < SPIN_LIMIT && activeStateWord == stateWord; i++)
            {
                Thread.onSpinWait();
                stateWord = table.stateWord(PASID);
            }
            r.r1 = state(stateWord);
            r.r2 = flags(stateWord) & FLAG_FAULTS_ON;
            r.r3 = rootCode(table.root(PASID));
        }
    }
}
