package org.pasidkit.tables;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.pasidkit.tables.internal.AtcWays;

import static org.pasidkit.tables.internal.AtcCommandDescriptor.*;

/**
 * A simulated IOMMU that consumes the command ring of an {@link AtcInvalidator}, and the simulated ATCs of the
 * devices. It checks the promise of every CMD_SYNC: once the sync of a change completes, no ATC of any device bound to
 * the address space holds a translation inside the changed range for any of its PASIDs. Every violation is counted.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one thread at a time consumes ({@link #poll} is a try-lock). {@link #touch} is called by the
 *       workload thread that owns the address space, only while no change of that address space is in flight
 *       (between its sync and its next emit) — the ring's commit/read and the sync slot's release/acquire order the
 *       two sides. {@link #cached} likewise.</li>
 *   <li>Progress: {@link #poll} is lock-free (a failed try-lock returns 0) and allocation-free. {@link #touch} is
 *       wait-free and allocation-free once its (device, PASID) has an ATC; the first touch of a (device, PASID)
 *       creates the ATC under a private lock (allocating an index leaf or a chunk of 1024 ATCs at most).</li>
 *   <li>An ATC holds up to {@link #ATC_WAYS} pages per (device, PASID), replaced round-robin.</li>
 *   <li>Invariants: an ATC slot, once published for a (device, PASID), is never moved or reused for another key;
 *       index entries only go from 0 to a slot.</li>
 * </ul>
 *
 * <h2>Layout (primitive arrays, no boxed keys)</h2>
 * <pre>
 *   deviceIndex[requesterId]          -&gt; dense device number d (0 = no ATC on that device yet)
 *   leaves[d][pasid &gt;&gt;&gt; 10][pasid &amp; 1023] -&gt; ATC slot s (0 = none), leaves of 1024 ints made lazily
 *   chunks[s &gt;&gt;&gt; 10][(s &amp; 1023) * AtcWays.STRIDE ...] = the ATC's record ({@link AtcWays}): its pages,
 *                                                          next way to replace, valid bits
 *   atcsOfPasid[pasid &gt;&gt;&gt; 10][pasid &amp; 1023] -&gt; int[] of the slots of every device that cached pasid
 * </pre>
 * A command costs three dependent array loads to find its ATC, one load of its valid bits and a look at each valid
 * way (none, for most ATCs); the sync's stale check likewise looks at every valid way of every ATC of the address
 * space's PASIDs. A way that holds a page always has its valid bit set ({@link AtcWays}), so neither misses a page.
 */
public final class SimulatedIommu implements MessageHandler
{
    /** Pages an ATC keeps per (device, PASID). */
    public static final int ATC_WAYS = AtcWays.WAYS;
    /** Most (device, PASID) ATCs one simulated IOMMU holds. */
    public static final int MAX_ATCS = 1 << 26;

    private static final int STRIDE = AtcWays.STRIDE;
    private static final int LEAF_SHIFT = 10;
    private static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;
    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;
    private static final int MAX_PASID_LEAVES = (1 << 20) >>> LEAF_SHIFT;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle INT_ARRAYS = MethodHandles.arrayElementVarHandle(int[][].class);
    private static final VarHandle INT_MATRICES = MethodHandles.arrayElementVarHandle(int[][][].class);
    private static final VarHandle CHUNKS = MethodHandles.arrayElementVarHandle(long[][].class);
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int COMMANDS = 8;
    private static final int SYNCS = 9;
    private static final int STALE = 10;
    private static final int INVALIDATED = 11;
    /** Sink of the record pre-touch loads (so they are not dead code). */
    private static final int TOUCHED = 12;
    private static final int CACHE_LINE = 64;

    private final AtcInvalidator invalidator;
    private final PasidSpace space;

    private final int[] deviceIndex = new int[1 << 16];
    private final int[][][] leaves = new int[(1 << 16) + 1][][];
    private final long[][] chunks = new long[MAX_ATCS >>> CHUNK_SHIFT][];
    /** Per PASID, the ATC slots of every device that cached it (copy-on-write int[]; leaves of 1024 PASIDs). */
    private final int[][][] atcsOfPasid = new int[MAX_PASID_LEAVES][][];
    /** Guards ATC creation only (the first touch of a (device, PASID)); never taken by poll. */
    private final Object createLock = new Object();
    private int devicesWithAtc;
    private int atcsCreated;

