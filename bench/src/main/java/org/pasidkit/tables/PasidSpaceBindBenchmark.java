package org.pasidkit.tables;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/*
 * Control path: PasidSpace.bind + unbind as one op.
 *
 * Full run (3 forks a benchmark: 12 forks, about 5 minutes; on a quiet machine):
 *   ./mvnw -B -ntp -q -pl bench -am -DskipTests -Djcstress.skip=true package
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceBindBenchmark \
 *       -prof gc -foe true -rf json -rff pasidspace-bind.json
 * Smoke run (noisy, shared machine):
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceBindBenchmark \
 *       -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc -foe true
 *
 * Benchmarks:
 *   bindSecondDevice       1024 address spaces keep their shared PASID bound to device A (01:00.0). The op binds
 *                          device B (02:01.1) to the next one and unbinds it: a bond slot taken and given back, B's
 *                          per-device index written twice, the PASID entry's bond list relinked; no PASID allocated,
 *                          no copy-on-write array. Allocates only the Bond (the driver's capability, 48 B).
 *   bindFirstDevice        A pool of 1024 address spaces that hold no PASID (each bound and unbound once at setup).
 *                          The op binds the next one's first device (A) and unbinds it: a PASID allocated, its entry
 *                          activated, then retired and freed through the grace period (the allocator reclaims on
 *                          its own slow path; the space keeps the shared PASID only to the last unbind,
 *                          SharedPasidLifetime.LAST_UNBIND). The address spaces stay open; the op allocates the
 *                          Bond and the copy-on-write PASID arrays.
 *   bindFreshAddressSpace  openAddressSpace of a never-seen mm id, bind, unbind and exit on every op. The spaces map
 *                          keeps a tombstone per key ever used until it resizes, so the space is rebuilt before
 *                          every iteration (@Setup(Level.Iteration)) and the iterations are short.
 *   bindWhileReading       @Group, 1 binder + 1 reader: the binder binds/unbinds device B on ONE address space's
 *                          PASID while the reader looks up driverData(that PASID, B) -- the same driver-data cell,
 *                          written by every bind and unbind. @AuxCounters: hits, misses (null: B not bound at that
 *                          instant; fine) and wrong (any other object; must stay 0).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class PasidSpaceBindBenchmark
{
    static final int ADDRESS_SPACES = 1 << 10;
    static final int ADDRESS_SPACE_MASK = ADDRESS_SPACES - 1;
    /** mm ids of the pool without a PASID (bindFirstDevice). */
    static final long UNBOUND_POOL_BASE = 1L << 32;
    static final int RID_A = 0x0100;
    static final int RID_B = 0x0209;

    private final Object drvdataB = new PasidSpaceLookupBenchmark.DriverData(1);
    private PasidSpace space;
    private final AddressSpace[] spaces = new AddressSpace[ADDRESS_SPACES];
    private final AddressSpace[] pool = new AddressSpace[ADDRESS_SPACES];
    private Device deviceA;
    private Device deviceB;
    /** The shared PASID of address space 0, which the bindWhileReading group churns. */
    private int churnedPasid;

    @Setup(Level.Trial)
    public void setUp()
    {
        space = PasidSpace.builder().sharedPasidLifetime(SharedPasidLifetime.LAST_UNBIND).build();
        deviceA = space.addDevice(RID_A, 20, true, null);
        deviceB = space.addDevice(RID_B, 20, true, null);
        for (int mm = 0; mm < ADDRESS_SPACES; mm++)
        {
            spaces[mm] = space.openAddressSpace(mm);
            pool[mm] = space.openAddressSpace(UNBOUND_POOL_BASE + mm);
            space.bind(spaces[mm], deviceA, new PasidSpaceLookupBenchmark.DriverData(mm), 0);
        }
        // Warm: B's per-device index leaves exist; every pool address space is open and holds no PASID.
        for (int mm = 0; mm < ADDRESS_SPACES; mm++)
        {
            space.unbind(space.bind(spaces[mm], deviceB, drvdataB, 0));
            space.unbind(space.bind(pool[mm], deviceA, drvdataB, 0));
        }
        final Bond bond = space.bind(spaces[0], deviceB, drvdataB, 0);
        space.unbind(bond);
        churnedPasid = bond.pasid();
        if (0 != space.pasidsOf(UNBOUND_POOL_BASE, new int[1]) || 1 != space.pasidsOf(0, new int[1]))
        {
            throw new IllegalStateException("warm-up left the wrong PASIDs: pool mm " + UNBOUND_POOL_BASE +
                " should hold none, mm 0 its shared one");
        }
    }

    /** One thread's position in the address-space pool. */
    @State(Scope.Thread)
    public static class Cursor
    {
        int next;
    }

    @Benchmark
    @Threads(1)
    public long bindSecondDevice(final Cursor cursor)
    {
        final Bond bond = space.bind(spaces[cursor.next++ & ADDRESS_SPACE_MASK], deviceB, drvdataB, 0);
        space.unbind(bond);
        return bond.handle();
    }

    @Benchmark
    @Threads(1)
    public long bindFirstDevice(final Cursor cursor)
    {
        final Bond bond = space.bind(pool[cursor.next++ & ADDRESS_SPACE_MASK], deviceA, drvdataB, 0);
        space.unbind(bond);
        return bond.handle();
    }

    /** A space rebuilt before every iteration, for never-seen mm ids (see the header). */
    @State(Scope.Benchmark)
    public static class FreshSpace
    {
        PasidSpace space;
        Device device;
        long nextMm;

        @Setup(Level.Iteration)
        public void setUp()
        {
            space = PasidSpace.builder().sharedPasidLifetime(SharedPasidLifetime.LAST_UNBIND).build();
            device = space.addDevice(RID_A, 20, true, null);
            nextMm = 0;
        }
    }

    @Benchmark
    @Threads(1)
    @Warmup(iterations = 5, time = 1)
    @Measurement(iterations = 10, time = 1)
    public long bindFreshAddressSpace(final FreshSpace fresh)
    {
        final AddressSpace mm = fresh.space.openAddressSpace(fresh.nextMm++);
        final Bond bond = fresh.space.bind(mm, fresh.device, drvdataB, 0);
        fresh.space.unbind(bond);
        fresh.space.exit(mm);
        return bond.handle();
    }

    // ------------------------------------------------------------------------------------------------ contended

    /** What the reader of bindWhileReading saw. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class ReaderCounters
    {
        public long hits;
        public long misses;
        public long wrong;

        @Setup(Level.Iteration)
        public void reset()
        {
            hits = 0;
            misses = 0;
            wrong = 0;
        }
    }

    @Benchmark
    @Group("bindWhileReading")
    @GroupThreads(1)
    public long binder()
    {
        final Bond bond = space.bind(spaces[0], deviceB, drvdataB, 0);
        space.unbind(bond);
        return bond.handle();
    }

    @Benchmark
    @Group("bindWhileReading")
    @GroupThreads(1)
    public Object reader(final ReaderCounters counters)
    {
        final Object data = space.driverData(churnedPasid, RID_B);
        if (data == drvdataB)
        {
            counters.hits++;
        }
        else if (null == data)
        {
            counters.misses++;
        }
        else
        {
            counters.wrong++;
        }
        return data;
    }
}
