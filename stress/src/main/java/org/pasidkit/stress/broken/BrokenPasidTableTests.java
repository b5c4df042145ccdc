/*
 * The PasidTableTests races run against broken copies of PasidTable: each test here MUST fail (FORBIDDEN outcomes).
 * Checked by org.pasidkit.stress.BrokenVariantsTest in `verify`; never part of the build's jcstress run.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.broken\.BrokenPasidTableTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.pasidkit.tables.internal.PasidTableDescriptor.DUMMY_ROOT;
import static org.pasidkit.tables.internal.PasidTableDescriptor.FLAG_FAULTS_ON;
import static org.pasidkit.tables.internal.PasidTableDescriptor.flags;
import static org.pasidkit.tables.internal.PasidTableDescriptor.generation;
import static org.pasidkit.tables.internal.PasidTableDescriptor.state;

/** Same outcome tables as {@code org.pasidkit.stress.PasidTableTests}; the tables under test are broken. */
public final class BrokenPasidTableTests
{
    static final int PASID = 5;
    static final long OLD_OWNER = 100;
    static final long NEW_OWNER = 200;

    private BrokenPasidTableTests()
    {
    }

    static int rootCode(final long root)
    {
        return DUMMY_ROOT == root ? -1 : (int)root;
    }

    /** {@code PasidTableTests.ActivateVsStateWord} against a writer that publishes the state word first. */
    @JCStressTest
    @Outcome(id = "3, 1, 100, -1", expect = ACCEPTABLE, desc = "old state word, old body")
    @Outcome(id = "3, 1, 200, -1", expect = ACCEPTABLE, desc = "old (RETIRED) state word, owner already rewritten")
    @Outcome(id = "3, 1, 100, 200", expect = ACCEPTABLE, desc = "old (RETIRED) state word, root already rewritten")
    @Outcome(id = "3, 1, 200, 200", expect = ACCEPTABLE, desc = "old (RETIRED) state word, body already rewritten")
    @Outcome(id = "1, 2, 200, 200", expect = ACCEPTABLE, desc = "new ACTIVE state word with its whole body")
    @Outcome(expect = FORBIDDEN,
        desc = "ACTIVE (generation 2) with the old owner or root: a half-written entry looked valid")
    @State
    public static class StateFirstActivateVsStateWord
    {
        final BrokenPasidTableStateFirst table = new BrokenPasidTableStateFirst();

        public StateFirstActivateVsStateWord()
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

    /** {@code PasidTableTests.TeardownVsStateWord} against a writer that publishes the state word first. */
    @JCStressTest
    @Outcome(id = "1, 1, 100", expect = ACCEPTABLE, desc = "before the teardown: ACTIVE, faults on, live root")
    @Outcome(id = "1, 1, -1", expect = ACCEPTABLE, desc = "old ACTIVE state word, root already the dummy (safe side)")
    @Outcome(id = "2, 0, -1", expect = ACCEPTABLE, desc = "after the teardown: TEARDOWN, faults off, dummy root")
    @Outcome(expect = FORBIDDEN, desc = "TEARDOWN with the live root, or with faults on: half-written teardown")
    @State
    public static class StateFirstTeardownVsStateWord
    {
        final BrokenPasidTableStateFirst table = new BrokenPasidTableStateFirst();

        public StateFirstTeardownVsStateWord()
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

    /** {@code PasidTableTests.ActivateVsSnapshot} against a seqlock reader without its second sequence check. */
    @JCStressTest
    @Outcome(id = "3, 1, 100, -1", expect = ACCEPTABLE, desc = "snapshot before the activation: the RETIRED first life")
    @Outcome(id = "1, 2, 200, 200", expect = ACCEPTABLE, desc = "snapshot after the activation: the ACTIVE second life")
    @Outcome(expect = FORBIDDEN, desc = "torn snapshot: fields of two lives (or a state word without its body)")
    @State
    public static class NoRecheckActivateVsSnapshot
    {
        final BrokenPasidTableNoRecheck table = new BrokenPasidTableNoRecheck();
        final long[] view = new long[4];

        public NoRecheckActivateVsSnapshot()
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
            r.r1 = (int)view[0];
            r.r2 = (int)view[1];
            r.r3 = (int)view[2];
            r.r4 = rootCode(view[3]);
        }
    }
}
