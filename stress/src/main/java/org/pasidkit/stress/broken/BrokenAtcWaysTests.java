/*
 * The AtcWaysTests race run against a broken copy of AtcWays: the test here MUST fail (FORBIDDEN outcomes). Checked by
 * org.pasidkit.stress.BrokenVariantsTest in `verify`; never part of the build's jcstress run.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.broken\.BrokenAtcWaysTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.tables.internal.AtcWays;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** Same outcome table as {@code org.pasidkit.stress.AtcWaysTests.FillVsInvalidateAll}. */
public final class BrokenAtcWaysTests
{
    static final int BASE = AtcWays.STRIDE;
    static final long PAGE_A = 0x100;
    static final long PAGE_B = 0x200;

    private BrokenAtcWaysTests()
    {
    }

    /** Fill against invalidate-all, the valid bits updated with plain read-modify-writes. */
    @JCStressTest
    @Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "B cached after the invalidation saw the bits: B stays, valid")
    @Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "B cached before: both removed")
    @Outcome(expect = FORBIDDEN, desc = "a cached page with its valid bit clear (lost bit), or a count off")
    @State
    public static class PlainBitsFillVsInvalidateAll
    {
        final long[] chunk = new long[3 * AtcWays.STRIDE];

        public PlainBitsFillVsInvalidateAll()
        {
            BrokenAtcWays.fill(chunk, BASE, PAGE_A);
        }

        @Actor
        public void device()
        {
            BrokenAtcWays.fill(chunk, BASE, PAGE_B);
        }

        @Actor
        public void consumer(final III_Result r)
        {
            r.r1 = BrokenAtcWays.invalidate(chunk, BASE, true, 0, 0);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r2 = AtcWays.hiddenPages(chunk, BASE);
            r.r3 = AtcWays.cached(chunk, BASE);
        }
    }
}
