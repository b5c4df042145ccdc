package org.pasidkit.allocator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionResult;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.kotlinx.lincheck.execution.ResultWithClock;
import org.jetbrains.kotlinx.lincheck.util.LincheckResult;
import org.jetbrains.kotlinx.lincheck.util.ValueResult;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.Validate;
import org.jetbrains.lincheck.datastructures.verifier.CachedVerifier;
import org.junit.jupiter.api.Test;

/**
 * Lincheck linearizability test of {@link PasidAllocator} with its grace period (the default build), with
 * {@code reclaim} as an operation: a 4-id range, 2 stripes (with 3 threads one thread has no cache), rings of 4, refill
 * batch 2. No reader is registered, so the epoch may advance inside any allocation or reclaim: which retired id comes
 * back when is the implementation's choice, and the specification leaves it open (the grace period's exactness
 * against readers is the jcstress tests' and the unit tests' job: {@code EpochReclaimQueueTests},
 * {@code PasidAllocatorTest.anIdNeedsTwoEpochAdvances}).
 *
 * <h2>Operations</h2>
 * {@code allocate()}, {@code allocateIn(sub)}, {@code free(id)} / {@code freeLast()} (retire with no holder; refused
 * with {@link IllegalArgumentException} when not in use), {@code retireHeld(id)} ({@code retire(id, 1)}: retired with
 * one holder outstanding), {@code releaseLast()} / {@code release(id)} (the holder lets go: 0 if that was the last
 * holder, -1 if refused), {@code reclaim()} (any count is legal: its effect is internal).
 *
 * <h2>Specification</h2>
 * The abstract state: {@code U} ids in use, {@code R} ids retired with no holder left (waiting out or past their grace
 * period: the model cannot tell), {@code H} ids retired with a holder outstanding. Transitions:
 * <ul>
 *   <li>{@code allocate[In]} returning {@code id}: legal iff {@code id} is in range, {@code id ∉ U ∪ H}; then
 *       {@code U += id, R -= id}. A held id is never handed out (holders are exact); an id in {@code R} may be, once
 *       its grace passed. {@code EXHAUSTED}: legal iff every id of the range is in {@code U}.
 *       {@code ALL_IN_GRACE}: legal iff every id of the range is in {@code U ∪ R ∪ H} and at least one is in
 *       {@code R ∪ H}.</li>
 *   <li>{@code free(id)} freeing: legal iff {@code id ∈ U}; then {@code U -= id, R += id}; refused iff
 *       {@code id ∉ U} (a racing double free is refused exactly once).</li>
 *   <li>{@code retireHeld(id)}: true iff {@code id ∈ U}, then {@code U -= id, H += id}; false iff {@code id ∉ U}.</li>
 *   <li>{@code release(id)}: 0 iff {@code id ∈ H}, then {@code H -= id, R += id}; -1 iff {@code id ∉ H}.</li>
 * </ul>
 * {@link #quiescentInvariants()}: the counts add up to the capacity, and draining the allocator (allocating, reclaiming
 * when it answers {@code ALL_IN_GRACE}) hands out, once each, exactly the ids neither in use nor held.
 *
 * <p>Running: {@code mvn -B -ntp -pl allocator test -Dtest=PasidAllocatorGraceLincheckTest}.</p>
 */
public class PasidAllocatorGraceLincheckTest
{
    static final int MIN_ID = 1;
    static final int MAX_ID = 4;
    static final int[][] SUB_RANGES = PasidAllocatorLincheckTest.SUB_RANGES;

    private final PasidAllocator allocator = newAllocator();

    /** The allocator under test: with caches here; {@link PasidAllocatorDirectGraceLincheckTest} without. */
    protected PasidAllocator newAllocator()
    {
        return PasidAllocator.builder()
            .range(MIN_ID, MAX_ID)
            .stripes(2)
            .cacheCapacity(4)
            .refillBatch(2)
            .maxReaders(2)
            .build();
    }

    /** The allocator's id of the specification's id {@code id} (1..4): the same here. */
    protected int real(final int id)
    {
        return id;
    }

    /** The specification's id of an allocator id (sentinels unchanged): the same here. */
    protected int logical(final int realId)
    {
        return realId;
    }

    private final ThreadLocal<ArrayDeque<Integer>> held = ThreadLocal.withInitial(ArrayDeque::new);
    private final ThreadLocal<ArrayDeque<Integer>> retiredHeld = ThreadLocal.withInitial(ArrayDeque::new);

    @Operation
    public int allocate()
    {
        return remember(logical(allocator.allocate()));
    }

    @Operation
    public int allocateIn(@Param(gen = IntGen.class, conf = "0:3") final int sub)
    {
        return remember(logical(allocator.allocate(real(SUB_RANGES[sub][0]), real(SUB_RANGES[sub][1]))));
    }

