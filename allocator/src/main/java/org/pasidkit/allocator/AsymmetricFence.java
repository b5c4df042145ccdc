package org.pasidkit.allocator;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import org.pasidkit.allocator.internal.Membarrier;

/**
 * An asymmetric store-load fence (Dice, Huang and Yang's asymmetric Dekker synchronization; liburcu's
 * {@code urcu-memb}; folly's {@code asymmetricLightBarrier} / {@code asymmetricHeavyBarrier}; HotSpot's
 * {@code -XX:+UseSystemMemoryBarrier}). Two threads each store to announce and then load to check the other's
 * announcement. The frequent side (an epoch pin, a stripe owner's allocation) calls {@link #light()} between its
 * store and its load; the rare side (an epoch advance, a steal) calls {@link #heavy()} between its store and its
 * load. Then at least one of them sees the other's store, as with a full fence on both sides.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Mode: chosen once, when this class initialises, and never changed ({@link #mode()}):
 *       {@link Mode#MEMBARRIER} when the JVM runs on Linux x86-64 or AArch64, JNA loads, the kernel's
 *       {@code MEMBARRIER_CMD_QUERY} lists {@code PRIVATE_EXPEDITED} and {@code REGISTER_PRIVATE_EXPEDITED}
 *       succeeds; otherwise, or when the system property {@value #PROPERTY} is {@code fenced},
 *       {@link Mode#FENCED}. {@link #description()} says which and why.</li>
 *   <li>MEMBARRIER: {@link #light()} emits no instruction on x86-64 (a {@code dmb ishld} on AArch64) and is a
 *       compiler barrier; {@link #heavy()} is one {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)}: every CPU
 *       running a thread of this process executes a full barrier before it returns (an IPI each; on this 2-vCPU VM
 *       an epoch advance that pays one measured 1.6 us with the other vCPU idle (JMH
 *       {@code EpochDomainEnterExitBenchmark.advanceWithIdleReader}), about 20 us with it running a thread of this
 *       process).</li>
 *   <li>FENCED: {@link #light()} and {@link #heavy()} are each a full fence ({@code VarHandle.fullFence()}, a
 *       locked instruction on x86-64): the symmetric Dekker pattern.</li>
 *   <li>Threading and progress: any thread; {@link #light()} is wait-free and allocates nothing; {@link #heavy()}
 *       blocks in the kernel for the IPIs, allocates nothing, and counts itself ({@link #heavyBarriers()}).</li>
 * </ul>
 */
/*
 * Design notes: why the JIT keeps the light side's store before its load (HotSpot, the access modes chosen).
 * - The light side is: the announcing store (opaque or release: it must be emitted, not sunk out of a loop or
 *   merged, and opaque forbids that), then light() = VarHandle.acquireFence() = Unsafe.loadFence(), then the
 *   checking load (opaque or acquire). The interpreter executes bytecodes in order. C1 and C2 turn loadFence into a
 *   membar (C2: LoadFenceNode, a MemBarNode; C1: LIR membar_acquire) whose memory input is the whole memory state
 *   (C2: alias index Bot), so every memory operation before it in program order is an input of the barrier and every
 *   one after it takes its memory from the barrier's projection: C2's global code motion cannot schedule the
 *   load above the barrier nor the store below it. LoadFence, unlike the MemBarAcquire that trails a volatile
 *   load, is never removed as redundant (it is what Unsafe.loadFence promises). On x86-64 the matcher emits no
 *   instruction for it (TSO already orders loads); on AArch64 a dmb ishld.
 * - So the only reordering left is the hardware's: the store may wait in the store buffer while the load executes
 *   (x86 TSO permits exactly that; AArch64 more). membarrier(PRIVATE_EXPEDITED) closes it: it returns only after
 *   each CPU running a thread of this process took an IPI whose handler executes smp_mb(), and a thread not
 *   running has passed a context switch (a full barrier). For the light thread the IPI lands either before its
 *   store (then its load comes after the heavy side's store became visible: it sees the heavy side) or after its
 *   store (then the barrier drains the store buffer before membarrier returns: the heavy side's load, after the
 *   call, sees the light side's store). That is liburcu-memb's argument with cmm_barrier() as the light side.
 * - acquireFence rather than releaseFence: both are compiler barriers over all memory; on AArch64 releaseFence is a
 *   full dmb ish, acquireFence the lighter dmb ishld.
 * - The fenced mode keeps today's protocol exactly: a full fence between the store and the load on both sides.
 */
