package org.pasidkit.stress.broken;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.internal.IdBitmap;
import org.pasidkit.allocator.internal.IdStateTable;
import org.pasidkit.allocator.internal.StripedIdCache;

/*
 * A deliberately broken allocator built from the real internals (IdBitmap, IdStateTable, StripedIdCache) whose slow
 * path never steals from other threads' rings (Linux percpu_ida's flaw: ids strand in idle CPUs' caches), run
 * against the outcome table of PasidAllocatorTests.NoFalseExhausted. It must reach FORBIDDEN. Not part of the
 * `verify` run.
 *
 * Run:
 *   java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -t BrokenPasidAllocatorTests -m quick -sc false -jvmArgs "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
 */
public final class BrokenPasidAllocatorTests
{
    static final int SPIN_LIMIT = 1 << 12;

    private BrokenPasidAllocatorTests()
    {
    }

    /** PasidAllocator's immediate-reuse paths minus the steal: ring pop, refill, direct bitmap claim, EXHAUSTED. */
    static final class NoStealAllocator
    {
        final IdBitmap bitmap;
        final IdStateTable states;
        final StripedIdCache cache;
        final int maxId;

        NoStealAllocator(final int maxId)
        {
            this.maxId = maxId;
            this.bitmap = new IdBitmap(1, maxId);
            this.states = new IdStateTable(1, maxId);
            this.cache = new StripedIdCache(2, 4, states);
        }

        void reserve(final int id)
        {
            if (!bitmap.tryClaim(id))
            {
                throw new IllegalStateException("setup: id " + id + " not free");
            }
            states.putRelease(id, IdStateTable.IN_USE);
        }

        int allocate()
        {
            final int stripe = cache.stripeOf(Thread.currentThread());
            if (stripe >= 0)
            {
                int id = cache.pop(stripe);
                if (0 != id)
                {
                    return id;
                }
                id = cache.refill(stripe, 2, bitmap);
                if (0 != id)
                {
                    return id;
                }
            }
            final int id = bitmap.claimInRange(1, maxId, 0);
            if (id > 0)
            {
                states.putRelease(id, IdStateTable.IN_USE);
                return id;
            }
            // BROKEN: no cache.steal(...): ids cached by other (idle) threads are invisible here.
            return IdAllocator.EXHAUSTED;
        }

        void free(final int id)
        {
            final int stripe = cache.stripeOf(Thread.currentThread());
            if (stripe >= 0 && states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.CACHED))
            {
                cache.push(stripe, id);
            }
            else if (states.compareAndSet(id, IdStateTable.IN_USE, IdStateTable.FREE))
            {
                bitmap.clear(id);
            }
        }
    }

    @JCStressTest
    @Description("BROKEN allocator without steal, against PasidAllocatorTests.NoFalseExhausted's table: r1 = state " +
        "of id 1 seen before allocating (0 FREE, 1 CACHED, 2 IN_USE), r2 = allocated id (-1 EXHAUSTED).")
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "saw id 1 CACHED in the idle thread's ring, stole it")
    @Outcome(id = "2, 1", expect = Expect.ACCEPTABLE, desc = "wait expired, but the free landed before the scan")
    @Outcome(id = "2, -1", expect = Expect.ACCEPTABLE, desc = "wait expired before the free: EXHAUSTED is right")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE, desc = "freed to the bitmap (holder had no stripe), then claimed")
    @Outcome(id = {"1, -1", "0, -1"}, expect = Expect.FORBIDDEN,
        desc = "false EXHAUSTED: the id was seen free (cached by an idle thread) but could not be allocated")
    @Outcome(expect = Expect.FORBIDDEN, desc = "unexpected state or id")
    @State
    public static class NoFalseExhaustedWithoutSteal
    {
        final NoStealAllocator allocator = new NoStealAllocator(1);

        public NoFalseExhaustedWithoutSteal()
        {
            allocator.reserve(1);
        }

        @Actor
        public void holder()
        {
            allocator.free(1);
        }

        @Actor
        public void taker(final II_Result r)
        {
            byte seen = allocator.states.get(1);
            for (int i = 0; i < SPIN_LIMIT && IdStateTable.IN_USE == seen; i++)
            {
                Thread.onSpinWait();
                seen = allocator.states.get(1);
            }
            r.r1 = seen;
            r.r2 = allocator.allocate();
        }
    }
}
