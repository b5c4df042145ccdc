package org.pasidkit.allocator;

import java.util.List;

import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The Lincheck linearizability tests of {@link PasidAllocatorLincheckTest} (the same operations, specification,
 * verifier and quiescent invariants) on an allocator without caches ({@link PasidAllocator#hasPerCpuCaches()} false:
 * a small range without a grace period, as built by default). Its bitmap holds 32 ids a word, so the four ids of the
 * specification are placed two in each of two words: {@code 1, 2, 3, 4} are ids {@code 31, 32, 63, 64} of
 * {@code [1, 64]}, and the other 60 ids are reserved at construction and never freed. A "no id" answer then depends
 * on two words read one after the other, the case the versioned bitmap's second pass exists for: a free behind the
 * search and a claim ahead of it must not make it say {@code EXHAUSTED} (the model checker interleaves exactly those
 * accesses). The sub-range {@code [2, 3]} is {@code [32, 63]}, whose other ids are all in use.
 *
 * <p>Run: {@code mvn -B -ntp -pl allocator test -Dtest=PasidAllocatorDirectLincheckTest}.</p>
 */
public class PasidAllocatorDirectLincheckTest extends PasidAllocatorLincheckTest
{
    private static final TwoWordIds IDS = new TwoWordIds(31, 32, 63, 64);

    /**
     * The race the versioned bitmap's second pass answers, both ways round: one id free, in one word; another thread
     * frees an id of the other word (behind a search that has read that word) and then claims the free one (ahead of
     * it). At every instant some id is free, so {@code allocate()} must never say {@code EXHAUSTED}. The search starts
     * at the word its thread's hint names, so one of the two scenarios puts the free behind it. Without the second
     * pass (a search that answers "no id" after one pass) the model checker finds the forbidden result.
     */
    @Test
    void noFalseExhaustedWhenAFreeBehindTheSearchMeetsAClaimAheadOfIt() throws NoSuchMethodException
    {
        final ExecutionScenario wordOneFree = new ExecutionScenario(
            List.of(actor("reserve", 1), actor("reserve", 2), actor("reserve", 3)),
            List.of(
                List.of(actor("allocate")),
                List.of(actor("free", 1), actor("allocateIn", 2))),
            List.of(),
            actor("quiescentInvariants"));
        final ExecutionScenario wordZeroFree = new ExecutionScenario(
            List.of(actor("reserve", 2), actor("reserve", 3), actor("reserve", 4)),
            List.of(
                List.of(actor("allocate")),
                List.of(actor("free", 4), actor("allocateIn", 0))),
            List.of(),
            actor("quiescentInvariants"));
        modelCheckingOptions()
            .iterations(0)
            .invocationsPerIteration(1_000)
            .addCustomScenario(wordOneFree)
            .addCustomScenario(wordZeroFree)
            .minimizeFailedScenario(false)
            .check(getClass());
    }

    @Override
    protected PasidAllocator newAllocator()
    {
        final PasidAllocator allocator = PasidAllocator.builder().range(1, 64).immediateReuse().build();
        assertFalse(allocator.hasPerCpuCaches(), "a 64-id range without a grace period is built without caches");
        return IDS.reserveOthers(allocator, 64);
    }

    @Override
    protected int real(final int id)
    {
        return IDS.real(id);
    }

    @Override
    protected int logical(final int realId)
    {
        return IDS.logical(realId);
    }
}