    @Operation
    public boolean free(@Param(gen = IntGen.class, conf = MIN_ID + ":" + MAX_ID) final int id)
    {
        try
        {
            allocator.free(real(id));
            return true;
        }
        catch (final IllegalArgumentException notInUse)
        {
            return false;
        }
    }

    @Operation
    public int freeLast()
    {
        final Integer id = held.get().pollLast();
        if (null == id)
        {
            return 0;
        }
        return free(id) ? id : -id;
    }

    @Operation
    public int retireHeldLast()
    {
        final Integer id = held.get().pollLast();
        if (null == id)
        {
            return 0;
        }
        try
        {
            allocator.retire(real(id), 1);
            retiredHeld.get().addLast(id);
            return id;
        }
        catch (final IllegalArgumentException notInUse)
        {
            return -id;
        }
    }

    @Operation
    public int releaseLast()
    {
        final Integer id = retiredHeld.get().pollLast();
        if (null == id)
        {
            return 0;
        }
        return release(id) == 0 ? id : -id;
    }

    @Operation
    public int release(@Param(gen = IntGen.class, conf = MIN_ID + ":" + MAX_ID) final int id)
    {
        try
        {
            return allocator.release(real(id));
        }
        catch (final IllegalArgumentException noHolder)
        {
            return -1;
        }
    }

    @Operation
    public int reclaim()
    {
        return allocator.reclaim() >= 0 ? 0 : -1;
    }

    private int remember(final int id)
    {
        if (id > 0)
        {
            held.get().addLast(id);
        }
        return id;
    }

    @Validate
    public void quiescentInvariants()
    {
        final AllocatorCounts counts = allocator.counts(new AllocatorCounts());
        if (counts.free() + counts.cached() + counts.inUse() + counts.retired() + counts.held() != counts.capacity())
        {
            throw new IllegalStateException("counts do not add up at quiescence: " + counts);
        }
        final Set<Integer> expected = new TreeSet<>();
        for (int id = MIN_ID; id <= MAX_ID; id++)
        {
            final IdState state = allocator.stateOf(real(id));
            if (IdState.IN_USE != state && IdState.HELD != state)
            {
                expected.add(id);
            }
        }
        final Set<Integer> drained = new TreeSet<>();
        for (int attempts = 0; attempts < 64; attempts++)
        {
            final int id = allocator.allocate();
            if (IdAllocator.EXHAUSTED == id)
            {
                break;
            }
            if (IdAllocator.ALL_IN_GRACE == id)
            {
                allocator.reclaim();
                continue;
            }
            if (!drained.add(logical(id)))
            {
                throw new IllegalStateException("id " + id + " handed out twice while draining; " + counts);
            }
        }
        if (!drained.equals(expected))
        {
            throw new IllegalStateException("at quiescence ids " + expected + " were neither in use nor held, but " +
                "draining the allocator handed out " + drained + "; " + counts);
        }
    }

    @Test
    void stress()
    {
        new StressOptions()
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(3)
            .actorsAfter(2)
            .iterations(20)
            .invocationsPerIteration(1_000)
            .verifier(GraceLinearizabilityVerifier.class)
            .check(PasidAllocatorGraceLincheckTest.class);
    }

    @Test
    void modelChecking()
    {
        new ModelCheckingOptions()
            .addGuarantee(ManagedStrategyGuaranteeKt
                .forClasses((String className) -> className.startsWith("org.agrona."))
                .allMethods()
                .treatAsAtomic())
            .verifier(GraceLinearizabilityVerifier.class)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(3)
            .actorsAfter(2)
            .iterations(8)
            .invocationsPerIteration(200)
            .check(PasidAllocatorGraceLincheckTest.class);
    }

    /** The nondeterministic specification: U (in use), R (retired, no holder), H (retired, one holder). */
    static final class GraceModel
    {
        final BitSet inUse = new BitSet();
        final BitSet retired = new BitSet();
        final BitSet heldBack = new BitSet();

        GraceModel copy()
        {
            final GraceModel copy = new GraceModel();
            copy.inUse.or(inUse);
            copy.retired.or(retired);
            copy.heldBack.or(heldBack);
            return copy;
        }

        String key()
        {
            return inUse + "/" + retired + "/" + heldBack;
        }

