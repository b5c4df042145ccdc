/*
 * Run (after `./mvnw -B -ntp -pl allocator,tables,bench -am package -DskipTests`):
 *
 *   java -Djmh.ignoreLock=true -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main \
 *       PasidAllocatorSubRangeBenchmark -prof gc -foe true
 */
package org.pasidkit.allocator;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.pasidkit.bench.baseline.AtomicBitmapIdAllocator;
import org.pasidkit.bench.baseline.LockedBitSetIdAllocator;
import org.pasidkit.bench.baseline.SubRangeIdAllocator;

/**
 * A narrow device on the shared PASID space: allocate + free of ids in {@code [1, narrowMaxId]} (65535 unless
 * {@code -p narrowMaxId=N}: a 16-bit PASID width) from an allocator over the whole space {@code [1, 2^20 - 1]}, as
 * Linux {@code iommu_alloc_global_pasid} allocates up to the device's {@code max_pasids}.
 *
 * <p>Impls: {@code pasidkit} ({@link PasidAllocator#allocate(int, int)}, no grace period), {@code pasidkit-grace} (the
 * default build) and the baselines that have a sub-range allocation ({@link SubRangeIdAllocator}):
 * {@code locked-bitset} (Linux {@code ida_alloc_range}: the lowest free id of the sub-range under one lock) and
 * {@code atomic-bitmap} (the same lowest-free search, lock-free). {@code sbitmap}, the queues and the magazines have
 * none (Linux's sbitmap has no range allocation). {@code allocFailures} counts sentinels and should stay 0.</p>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 4, time = 1, timeUnit = TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class PasidAllocatorSubRangeBenchmark
{
    @Param({"pasidkit", "pasidkit-grace", "locked-bitset", "atomic-bitmap"})
    public String impl;

    /** The sub-range's last id: {@code [1, narrowMaxId]} of {@code [1, 2^20 - 1]}. */
    @Param({"65535"})
    public int narrowMaxId;

    private SubRangeIdAllocator allocator;

    @Setup(Level.Trial)
    public void createAllocator()
    {
        allocator = create(impl, narrowMaxId);
    }

    /**
     * The allocator {@code impl} over {@code [1, 2^20 - 1]}, for sub-ranges {@code [1, narrowMaxId]}.
     *
     * @throws IllegalArgumentException if {@code impl} has no sub-range allocation, or {@code narrowMaxId} is outside
     *     {@code [1, 2^20 - 1]} (naming the value and the rule).
     */
    static SubRangeIdAllocator create(final String impl, final int narrowMaxId)
    {
        if (narrowMaxId < PasidAllocator.DEFAULT_MIN_ID || narrowMaxId > PasidAllocator.DEFAULT_MAX_ID)
        {
            throw new IllegalArgumentException("narrowMaxId " + narrowMaxId + " must be in [" +
                PasidAllocator.DEFAULT_MIN_ID + ", " + PasidAllocator.DEFAULT_MAX_ID + "]");
        }
        final IdAllocator created = PasidAllocatorAllocFreeBenchmark.create(impl);
        if (created instanceof PasidAllocator)
        {
            return new PasidkitSubRange((PasidAllocator)created);
        }
        if (created instanceof SubRangeIdAllocator)
        {
            return (SubRangeIdAllocator)created;
        }
        throw new IllegalArgumentException("impl " + impl + " has no sub-range allocation (one of pasidkit, " +
            "pasidkit-grace, " + String.join(", ", LockedBitSetIdAllocator.NAME, AtomicBitmapIdAllocator.NAME) + ")");
    }

    @Benchmark
    @Threads(1)
    public int pairT1(final PasidAllocatorAllocFreeBenchmark.Failures failures)
    {
        return pair(failures);
    }

    @Benchmark
    @Threads(2)
    public int pairT2(final PasidAllocatorAllocFreeBenchmark.Failures failures)
    {
        return pair(failures);
    }

    private int pair(final PasidAllocatorAllocFreeBenchmark.Failures failures)
    {
        final SubRangeIdAllocator allocator = this.allocator;
        final int id = allocator.allocate(PasidAllocator.DEFAULT_MIN_ID, narrowMaxId);
        if (id > 0)
        {
            allocator.free(id);
        }
        else
        {
            failures.allocFailures++;
        }
        return id;
    }

    /** pasidkit's {@link PasidAllocator#allocate(int, int)} behind the baselines' interface (one call, inlined). */
    static final class PasidkitSubRange implements SubRangeIdAllocator
    {
        private final PasidAllocator allocator;

        PasidkitSubRange(final PasidAllocator allocator)
        {
            this.allocator = allocator;
        }

        PasidAllocator allocator()
        {
            return allocator;
        }

        @Override
        public int allocate(final int lo, final int hi)
        {
            return allocator.allocate(lo, hi);
        }

        @Override
        public int allocate()
        {
            return allocator.allocate();
        }

        @Override
        public void free(final int id)
        {
            allocator.free(id);
        }

        @Override
        public int minId()
        {
            return allocator.minId();
        }

        @Override
        public int maxId()
        {
            return allocator.maxId();
        }

        @Override
        public String name()
        {
            return allocator.name();
        }
    }
}
