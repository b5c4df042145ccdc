package org.pasidkit.tables;

import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.jctools.maps.NonBlockingHashMapLong;
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
import org.openjdk.jmh.infra.ThreadParams;
import org.pasidkit.allocator.PasidAllocator;

/*
 * Lookup of a bond's driver data by (PASID, requester id): PasidSpace.driverData against the baselines a driver
 * would otherwise use, on the same bonds and the same access sequence.
 *
 * Full run (3 forks for each impl x layout x threads: 72 forks, about 25 minutes; on a quiet machine):
 *   ./mvnw -B -ntp -q -pl bench -am -DskipTests -Djcstress.skip=true package
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceLookupBenchmark \
 *       -prof gc -foe true -rf json -rff pasidspace-lookup.json
 * One-thread lookup only, every impl in one run (the issue's ratio; what the tables figures quote):
 *   java -Djmh.ignoreLock=true -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main \
 *       'PasidSpaceLookupBenchmark.lookup$' -f 2 -wi 5 -i 10 -w 1s -r 1s -prof gc -foe true
 * Smoke run (noisy, shared machine):
 *   java -cp bench/target/pasidkit-bench.jar org.openjdk.jmh.Main PasidSpaceLookupBenchmark \
 *       -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc -foe true
 *
 * Data set: 4 devices (01:00.0, 02:01.1, 03:01.2, 04:02.3), 512 address spaces each bound to 2 of them (chosen at
 * random) = 1024 bonds on 512 PASIDs. @Param pasidLayout: "random" draws the PASIDs at random from the whole 20-bit
 * space (the allocator is made to hand out exactly those: the issue's data set, and the worst case for a radix
 * index); "dense" takes what the allocator hands out (low, consecutive ids: the usual case). Every impl holds the
 * same 1024 (PASID, rid) -> driver data pairs, the same data objects.
 *
 * Access sequence: 2^14 random picks among the 1024 bonds (uniform, seeded), as two int arrays (PASID, rid); each
 * thread walks it from its own start, one index an op. Every lookup hits. The sequence is 16x longer than the bond
 * set, so neither the branch predictor nor the prefetcher sees a short period; the two array loads per op are the
 * same for every impl.
 *
 * Impls (the @Param):
 *   pasidkit                   space.driverData(pasid, rid): the device's driver-data directory (an array by rid),
 *                              one leaf of 256 references, the cell: three dependent loads, no retry, no seq.
 *   pasidkitByHandle           space.driverDataOf(handle, rid): the same, then the PASID entry's state word (off-heap
 *                              directory + leaf) to refuse a stale handle. The handles are precomputed like the keys.
 *   ConcurrentHashMap          ConcurrentHashMap<Long, Object>.get(Long.valueOf(pasid << 16 | rid)): the caller
 *                              boxes the key on every lookup (what most callers write); expect 24 B/op unless C2's
 *                              escape analysis removes the box.
 *   ConcurrentHashMapPreboxed  the same map, keys boxed once at setup (one Long per bond, not the map's own key
 *                              instances, so equals() compares values rather than hitting the identity shortcut).
 *                              Fair only for a caller that already holds its key boxed; shown to separate the map's
 *                              cost from the boxing.
 *   NonBlockingHashMapLong     JCTools NonBlockingHashMapLong<Object>.get(pasid << 16 | rid), no boxing.
 *   ObjectArray                the floor: one flat Object[2^22] indexed by pasid << 2 | (rid & 3). It knows the
 *                              device set (the rids were chosen with distinct low bits) and spends 16 MiB on 1024
 *                              bonds; nothing general is cheaper.
 *
 * Threads: lookup (1 thread) and lookupTwoThreads (2 threads reading the same structures, each its own cursor).
 * Read-only: there is no contention to count, so @Threads rather than a @Group.
 *
 * Bounds checks of Agrona buffers are off (-Dagrona.disable.bounds.checks=true), as in every benchmark here.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-Dagrona.disable.bounds.checks=true"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class PasidSpaceLookupBenchmark
{
    static final int SEQUENCE_LENGTH = 1 << 14;
    static final int SEQUENCE_MASK = SEQUENCE_LENGTH - 1;
    static final long SEED = 0x9A51DL;

    @Param({"pasidkit", "pasidkitByHandle", "ConcurrentHashMap", "ConcurrentHashMapPreboxed", "NonBlockingHashMapLong",
        "ObjectArray"})
    public String impl;

    /** random: PASIDs spread over the 20-bit space (the issue's data set); dense: as the allocator hands them out. */
    @Param({"random", "dense"})
    public String pasidLayout;

    private Lookup lookup;

    @Setup(Level.Trial)
    public void setUp()
    {
        final BondSet bonds = BondSet.create(SEED, 512, 2, 0, "random".equals(pasidLayout));
        final SplittableRandom random = new SplittableRandom(SEED ^ 0x5E9L);
        final int[] pasids = new int[SEQUENCE_LENGTH];
        final int[] rids = new int[SEQUENCE_LENGTH];
        final Object[] expected = new Object[SEQUENCE_LENGTH];
        final int[] picks = new int[SEQUENCE_LENGTH];
        for (int i = 0; i < SEQUENCE_LENGTH; i++)
        {
            final int bond = random.nextInt(bonds.size());
            picks[i] = bond;
            pasids[i] = bonds.pasids[bond];
            rids[i] = bonds.rids[bond];
            expected[i] = bonds.data[bond];
        }
        lookup = switch (impl)
        {
            case "pasidkit" -> new PasidkitLookup(bonds.space, pasids, rids);
            case "pasidkitByHandle" -> new PasidkitHandleLookup(bonds, picks, rids);
            case "ConcurrentHashMap" -> new BoxingChmLookup(bonds, pasids, rids);
            case "ConcurrentHashMapPreboxed" -> new PreboxedChmLookup(bonds, picks);
            case "NonBlockingHashMapLong" -> new NbhmLongLookup(bonds, pasids, rids);
            case "ObjectArray" -> new ObjectArrayLookup(bonds, pasids, rids);
            default -> throw new IllegalArgumentException("impl " + impl + " is not one of the @Param values");
        };
        for (int i = 0; i < SEQUENCE_LENGTH; i++)
        {
            if (lookup.get(i) != expected[i])
            {
                throw new IllegalStateException(impl + " returned " + lookup.get(i) + " for (PASID " + pasids[i] +
                    ", rid " + Integer.toHexString(rids[i]) + "), expected " + expected[i]);
            }
        }
    }

    /** One thread's position in the access sequence. */
    @State(Scope.Thread)
    public static class Cursor
    {
        int next;

        @Setup(Level.Trial)
        public void setUp(final ThreadParams threads)
        {
            next = threads.getThreadIndex() * (SEQUENCE_LENGTH / Math.max(1, threads.getThreadCount()));
        }
    }

    @Benchmark
    @Threads(1)
    public Object lookup(final Cursor cursor)
    {
        final int i = cursor.next++ & SEQUENCE_MASK;
        return lookup.get(i);
    }

    @Benchmark
    @Threads(2)
    public Object lookupTwoThreads(final Cursor cursor)
    {
        final int i = cursor.next++ & SEQUENCE_MASK;
        return lookup.get(i);
    }

    // ------------------------------------------------------------------------------------------------ impls

    /** One impl; a fork loads exactly one subclass, so the call site is monomorphic and inlined. */
    abstract static class Lookup
    {
        /** The driver data of the bond at position {@code i} of the access sequence. */
        abstract Object get(int i);
    }

    static final class PasidkitLookup extends Lookup
    {
        private final PasidSpace space;
        private final int[] pasids;
        private final int[] rids;

        PasidkitLookup(final PasidSpace space, final int[] pasids, final int[] rids)
        {
            this.space = space;
            this.pasids = pasids;
            this.rids = rids;
        }

        @Override
        Object get(final int i)
        {
            return space.driverData(pasids[i], rids[i]);
        }
    }

    static final class PasidkitHandleLookup extends Lookup
    {
        private final PasidSpace space;
        private final long[] handles = new long[SEQUENCE_LENGTH];
        private final int[] rids;

        PasidkitHandleLookup(final BondSet bonds, final int[] picks, final int[] rids)
        {
            this.space = bonds.space;
            for (int i = 0; i < SEQUENCE_LENGTH; i++)
            {
                handles[i] = bonds.handles[picks[i]];
            }
            this.rids = rids;
        }

        @Override
        Object get(final int i)
        {
            return space.driverDataOf(handles[i], rids[i]);
        }
    }

    static final class BoxingChmLookup extends Lookup
    {
        private final ConcurrentHashMap<Long, Object> map = new ConcurrentHashMap<>();
        private final int[] pasids;
        private final int[] rids;

        BoxingChmLookup(final BondSet bonds, final int[] pasids, final int[] rids)
        {
            for (int b = 0; b < bonds.size(); b++)
            {
                map.put(bonds.key(b), bonds.data[b]);
            }
            this.pasids = pasids;
            this.rids = rids;
        }

        @Override
        Object get(final int i)
        {
            return map.get(Long.valueOf(((long)pasids[i] << 16) | rids[i]));
        }
    }

    static final class PreboxedChmLookup extends Lookup
    {
        private final ConcurrentHashMap<Long, Object> map = new ConcurrentHashMap<>();
        private final Long[] keys = new Long[SEQUENCE_LENGTH];

        PreboxedChmLookup(final BondSet bonds, final int[] picks)
        {
            final Long[] callerKeys = new Long[bonds.size()];
            for (int b = 0; b < bonds.size(); b++)
            {
                map.put(Long.valueOf(bonds.key(b)), bonds.data[b]);
                // NOTE: a second valueOf: keys above 127 are not cached, so the caller's Long is not the map's.
                callerKeys[b] = Long.valueOf(bonds.key(b));
            }
            for (int i = 0; i < SEQUENCE_LENGTH; i++)
            {
                keys[i] = callerKeys[picks[i]];
            }
        }

        @Override
        Object get(final int i)
        {
            return map.get(keys[i]);
        }
    }

    static final class NbhmLongLookup extends Lookup
    {
        private final NonBlockingHashMapLong<Object> map = new NonBlockingHashMapLong<>();
        private final int[] pasids;
        private final int[] rids;

        NbhmLongLookup(final BondSet bonds, final int[] pasids, final int[] rids)
        {
            for (int b = 0; b < bonds.size(); b++)
            {
                map.put(bonds.key(b), bonds.data[b]);
            }
            this.pasids = pasids;
            this.rids = rids;
        }

        @Override
        Object get(final int i)
        {
            return map.get(((long)pasids[i] << 16) | rids[i]);
        }
    }

    static final class ObjectArrayLookup extends Lookup
    {
        private final Object[] table = new Object[1 << 22];
        private final int[] pasids;
        private final int[] rids;

        ObjectArrayLookup(final BondSet bonds, final int[] pasids, final int[] rids)
        {
            for (int b = 0; b < bonds.size(); b++)
            {
                final int index = (bonds.pasids[b] << 2) | (bonds.rids[b] & 3);
                if (null != table[index])
                {
                    throw new IllegalStateException("floor index " + index + " taken twice: rids need distinct low bits");
                }
                table[index] = bonds.data[b];
            }
            this.pasids = pasids;
            this.rids = rids;
        }

        @Override
        Object get(final int i)
        {
            return table[(pasids[i] << 2) | (rids[i] & 3)];
        }
    }

    // ------------------------------------------------------------------------------------------------ data set

    /** The driver data object of one bond (what a driver would hang off its bond: its per-PASID context). */
    static final class DriverData
    {
        final int bond;

        DriverData(final int bond)
        {
            this.bond = bond;
        }

        @Override
        public String toString()
        {
            return "drvdata#" + bond;
        }
    }

    /**
     * A PasidSpace with live bonds on random 20-bit PASIDs, shared by the lookup and fault benchmarks.
     * The allocator is made to hand out random PASIDs by reserving every id except the ones wanted.
     */
    static final class BondSet
    {
        /** 01:00.0, 02:01.1, 03:01.2, 04:02.3: the low two bits differ, which the ObjectArray floor relies on. */
        static final int[] REQUESTER_IDS = {0x0100, 0x0209, 0x030A, 0x0413};

        final PasidSpace space;
        final Device[] devices;
        /** Live bonds (ACTIVE PASIDs). */
        final int[] pasids;
        /** The handle each live bond's bind returned. */
        final long[] handles;
        final int[] rids;
        final Object[] data;
        /** Bonds whose address space exited (TEARDOWN PASIDs, drivers still bound). */
        final int[] teardownPasids;
        final int[] teardownRids;

        private BondSet(final PasidSpace space, final Device[] devices, final int liveBonds, final int teardownBonds)
        {
            this.space = space;
            this.devices = devices;
            this.pasids = new int[liveBonds];
            this.handles = new long[liveBonds];
            this.rids = new int[liveBonds];
            this.data = new Object[liveBonds];
            this.teardownPasids = new int[teardownBonds];
            this.teardownRids = new int[teardownBonds];
        }

        int size()
        {
            return pasids.length;
        }

        long key(final int bond)
        {
            return ((long)pasids[bond] << 16) | rids[bond];
        }

        /**
         * @param liveSpaces      address spaces that stay alive.
         * @param devicesPerSpace devices each address space binds (distinct, at random), 1..4.
         * @param exitedSpaces    further address spaces that bind the same way and then exit (TEARDOWN).
         * @param randomPasids    true: PASIDs drawn at random from the 20-bit space; false: whatever the allocator
         *                        hands out (dense, low ids).
         */
        static BondSet create(final long seed, final int liveSpaces, final int devicesPerSpace, final int exitedSpaces,
            final boolean randomPasids)
        {
            final int maxPasid = PasidAllocator.DEFAULT_MAX_ID;
            final SplittableRandom random = new SplittableRandom(seed);
            final int spaces = liveSpaces + exitedSpaces;
            final boolean[] wanted = new boolean[maxPasid + 1];
            final PasidAllocator allocator = PasidAllocator.builder().range(1, maxPasid).build();
            if (randomPasids)
            {
                for (int n = 0; n < spaces; )
                {
                    final int pasid = 1 + random.nextInt(maxPasid);
                    if (!wanted[pasid])
                    {
                        wanted[pasid] = true;
                        n++;
                    }
                }
                for (int id = 1; id <= maxPasid; id++)
                {
                    if (!wanted[id] && !allocator.reserve(id))
                    {
                        throw new IllegalStateException("could not reserve PASID " + id);
                    }
                }
            }
            final PasidSpace space = PasidSpace.builder().allocator(allocator).build();
            final Device[] devices = new Device[REQUESTER_IDS.length];
            for (int d = 0; d < devices.length; d++)
            {
                devices[d] = space.addDevice(REQUESTER_IDS[d], 20, true, null);
            }
            final BondSet set = new BondSet(space, devices, liveSpaces * devicesPerSpace, exitedSpaces * devicesPerSpace);
            int live = 0;
            int teardown = 0;
            final int[] order = {0, 1, 2, 3};
            for (int mm = 0; mm < spaces; mm++)
            {
                final AddressSpace as = space.openAddressSpace(mm);
                for (int d = order.length - 1; d > 0; d--)
                {
                    final int j = random.nextInt(d + 1);
                    final int t = order[d];
                    order[d] = order[j];
                    order[j] = t;
                }
                for (int k = 0; k < devicesPerSpace; k++)
                {
                    final Device device = devices[order[k]];
                    if (mm < liveSpaces)
                    {
                        final Object drvdata = new DriverData(live);
                        final long handle = space.bind(as, device, drvdata, 0).handle();
                        set.pasids[live] = PasidHandle.pasid(handle);
                        set.handles[live] = handle;
                        set.rids[live] = device.requesterId();
                        set.data[live] = drvdata;
                        live++;
                    }
                    else
                    {
                        final long handle = space.bind(as, device, new DriverData(-1 - teardown), 0).handle();
                        set.teardownPasids[teardown] = PasidHandle.pasid(handle);
                        set.teardownRids[teardown] = device.requesterId();
                        teardown++;
                    }
                }
                if (mm >= liveSpaces)
                {
                    space.exit(as);
                }
            }
            for (int b = 0; randomPasids && b < live; b++)
            {
                if (!wanted[set.pasids[b]])
                {
                    throw new IllegalStateException("PASID " + set.pasids[b] + " was not one of the random ones");
                }
            }
            return set;
        }
    }
}