    private int[] pasids = new int[64];
    /**
     * Consumer-thread counters at indexes COMMANDS..INVALIDATED, padded from the array header and its end: the
     * workload thread's {@link #touch} reads this object's fields on every change, and the consumer writes these
     * on every record; in fields of this object they shared its cache line (false sharing).
     */
    private final long[] counters = new long[24];
    /** Commands consumed as of the last poll that found records: release in poll, acquire in commandsConsumed. */
    private final long[] published = new long[24];
    private final AtomicBoolean consuming = new AtomicBoolean();

    public SimulatedIommu(final AtcInvalidator invalidator)
    {
        this.invalidator = invalidator;
        this.space = invalidator.space();
    }

    /**
     * Consumer: processes up to {@code limit} ring records; returns how many. One thread consumes at a time: a call
     * made while another thread is consuming returns 0 at once (a try-lock, never a wait), so producers waiting for
     * their CMD_SYNC may call it to help ({@link AtcInvalidator#assist}).
     */
    public int poll(final int limit)
    {
        final RingBuffer ring = invalidator.ring();
        invalidator.consumerPolled();
        // NOTE: look before locking: an idle poller must not hold the try-lock, or a producer that needs help finds
        // it taken by a thread that may be descheduled inside an empty poll.
        if (ring.consumerPosition() == ring.producerPosition() || !consuming.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            final int n = ring.read(this, limit);
            if (n > 0)
            {
                // NOTE: release, read by commandsConsumed() via getAcquire.
                LONGS.setRelease(published, COMMANDS, counters[COMMANDS]);
            }
            return n;
        }
        finally
        {
            // NOTE: release, read by the next poller's compareAndSet (volatile, so acquire): our ATC writes and
            // counters happen before its reads.
            consuming.setRelease(false);
        }
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        handle(buffer, index);
    }

    private void handle(final DirectBuffer buffer, final int index)
    {
        final long[] counters = this.counters;
        final int count = buffer.getInt(index + COUNT_OFFSET);
        final int end = index + HEADER_LENGTH + count * COMMAND_LENGTH;
        // NOTE: one load per cache line of the record before any command is applied: the producer wrote those lines
        // on another core, and independent loads let the CPU fetch them in parallel instead of one miss per command
        // line as the loop reaches it (the record is ~1 KiB for 64 commands; a core-to-core miss is ~250 ns here).
        long touched = 0;
        for (int offset = index + CACHE_LINE; offset < end; offset += CACHE_LINE)
        {
            touched += buffer.getLong(offset);
        }
        counters[TOUCHED] += touched & 1;
        int invalidated = 0;
        for (int offset = index + HEADER_LENGTH; offset < end; offset += COMMAND_LENGTH)
        {
            final long word0 = buffer.getLong(offset);
            final long word1 = buffer.getLong(offset + 8);
            final int opcode = opcode(word0);
            if (OP_ATC_INV == opcode)
            {
                invalidated += invalidate(requesterId(word0), pasid(word0), word1);
            }
            else if (OP_SYNC == opcode)
            {
                final long mm = buffer.getLong(index + MM_OFFSET);
                if (mm >= 0)
                {
                    counters[STALE] += staleIn(mm, buffer.getLong(index + ADDRESS_OFFSET),
                        buffer.getLong(index + LENGTH_OFFSET));
                }
                counters[SYNCS]++;
                // NOTE: the counters of this record before its sync completes: a producer that saw its sync (acquire
                // in synced) and then reads syncsCompleted/translationsInvalidated sees them.
                counters[INVALIDATED] += invalidated;
                invalidated = 0;
                invalidator.completeSync(buffer.getInt(index + PRODUCER_OFFSET), word1);
            }
        }
        counters[INVALIDATED] += invalidated;
        counters[COMMANDS] += count;
    }

    /** Applies one CMD_ATC_INV to its ATC; returns the translations it removed. */
    private int invalidate(final int requesterId, final int pasid, final long word1)
    {
        final int slot = atcOf(requesterId, pasid);
        if (0 == slot)
        {
            return 0;
        }
        final int size = size(word1);
        return AtcWays.invalidate(chunk(slot), (slot & CHUNK_MASK) * STRIDE, SIZE_ALL == size, size,
            firstPage(word1) >>> size);
    }

