package org.pasidkit.stress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.pasidkit.allocator.EpochDomain;

/*
 * Races on EpochDomain: a reader entering its critical section vs tryAdvance. Reader: enter = read the epoch, then an
 * opaque store of the pin and AsymmetricFence.light(); then it reads the epoch again (r2). Advancer: W(epoch) by CAS,
 * then, in its next tryAdvance, AsymmetricFence.heavy() and R(pins). This is store buffering (asymmetric Dekker):
 * without the heavy barrier (the light side is only a compiler barrier on the membarrier path) the reader can read
 * the old epoch while its pin is still invisible to two advances in a row (mutant EpochDomain.AdvanceWithoutHeavy).
 * The test runs on the path the machine allows and again with -Dpasidkit.fence=fenced (BrokenVariantsTest).
 *
 * Property checked: once a reader is inside and has read epoch e, the global epoch never exceeds e + 1 while it stays
 * inside. NOTE: "never exceeds pinned + 1" (pinned = the value stored in the pin word) is NOT a property of this
 * protocol (nor of crossbeam-epoch's): a reader that reads e, is delayed for two advances before its pin store lands,
 * ends up pinned at e with the global epoch at e + 2. That is safe, because every load of its critical section comes
 * after the pin store and hence after both advances; it is reported as ACCEPTABLE_INTERESTING ("late pin").
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar -t EpochDomainTests \
 *       -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class EpochDomainTests
{
    private EpochDomainTests()
    {
    }

    @JCStressTest
    @Description("Epoch starts at 0. Reader: enter(), r2 = epoch() (it stays inside). Advancer: tryAdvance() twice, " +
        "r3 = epoch(). Arbiter: r1 = the epoch in the reader's pin word.")
    @Outcome(id = "0, 0, 1", expect = Expect.ACCEPTABLE,
        desc = "reader pinned 0 first: 0 -> 1 allowed, 1 -> 2 refused (reader behind)")
    @Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE,
        desc = "reader read 0, pinned 0; the first advance came between; the second saw the pin and refused")
    @Outcome(id = "1, 1, 2", expect = Expect.ACCEPTABLE, desc = "reader entered after the first advance, pinned 1")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "reader pinned 1, read 2 = pinned + 1")
    @Outcome(id = "2, 2, 2", expect = Expect.ACCEPTABLE, desc = "reader entered after both advances")
    @Outcome(id = {"0, 1, 2", "0, 2, 2"}, expect = Expect.ACCEPTABLE_INTERESTING,
        desc = "late pin: the reader read 0 but its pin store landed after the second advance's scan; safe, its " +
            "section's loads come after both advances")
    @Outcome(id = "0, 0, 2", expect = Expect.FORBIDDEN,
        desc = "epoch 2 ahead of an inside reader that read 0 after pinning: the pin and the advance's scan were " +
            "not ordered (no heavy barrier / no StoreLoad fence), or tryAdvance ignored the pin")
    @Outcome(expect = Expect.FORBIDDEN, desc = "epoch did not advance although nothing held it, or bad values")
    @State
    public static class EnterVsAdvance
    {
        final EpochDomain domain = new EpochDomain(2);
        final EpochDomain.Reader reader = domain.register();

        @Actor
        public void reader(final III_Result r)
        {
            reader.enter();
            r.r2 = (int)domain.epoch();
        }

        @Actor
        public void advancer(final III_Result r)
        {
            domain.tryAdvance();
            domain.tryAdvance();
            r.r3 = (int)domain.epoch();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r1 = EpochPins.pinnedEpoch(domain, reader.slot());
        }
    }
}
