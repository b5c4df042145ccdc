package org.pasidkit.tables;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.counters.CountersPublisher;
import org.pasidkit.tables.counters.PasidkitCounters;

/*
 * What live counters (issue 17) cost the hot paths: the same benchmarks with a CountersPublisher running (counters
 * "on": its own thread copies the counts into the mapped file every 100 ms) and without one ("off"), in one run.
 *
 *   ./mvnw -B -ntp -q -pl bench -am -DskipTests -Djcstress.skip=true package
 *   flock /tmp/pasidkit-heavy.lock java -Djmh.ignoreLock=true --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main CountersOverheadBenchmark -prof gc -foe true \
 *       -rf json -rff counters-overhead.json
 *
 * allocFreePair    one thread: PasidAllocator.allocate() then free(id), grace period on (the default build), over
 *                  2^20 - 1 ids; "on": CountersPublisher.forAllocator over it (each publish scans its state table).
 * driverDataLookup one thread: PasidSpace.driverData(pasid, rid) over PasidSpaceLookupBenchmark's data set (1024
 *                  bonds on 512 random 20-bit PASIDs, every other id reserved: the allocator's state pages all exist,
 *                  the publisher's worst-case scan); "on": a publisher over the space (what
 *                  PasidSpace.builder().counters(dir) starts).
 * publishSpace     the publisher's own cost: one publishNow() of that space (PasidSpace.counts, a scan of 2^20 state
 *                  bytes, then ~40 counter stores). Divided by the 100 ms interval it is the share of a core the
 *                  publisher thread takes. Run only with counters "on" (its "off" row publishes the same way into a
 *                  file nobody started a thread for: same figure, kept so the table is square).
 *
 * The publisher's thread runs beside the benchmark thread on this 2-core machine: the "on" rows include whatever its
 * scans take from the shared cache and memory bandwidth.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class CountersOverheadBenchmark
{
    static final int SEQUENCE_LENGTH = 1 << 14;

    @Param({"off", "on"})
    public String counters;

    private Path dir;
    private PasidAllocator allocator;
    private CountersPublisher allocatorPublisher;
    private PasidSpace space;
    private CountersPublisher spacePublisher;
    private CountersPublisher probe;
    private int[] pasids;
    private int[] rids;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        dir = Files.createTempDirectory("pasidkit-counters-bench");
        allocator = PasidAllocator.builder().build();
        final PasidSpaceLookupBenchmark.BondSet bonds = PasidSpaceLookupBenchmark.BondSet.create(0x9A51DL, 512, 2, 0,
            true);
        space = bonds.space;
        final SplittableRandom random = new SplittableRandom(0x5E9L);
        pasids = new int[SEQUENCE_LENGTH];
        rids = new int[SEQUENCE_LENGTH];
        for (int i = 0; i < SEQUENCE_LENGTH; i++)
        {
            final int bond = random.nextInt(bonds.size());
            pasids[i] = bonds.pasids[bond];
            rids[i] = bonds.rids[bond];
        }
        if ("on".equals(counters))
        {
            allocatorPublisher = CountersPublisher.forAllocator(allocator, dir, "bench-allocator");
            spacePublisher = CountersPublisher.create(dir, "bench-space",
                PasidkitCounters.DEFAULT_PUBLISH_INTERVAL_MS).addSpace(space).start();
        }
        // Not started: publishSpace calls it by hand.
        probe = CountersPublisher.create(dir, "bench-probe", PasidkitCounters.DEFAULT_PUBLISH_INTERVAL_MS)
            .addSpace(space);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        for (final CountersPublisher p : new CountersPublisher[] {allocatorPublisher, spacePublisher, probe})
        {
            if (null != p)
            {
                Files.deleteIfExists(p.path());
                p.close();
            }
        }
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public int allocFreePair()
    {
        final int id = allocator.allocate();
        allocator.free(id);
        return id;
    }

    @Benchmark
    public Object driverDataLookup()
    {
        final int i = next++ & (SEQUENCE_LENGTH - 1);
        return space.driverData(pasids[i], rids[i]);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void publishSpace()
    {
        probe.publishNow();
    }
}