public final class AsymmetricFence
{
    /** System property: {@code fenced} forces {@link Mode#FENCED}; absent or {@code asymmetric} probes. */
    public static final String PROPERTY = "pasidkit.fence";

    /** Which implementation the process uses. */
    public enum Mode
    {
        /** Light side a compiler barrier, heavy side {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)}. */
        MEMBARRIER,
        /** A full fence on both sides. */
        FENCED
    }

    private static final boolean ASYMMETRIC;
    private static final String DESCRIPTION;
    private static final AtomicLong HEAVY_BARRIERS = new AtomicLong();

    static
    {
        final String requested = System.getProperty(PROPERTY, "asymmetric");
        String description;
        boolean asymmetric = false;
        if ("fenced".equals(requested))
        {
            description = "fenced (forced by -D" + PROPERTY + "=fenced)";
        }
        else if (!"asymmetric".equals(requested))
        {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + requested +
                " is not a fence mode: use asymmetric (the default: membarrier where the kernel allows) or fenced");
        }
        else
        {
            try
            {
                final long supported = Membarrier.call(Membarrier.CMD_QUERY);
                if (0 == (supported & Membarrier.CMD_PRIVATE_EXPEDITED))
                {
                    description = "fenced (membarrier offers no PRIVATE_EXPEDITED: query answered 0x" +
                        Long.toHexString(supported) + ")";
                }
                else
                {
                    Membarrier.call(Membarrier.CMD_REGISTER_PRIVATE_EXPEDITED);
                    Membarrier.privateExpedited();
                    asymmetric = true;
                    description = "membarrier (MEMBARRIER_CMD_PRIVATE_EXPEDITED through JNA, Java " +
                        Runtime.version().feature() + ")";
                }
            }
            catch (final Throwable ex)
            {
                description = "fenced (membarrier unavailable: " + ex.getClass().getSimpleName() + ": " +
                    ex.getMessage() + ")";
            }
        }
        ASYMMETRIC = asymmetric;
        DESCRIPTION = description;
    }

    private AsymmetricFence()
    {
    }

    /** The mode chosen at start-up. */
    public static Mode mode()
    {
        return ASYMMETRIC ? Mode.MEMBARRIER : Mode.FENCED;
    }

    /** True in {@link Mode#MEMBARRIER}. */
    public static boolean isAsymmetric()
    {
        return ASYMMETRIC;
    }

    /** One line: the mode and why (for {@code ./pasidkit demo} and report headers). */
    public static String description()
    {
        return DESCRIPTION;
    }

    /**
     * The frequent side, between its announcing store and its checking load: a compiler barrier in
     * {@link Mode#MEMBARRIER}, a full fence in {@link Mode#FENCED}. Wait-free, 0 B.
     */
    public static void light()
    {
        if (ASYMMETRIC)
        {
            VarHandle.acquireFence();
        }
        else
        {
            VarHandle.fullFence();
        }
    }

    /**
     * The rare side, between its announcing store and its checking load: one
     * {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)} in {@link Mode#MEMBARRIER}, a full fence in
     * {@link Mode#FENCED}. Counted in {@link #heavyBarriers()}. 0 B.
     *
     * @throws IllegalStateException if the kernel refuses a barrier it accepted at start-up (then no light side can
     *     be trusted: the caller must not go on as if the barrier had run).
     */
    public static void heavy()
    {
        HEAVY_BARRIERS.getAndIncrement();
        if (ASYMMETRIC)
        {
            try
            {
                Membarrier.privateExpedited();
            }
            catch (final RuntimeException ex)
            {
                throw new IllegalStateException("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after it " +
                    "succeeded at start-up: " + ex.getMessage(), ex);
            }
        }
        else
        {
            VarHandle.fullFence();
        }
    }

    /** Heavy barriers issued by this process so far (both modes). */
    public static long heavyBarriers()
    {
        return HEAVY_BARRIERS.get();
    }
}