        boolean apply(final Actor actor, final LincheckResult result)
        {
            if (!(result instanceof ValueResult))
            {
                return false;
            }
            final Object value = ((ValueResult)result).getValue();
            final List<Object> args = actor.getArguments();
            switch (actor.getMethod().getName())
            {
                case "allocate":
                    return allocated(MIN_ID, MAX_ID, (Integer)value);
                case "allocateIn":
                    final int[] sub = SUB_RANGES[(Integer)args.get(0)];
                    return allocated(sub[0], sub[1], (Integer)value);
                case "free":
                    return freed((Integer)args.get(0), (Boolean)value);
                case "freeLast":
                {
                    final int last = (Integer)value;
                    return 0 == last || freed(Math.abs(last), last > 0);
                }
                case "retireHeldLast":
                {
                    final int last = (Integer)value;
                    if (0 == last)
                    {
                        return true;
                    }
                    final int id = Math.abs(last);
                    if (last < 0)
                    {
                        return !inUse.get(id);
                    }
                    if (!inUse.get(id))
                    {
                        return false;
                    }
                    inUse.clear(id);
                    heldBack.set(id);
                    return true;
                }
                case "releaseLast":
                {
                    final int last = (Integer)value;
                    return 0 == last || released(Math.abs(last), last > 0);
                }
                case "release":
                    return released((Integer)args.get(0), 0 == (Integer)value);
                case "reclaim":
                    return 0 == (Integer)value;
                default:
                    throw new IllegalArgumentException("no specification for " + actor);
            }
        }

        private boolean allocated(final int lo, final int hi, final int id)
        {
            if (IdAllocator.EXHAUSTED == id)
            {
                return inUse.nextClearBit(lo) > hi;
            }
            if (IdAllocator.ALL_IN_GRACE == id)
            {
                boolean anyInGrace = false;
                for (int i = lo; i <= hi; i++)
                {
                    if (!inUse.get(i) && !retired.get(i) && !heldBack.get(i))
                    {
                        return false; // a never-retired free id: there was one to hand out
                    }
                    anyInGrace |= retired.get(i) || heldBack.get(i);
                }
                return anyInGrace;
            }
            if (id < lo || id > hi || inUse.get(id) || heldBack.get(id))
            {
                return false;
            }
            inUse.set(id);
            retired.clear(id);
            return true;
        }

        private boolean freed(final int id, final boolean wasFreed)
        {
            if (!wasFreed)
            {
                return !inUse.get(id);
            }
            if (!inUse.get(id))
            {
                return false;
            }
            inUse.clear(id);
            retired.set(id);
            return true;
        }

        private boolean released(final int id, final boolean wasReleased)
        {
            if (!wasReleased)
            {
                return !heldBack.get(id);
            }
            if (!heldBack.get(id))
            {
                return false;
            }
            heldBack.clear(id);
            retired.set(id);
            return true;
        }
    }

    /** Linearizability against {@link GraceModel}: the search of {@code PasidAllocatorLincheckTest}'s verifier. */
    public static final class GraceLinearizabilityVerifier extends CachedVerifier
    {
        public GraceLinearizabilityVerifier(final Class<?> sequentialSpecification)
        {
        }

        @Override
        public boolean verifyResultsImpl(final ExecutionScenario scenario, final ExecutionResult results)
        {
            final GraceModel model = new GraceModel();
            if (!applyAll(model, scenario.getInitExecution(), results.getInitResults()))
            {
                return false;
            }
            final List<List<Actor>> threads = scenario.getParallelExecution();
            return search(threads, results.getParallelResultsWithClock(), new int[threads.size()], model,
                scenario.getPostExecution(), results.getPostResults(), new HashSet<>());
        }

        private static boolean search(
            final List<List<Actor>> threads,
            final List<List<ResultWithClock>> threadResults,
            final int[] executed,
            final GraceModel model,
            final List<Actor> post,
            final List<LincheckResult> postResults,
            final Set<String> failed)
        {
            final String key = Arrays.toString(executed) + model.key();
            if (failed.contains(key))
            {
                return false;
            }
            boolean allDone = true;
            for (int t = 0; t < threads.size(); t++)
            {
                final int next = executed[t];
                if (next == threads.get(t).size())
                {
                    continue;
                }
                allDone = false;
                final ResultWithClock resultWithClock = threadResults.get(t).get(next);
                if (null == resultWithClock || !happensBeforeSatisfied(executed, resultWithClock))
                {
                    continue;
                }
                final GraceModel after = model.copy();
                if (after.apply(threads.get(t).get(next), resultWithClock.getResult()))
                {
                    executed[t]++;
                    final boolean found = search(threads, threadResults, executed, after, post, postResults, failed);
                    executed[t]--;
                    if (found)
                    {
                        return true;
                    }
                }
            }
            if (allDone && applyAll(model.copy(), post, postResults))
            {
                return true;
            }
            failed.add(key);
            return false;
        }

        private static boolean happensBeforeSatisfied(final int[] executed, final ResultWithClock result)
        {
            final int[] clockOnStart = result.getClockOnStart().getClock();
            for (int t = 0; t < executed.length; t++)
            {
                if (executed[t] < clockOnStart[t])
                {
                    return false;
                }
            }
            return true;
        }

        private static boolean applyAll(final GraceModel model, final List<Actor> actors,
            final List<LincheckResult> results)
        {
            final List<LincheckResult> rs = new ArrayList<>(results);
            for (int i = 0; i < actors.size(); i++)
            {
                if (i >= rs.size() || !model.apply(actors.get(i), rs.get(i)))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