    /**
     * Stale translations inside {@code [address, address + length)} in any ATC tagged with a PASID of {@code mm}:
     * the ATCs of every device that ever cached that PASID, found through the IOMMU's own per-PASID list, not through
     * the bonds the producer walked (so a command the producer failed to send shows up here).
     */
    private int staleIn(final long mm, final long address, final long length)
    {
        final long firstPage = address >>> PAGE_SHIFT;
        final long lastPage = (address + Math.max(1, length) - 1) >>> PAGE_SHIFT;
        int stale = 0;
        int pasidCount;
        while ((pasidCount = space.pasidsOf(mm, pasids)) == pasids.length)
        {
            pasids = new int[pasids.length * 2];
        }
        for (int p = 0; p < pasidCount; p++)
        {
            final int pasid = pasids[p];
            final int[][] leaf = (int[][])INT_MATRICES.getAcquire(atcsOfPasid, pasid >>> LEAF_SHIFT);
            if (null == leaf)
            {
                continue;
            }
            final int[] slots = (int[])INT_ARRAYS.getAcquire(leaf, pasid & LEAF_MASK);
            if (null == slots)
            {
                continue;
            }
            for (final int slot : slots)
            {
                stale += AtcWays.countIn(chunk(slot), (slot & CHUNK_MASK) * STRIDE, firstPage, lastPage);
            }
        }
        return stale;
    }

    /** ATC slot of (requesterId, pasid), 0 if it has none. Lock-free, allocation-free. */
    private int atcOf(final int requesterId, final int pasid)
    {
        final int device = (int)INTS.getAcquire(deviceIndex, requesterId & 0xFFFF);
        if (0 == device)
        {
            return 0;
        }
        // NOTE: the device's leaves were published before its index entry (createAtc): the acquire above covers them.
        final int[][] pasidLeaves = leaves[device];
        final int leafIndex = pasid >>> LEAF_SHIFT;
        if (leafIndex >= pasidLeaves.length)
        {
            return 0;
        }
        final int[] leaf = (int[])INT_ARRAYS.getAcquire(pasidLeaves, leafIndex);
        return null == leaf ? 0 : (int)INTS.getAcquire(leaf, pasid & LEAF_MASK);
    }

    private long[] chunk(final int slot)
    {
        // NOTE: acquire pairs with the setRelease in createAtc; the slot was read after the chunk was published.
        return (long[])CHUNKS.getAcquire(chunks, slot >>> CHUNK_SHIFT);
    }

    /**
     * Slow path of the first touch of (requesterId, pasid): makes its ATC, under the create lock. Off the hot path:
     * it runs once per (device, PASID) ATC the model ever creates; touches, command application and stale checks
     * read the published arrays with acquire loads and never take the lock.
     */
    private int createAtc(final int requesterId, final int pasid)
    {
        synchronized (createLock)
        {
            int device = deviceIndex[requesterId];
            if (0 == device)
            {
                device = ++devicesWithAtc;
                // NOTE: release, read by atcOf via the acquire of deviceIndex: leaves before the index entry.
                INT_MATRICES.setRelease(leaves, device, new int[MAX_PASID_LEAVES][]);
                INTS.setRelease(deviceIndex, requesterId, device);
            }
            final int[][] pasidLeaves = leaves[device];
            int[] leaf = pasidLeaves[pasid >>> LEAF_SHIFT];
            if (null == leaf)
            {
                leaf = new int[1 << LEAF_SHIFT];
                // NOTE: release, read by atcOf via getAcquire.
                INT_ARRAYS.setRelease(pasidLeaves, pasid >>> LEAF_SHIFT, leaf);
            }
            int slot = leaf[pasid & LEAF_MASK];
            if (0 != slot)
            {
                return slot;
            }
            if (atcsCreated + 1 >= MAX_ATCS)
            {
                throw new IllegalStateException("(device, PASID) ATC " + (atcsCreated + 1) + " exceeds the " +
                    MAX_ATCS + " one simulated IOMMU holds");
            }
            slot = ++atcsCreated;
            if (null == chunks[slot >>> CHUNK_SHIFT])
            {
                // NOTE: release, read by chunk() via getAcquire.
                CHUNKS.setRelease(chunks, slot >>> CHUNK_SHIFT, new long[(CHUNK_MASK + 1) * STRIDE]);
            }
            // NOTE: release, read by atcOf via getAcquire: the chunk is published before the slot that points in.
            INTS.setRelease(leaf, pasid & LEAF_MASK, slot);
            int[][] listLeaf = atcsOfPasid[pasid >>> LEAF_SHIFT];
            if (null == listLeaf)
            {
                listLeaf = new int[1 << LEAF_SHIFT][];
                // NOTE: release, read by staleIn via getAcquire.
                INT_MATRICES.setRelease(atcsOfPasid, pasid >>> LEAF_SHIFT, listLeaf);
            }
            final int[] old = listLeaf[pasid & LEAF_MASK];
            final int[] slots = null == old ? new int[1] : Arrays.copyOf(old, old.length + 1);
            slots[slots.length - 1] = slot;
            // NOTE: copy-on-write, release, read by staleIn via getAcquire: the array is complete before it is seen.
            INT_ARRAYS.setRelease(listLeaf, pasid & LEAF_MASK, slots);
            return slot;
        }
    }

