package org.pasidkit.stress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.AsymmetricFence;

/*
 * The asymmetric Dekker pattern of AsymmetricFence itself (store buffering, SB): the light side stores x, calls
 * light() and loads y; the heavy side stores y, calls heavy() and loads x. (0, 0) means both loads passed their own
 * side's store: forbidden with the fence, shown readily on x86 without it (the mutant AsymmetricFence.HeavyAsLight,
 * stress/mutants.txt, makes heavy() a compiler barrier only and must show (0, 0) here).
 *
 * The fence mode is the process's (AsymmetricFence.description()): membarrier where the kernel allows it, fenced with
 * -Dpasidkit.fence=fenced in -jvmArgs. BrokenVariantsTest runs it both ways.
 *
 * Run (after `mvn -B -ntp -pl stress -am package`):
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar -t AsymmetricFenceTests \
 *       -m quick -sc false -strideSize 1 \
 *       -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class AsymmetricFenceTests
{
    private AsymmetricFenceTests()
    {
    }

    @JCStressTest
    @Description("Light side: x = 1 (opaque); light(); r1 = y (opaque). Heavy side: y = 1 (opaque); heavy(); " +
        "r2 = x (opaque).")
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "both stores visible to both loads")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE,
        desc = "light side loaded first (before the heavy side's store): the heavy side sees its store")
    @Outcome(id = "1, 0", expect = Expect.ACCEPTABLE,
        desc = "heavy side loaded first (before the light side's store): the light side sees its store")
    @Outcome(id = "0, 0", expect = Expect.FORBIDDEN,
        desc = "store-load reordering on both sides: heavy() did not order the light side's store before its load")
    @Outcome(expect = Expect.FORBIDDEN, desc = "bad values")
    @State
    public static class LightVsHeavy
    {
        static final VarHandle X;
        static final VarHandle Y;

        static
        {
            try
            {
                final MethodHandles.Lookup lookup = MethodHandles.lookup();
                X = lookup.findVarHandle(LightVsHeavy.class, "x", int.class);
                Y = lookup.findVarHandle(LightVsHeavy.class, "y", int.class);
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new ExceptionInInitializerError(ex);
            }
        }

        int x;
        int y;

        @Actor
        public void light(final II_Result r)
        {
            X.setOpaque(this, 1);
            AsymmetricFence.light();
            r.r1 = (int)Y.getOpaque(this);
        }

        @Actor
        public void heavy(final II_Result r)
        {
            Y.setOpaque(this, 1);
            AsymmetricFence.heavy();
            r.r2 = (int)X.getOpaque(this);
        }
    }
}
