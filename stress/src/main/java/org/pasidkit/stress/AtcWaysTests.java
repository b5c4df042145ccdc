/*
 * jcstress tests of the simulated ATC's record (org.pasidkit.tables.internal.AtcWays): the one race the simulated
 * IOMMU allows on an ATC, a device caching a translation (fill) while its unbind's invalidate-all runs on the consumer.
 *
 * Run (from the repository root):
 *   mvn -B -ntp -pl stress -am package -DskipTests
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t 'org\.pasidkit\.stress\.AtcWaysTests' -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 *
 * Its mutant (stress/mutants.txt: AtcWays.PlainValidBits) updates the valid bits with plain read-modify-writes;
 * BrokenVariantsTest checks that the test shows its FORBIDDEN outcome.
 */
package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.tables.internal.AtcWays;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** Races of {@link AtcWays}. */
public final class AtcWaysTests
{
    static final int BASE = AtcWays.STRIDE;
    static final long PAGE_A = 0x100;
    static final long PAGE_B = 0x200;

    private AtcWaysTests()
    {
    }

    /**
     * The ATC holds page A (way 0); the device caches page B (way 1) while the consumer invalidates everything.
     * Results: pages the invalidation removed; then (arbiter) pages cached with their valid bit clear, pages cached.
     * A page cached with its bit clear would escape every later invalidation and stale check.
     */
    @JCStressTest
    @Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "B cached after the invalidation saw the bits: B stays, valid")
    @Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "B cached before: both removed")
    @Outcome(id = "1, 1, 1", expect = FORBIDDEN, desc = "B cached with its valid bit clear: the bit was lost")
    @Outcome(expect = FORBIDDEN, desc = "a cached page with its valid bit clear (lost bit), or a count off")
    @State
    public static class FillVsInvalidateAll
    {
        /** Three records, the middle one raced: the neighbours keep the race off the array's ends. */
        final long[] chunk = new long[3 * AtcWays.STRIDE];

        public FillVsInvalidateAll()
        {
            AtcWays.fill(chunk, BASE, PAGE_A);
        }

        @Actor
        public void device()
        {
            AtcWays.fill(chunk, BASE, PAGE_B);
        }

        @Actor
        public void consumer(final III_Result r)
        {
            r.r1 = AtcWays.invalidate(chunk, BASE, true, 0, 0);
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r2 = AtcWays.hiddenPages(chunk, BASE);
            r.r3 = AtcWays.cached(chunk, BASE);
        }
    }
}
