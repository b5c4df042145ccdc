package org.pasidkit.allocator;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The Lincheck linearizability tests of {@link PasidAllocatorGraceLincheckTest} (the same operations, with
 * {@code reclaim}, specification, verifier and quiescent invariants) on the allocator without caches that has a grace
 * period (a small range, as built by default: {@code DirectGrace}). Its bitmap holds 16 ids a word, so the four ids of
 * the specification are placed two in each of two words: {@code 1, 2, 3, 4} are ids {@code 15, 16, 31, 32} of
 * {@code [1, 32]}, and the other 28 ids are reserved at construction and never freed. A "none free" answer then depends
 * on two words read one after the other, and on the sweep generation that lets it skip the second pass.
 *
 * <p>Run: {@code mvn -B -ntp -pl allocator test -Dtest=PasidAllocatorDirectGraceLincheckTest}.</p>
 */
public class PasidAllocatorDirectGraceLincheckTest extends PasidAllocatorGraceLincheckTest
{
    private static final TwoWordIds IDS = new TwoWordIds(15, 16, 31, 32);

    @Override
    protected PasidAllocator newAllocator()
    {
        final PasidAllocator allocator = PasidAllocator.builder().range(1, 32).maxReaders(2).build();
        assertFalse(allocator.hasPerCpuCaches(), "a 32-id range with a grace period is built without caches");
        return IDS.reserveOthers(allocator, 32);
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