    /**
     * Workload side: the device translates {@code address} for {@code pasid} and caches it in its ATC. Only a device
     * with ATS caches, and only for a PASID it is bound to (the IOMMU answers a translation request for any other
     * PASID with a fault, so nothing is cached).
     */
    public void touch(final Device device, final int pasid, final long address)
    {
        if (pasid < 0 || pasid >= (1 << 20))
        {
            throw new IllegalArgumentException("PASID " + pasid + " must be in [0, 2^20 - 1]");
        }
        // NOTE: a racy plain read of the device's driver-data cells (benign: references do not tear): a touch
        // racing an unbind may still cache, as a real device may translate just before its unbind completes.
        if (!device.ats() || !device.isBound(pasid))
        {
            return;
        }
        final int requesterId = device.requesterId();
        int slot = atcOf(requesterId, pasid);
        if (0 == slot)
        {
            slot = createAtc(requesterId, pasid);
        }
        AtcWays.fill(chunk(slot), (slot & CHUNK_MASK) * STRIDE, address >>> PAGE_SHIFT);
    }

    /**
     * Workload side: translations the ATC of (device, PASID) still holds (a PASID handed to a new owner must start
     * with none: anything left is a stale translation from its previous life).
     */
    public int cached(final Device device, final int pasid)
    {
        final int slot = atcOf(device.requesterId(), pasid);
        if (0 == slot)
        {
            return 0;
        }
        return AtcWays.cached(chunk(slot), (slot & CHUNK_MASK) * STRIDE);
    }

    /**
     * Cached translations whose ATC valid bit is clear, over every ATC: invisible to invalidations and to the stale
     * check, so it must stay 0 (the check of the valid bits those two rely on). Walks every ATC created; call it when
     * the IOMMU is quiet (after the consumer stopped, or from it).
     */
    public long hiddenTranslations()
    {
        long n = 0;
        final int created;
        // NOTE: a diagnostic for a quiet IOMMU, off the hot path: the lock only reads how many ATCs were created.
        synchronized (createLock)
        {
            created = atcsCreated;
        }
        for (int slot = 1; slot <= created; slot++)
        {
            n += AtcWays.hiddenPages(chunk(slot), (slot & CHUNK_MASK) * STRIDE);
        }
        return n;
    }

    /** Commands (invalidations and syncs) consumed, as of the last poll that found records. */
    public long commandsConsumed()
    {
        // NOTE: acquire, pairs with the setRelease in poll.
        return (long)LONGS.getAcquire(published, COMMANDS);
    }

    /** Consumer-thread counter (read it after the consumer stopped, or from the consumer). */
    public long syncsCompleted()
    {
        return counters[SYNCS];
    }

    /** Translations found inside a changed range after that change's sync: must stay 0. Consumer-thread counter. */
    public long staleTranslations()
    {
        return counters[STALE];
    }

    /** Cached translations removed by invalidation commands. Consumer-thread counter. */
    public long translationsInvalidated()
    {
        return counters[INVALIDATED];
    }
}
