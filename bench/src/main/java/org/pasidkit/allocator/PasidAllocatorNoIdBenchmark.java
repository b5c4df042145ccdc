/*
 * Run (after `./mvnw -B -ntp -pl allocator,tables,bench -am package -DskipTests`):
 *
 *   java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidAllocatorNoIdBenchmark -prof gc -foe true
 *
 * Read ns/op (lower is better) and gc.alloc.rate.norm (0 B/op).
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The "no id" answer on a full range, nobody else running: every id of {@code [1, range]} ({@value
 * PasidAllocatorExhaustionChurnBenchmark#RANGE} by default, the exhaustion churn's 9-bit space) is held, and one op is
 * an allocation that must answer {@link IdAllocator#EXHAUSTED}. What a bitmap pays here is one pass over its words;
 * the "exhausted costs what it costs a bitmap" without the churn's contention. Any other answer throws
 * (run with {@code -foe true}).
 *
 * <p>Impls: {@code pasidkit} (no grace period: without caches up to {@link PasidAllocator#DIRECT_MAX_IDS} ids, a
 * versioned bitmap whose repeated "no id" is one pass when nothing changed since the last), {@code pasidkit-grace}
 * (the default build) and the bitmap baselines, one thread.</p>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 4, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
@State(Scope.Thread)
public class PasidAllocatorNoIdBenchmark
{
    @Param({"pasidkit", "pasidkit-grace", "atomic-bitmap", "sbitmap", "locked-bitset"})
    public String impl;

    /** Ids in the range {@code [1, range]}, all held. */
    @Param({"" + PasidAllocatorExhaustionChurnBenchmark.RANGE})
    public int range;

    private IdAllocator allocator;
    private int[] held;

    /** This thread's host probe (HostProbe): after each iteration, outside its measured time. */
    private final org.pasidkit.bench.HostProbe hostProbe = new org.pasidkit.bench.HostProbe();

    @TearDown(Level.Iteration)
    public void probeHost()
    {
        hostProbe.record();
    }

    @Setup(Level.Trial)
    public void fill()
    {
        allocator = PasidAllocatorAllocFreeBenchmark.create(impl, range);
        held = PasidAllocatorAllocFreeBenchmark.allocateAll(allocator, impl, range);
    }

    @TearDown(Level.Trial)
    public void release()
    {
        for (final int id : held)
        {
            allocator.free(id);
        }
    }

    @Benchmark
    public int allocateFromFull()
    {
        final int id = allocator.allocate();
        if (IdAllocator.EXHAUSTED != id)
        {
            throw new IllegalStateException(impl + ": allocate() on a full range answered " + id + ", not EXHAUSTED");
        }
        return id;
    }
}
