package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/*
 * Broken copies of the epoch protocol (BrokenEpochDomain) run against the outcome table of
 * EpochDomainTests.EnterVsAdvance (r1 = pinned epoch, r2 = epoch the reader read after entering, r3 = final epoch).
 * SkipPinCheck reaches FORBIDDEN in most samples. ReleasePin needs the store buffer to hold the pin store back while
 * the reader's next load and two advances run (store buffering, x86's one allowed reordering): about 1 sample in
 * 10^4 here, so a quick run sees tens to hundreds of hits. Not part of the `verify` run.
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenEpochDomainTests -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenEpochDomainTests
{
    private BrokenEpochDomainTests()
    {
    }

    @JCStressTest
    @Description("BROKEN tryAdvance that ignores the readers' pins, against EpochDomainTests.EnterVsAdvance's table.")
    @Outcome(id = "0, 0, 1", expect = Expect.ACCEPTABLE,
        desc = "reader pinned 0 first: 0 -> 1 allowed, 1 -> 2 refused (reader behind)")
    @Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE,
        desc = "reader read 0, pinned 0; the first advance came between; the second saw the pin and refused")
    @Outcome(id = "1, 1, 2", expect = Expect.ACCEPTABLE, desc = "reader entered after the first advance, pinned 1")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "reader pinned 1, read 2 = pinned + 1")
    @Outcome(id = "2, 2, 2", expect = Expect.ACCEPTABLE, desc = "reader entered after both advances")
    @Outcome(id = {"0, 1, 2", "0, 2, 2"}, expect = Expect.ACCEPTABLE_INTERESTING,
        desc = "late pin: the reader read 0 but its pin store landed after the second advance's scan")
    @Outcome(id = "0, 0, 2", expect = Expect.FORBIDDEN,
        desc = "epoch 2 ahead of an inside reader that read 0 after pinning")
    @Outcome(expect = Expect.FORBIDDEN, desc = "epoch did not advance although nothing held it, or bad values")
    @State
    public static class EnterVsAdvanceSkipPinCheck
    {
        final BrokenEpochDomain domain = new BrokenEpochDomain(2, BrokenEpochDomain.Bug.SKIP_PIN_CHECK);

        @Actor
        public void reader(final III_Result r)
        {
            domain.enter(0);
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
            r.r1 = domain.pinnedEpoch(0);
        }
    }

    @JCStressTest
    @Description("BROKEN enter with a release store of the pin (no StoreLoad), against " +
        "EpochDomainTests.EnterVsAdvance's table.")
    @Outcome(id = "0, 0, 1", expect = Expect.ACCEPTABLE,
        desc = "reader pinned 0 first: 0 -> 1 allowed, 1 -> 2 refused (reader behind)")
    @Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE,
        desc = "reader read 0, pinned 0; the first advance came between; the second saw the pin and refused")
    @Outcome(id = "1, 1, 2", expect = Expect.ACCEPTABLE, desc = "reader entered after the first advance, pinned 1")
    @Outcome(id = "1, 2, 2", expect = Expect.ACCEPTABLE, desc = "reader pinned 1, read 2 = pinned + 1")
    @Outcome(id = "2, 2, 2", expect = Expect.ACCEPTABLE, desc = "reader entered after both advances")
    @Outcome(id = {"0, 1, 2", "0, 2, 2"}, expect = Expect.ACCEPTABLE_INTERESTING,
        desc = "late pin: the reader read 0 but its pin store landed after the second advance's scan")
    @Outcome(id = "0, 0, 2", expect = Expect.FORBIDDEN,
        desc = "epoch 2 ahead of an inside reader that read 0 after pinning")
    @Outcome(expect = Expect.FORBIDDEN, desc = "epoch did not advance although nothing held it, or bad values")
    @State
    public static class EnterVsAdvanceReleasePin
    {
        final BrokenEpochDomain domain = new BrokenEpochDomain(2, BrokenEpochDomain.Bug.RELEASE_PIN);

        @Actor
        public void reader(final III_Result r)
        {
            domain.enter(0);
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
            r.r1 = domain.pinnedEpoch(0);
        }
    }
}
