package org.pasidkit.tables;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.BufferUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.pasidkit.allocator.EpochDomain;

import static org.pasidkit.tables.internal.AtcCommandDescriptor.*;

/**
 * ATC invalidation fan-out: a change to {@code [address, address + length)} of an address space becomes one
 * {@code CMD_ATC_INV} per (device with ATS, PASID of that address space) — every private PASID multiplies it — written
 * in batches of at most {@code batch} commands into an off-heap command ring (an Agrona {@link ManyToOneRingBuffer}),
 * the last batch ending with one {@code CMD_SYNC}. One command covers the range rounded out to an aligned power-of-two
 * span of pages (as SMMUv3 {@code CMD_ATC_INV}); a change longer than {@code flushAllAboveBytes} (more than
 * {@code flushAllAboveBytes / 4096} page invalidations) gets one "invalidate all" ({@code SIZE_ALL}) per
 * (device, PASID) instead. {@link SimulatedIommu} consumes the ring.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: many producers (one {@link Producer} per thread, never shared), one consumer at a time.</li>
 *   <li>Progress: {@link Producer#emit} is lock-free while the ring has room: one ring claim (one CAS) and one commit
 *       per batch of up to {@code batch} commands, plain 16-byte stores in between. It waits only when the ring is
 *       full, at most the sync timeout, running the assist meanwhile. {@link Producer#invalidate} then waits for its
 *       {@code CMD_SYNC}, as a CPU waits for CMD_SYNC before munmap returns — with a timeout, after the VT-d
 *       {@code qi_submit_sync} lesson. Every wait has that timeout; a timeout is counted and returned as -1.</li>
 *   <li>Linearization points: a batch becomes visible to the consumer at its commit (the ring's release store of the
 *       record length, read by the consumer's acquire in {@code read}); a change is complete when the consumer's
 *       {@link #completeSync} release store of its token is seen by {@link Producer#synced}'s acquire load.</li>
 *   <li>Invariants: per producer, tokens grow by one per change and the consumer completes them in order (one ring,
 *       FIFO per producer), so a completed token covers every earlier change of that producer.</li>
 *   <li>Walkers are epoch readers: the (PASID, device) walk runs inside the producer's critical section, so no PASID
 *       it read can be reused before its commands are in the ring.</li>
 *   <li>Allocation: none per change once the per-producer scratch arrays have grown to the largest fan-out seen
 *       (they grow instead of cutting a walk short).</li>
 * </ul>
 */
public final class AtcInvalidator
{
    /** Default commands a batch (ring record). */
    public static final int DEFAULT_BATCH = 64;
    private static final int SLOT_STRIDE = 128;
    private static final int CACHE_LINE = 64;
    private static final VarHandle STATS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int COMMANDS = 8;
    private static final int SYNCS = 9;
    private static final int FULL_FLUSHES = 10;
    private static final int CHANGES = 11;
    private static final int TIMEOUTS = 12;
    private static final int MAX_REQUESTER_IDS = 1 << 16;
    private static final byte ATS_YES = 1;
    private static final byte ATS_NO = 2;
    /**
     * A producer waiting for its CMD_SYNC assists only after the consumer's heartbeat ({@link #consumerPolled}) stood
     * still this long (several times one change's processing; far below a scheduler time slice).
     */
    private static final long ASSIST_AFTER_STALL_NS = 10_000;

    private final PasidSpace space;
    private final ManyToOneRingBuffer ring;
    private final UnsafeBuffer syncSlots;
    private final int batch;
    private final long flushAllAboveBytes;
    private final long syncTimeoutNs;
    private final int maxProducers;
    private final AtomicInteger producers = new AtomicInteger();
    private final Producer[] registered;
    private final int heartbeatOffset;
    private final Producer revocationProducer;
    private volatile Runnable assist;

    /**
     * @param space              where the bonds come from.
     * @param ringBytes          command ring capacity, a power of two (e.g. 1 MiB).
     * @param batch              commands a ring record, 1..1024.
     * @param flushAllAboveBytes changes longer than this invalidate everything of each (device, PASID).
     * @param syncTimeoutNs      how long a producer waits for ring room or a CMD_SYNC.
     * @param maxProducers       producer threads.
     */
    public AtcInvalidator(final PasidSpace space, final int ringBytes, final int batch, final long flushAllAboveBytes,
        final long syncTimeoutNs, final int maxProducers)
    {
        if (batch < 1 || batch > 1024)
        {
            throw new IllegalArgumentException("batch " + batch + " must be in [1, 1024] commands");
        }
        if (flushAllAboveBytes < 4096)
        {
            throw new IllegalArgumentException("flush-all threshold " + flushAllAboveBytes + " must be >= 4096 bytes");
        }
        if (maxProducers < 1 || maxProducers > 1024)
        {
            throw new IllegalArgumentException("producers " + maxProducers + " must be in [1, 1024]");
        }
        this.space = space;
        this.ring = new ManyToOneRingBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            ringBytes + RingBufferDescriptor.TRAILER_LENGTH, 64)));
        if (recordLength(batch + 1) > ring.maxMsgLength())
        {
            throw new IllegalArgumentException("ring of " + ringBytes + " bytes cannot hold a batch of " + batch +
                " commands (" + recordLength(batch + 1) + " bytes > max message " + ring.maxMsgLength() + ")");
        }
        this.batch = batch;
        this.flushAllAboveBytes = flushAllAboveBytes;
        this.syncTimeoutNs = syncTimeoutNs;
        this.maxProducers = maxProducers;
        // NOTE: one slot per producer, then the consumer's heartbeat in a slot of its own.
        // NOTE: one slot per producer, one for the revocation flush's producer, then the consumer's heartbeat.
        this.syncSlots = new UnsafeBuffer(BufferUtil.allocateDirectAligned((maxProducers + 2) * SLOT_STRIDE, 128));
        this.heartbeatOffset = (maxProducers + 1) * SLOT_STRIDE;
        this.registered = new Producer[maxProducers];
        // NOTE: the revocation flush runs on the space's control path (control lock held: one thread at a time) and
        // walks nothing, so its producer needs no epoch reader.
        this.revocationProducer = new Producer(maxProducers, null);
        space.invalidatorBuilt(this::revocationFlush);
    }

    /**
     * The space's {@link DeviceTlbFlush} (unless its builder set another): "invalidate all" for (device, PASID), its
     * CMD_SYNC, and the wait for it (the sync timeout). Control lock held.
     */
    private boolean revocationFlush(final Device device, final int pasid)
    {
        return revocationProducer.invalidateAll(device, pasid) >= 0;
    }

    /**
     * What the space's revocation flush does, for a {@link DeviceTlbFlush} that wraps it: "invalidate all" for
     * (device, PASID), its CMD_SYNC, and the wait (the sync timeout). Only from a flush the space calls (its control
     * lock serializes the callers of this one producer).
     *
     * @return true once the invalidation completed; false on timeout.
     */
    public boolean flushDeviceTlb(final Device device, final int pasid)
    {
        return revocationFlush(device, pasid);
    }

    public PasidSpace space()
    {
        return space;
    }

    RingBuffer ring()
    {
        return ring;
    }

    /** Consumer side: marks {@code token} of producer {@code slot} complete (release; read by awaitSync). */
    void completeSync(final int slot, final long token)
    {
        syncSlots.putLongRelease(slot * SLOT_STRIDE, token);
    }

    /**
     * Consumer side: called at every poll of the ring, empty or not. Waiting producers read it to tell a consumer
     * that is running (busy or idle-polling) from one that is descheduled: they assist only once it has stood still
     * for {@code ASSIST_AFTER_STALL_NS}. Callers from several threads may lose each other's increments: any change is
     * movement, and a producer re-reads it after its own assist.
     */
    void consumerPolled()
    {
        final int offset = heartbeatOffset;
        // NOTE: opaque, read by consumerHeartbeat's opaque load: only "did it move", nothing is published with it.
        syncSlots.putLongOpaque(offset, syncSlots.getLong(offset) + 1);
    }

    private long consumerHeartbeat()
    {
        return syncSlots.getLongOpaque(heartbeatOffset);
    }

    /**
     * Work a waiting producer may do before it idles, e.g. {@code () -> iommu.poll(64)} so that waiters drain the
     * ring themselves instead of parking while the consumer thread is descheduled (a machine with fewer cores than
     * threads). Null: just wait.
     */
    public void assist(final Runnable assist)
    {
        this.assist = assist;
    }

    public int batch()
    {
        return batch;
    }

    public long flushAllAboveBytes()
    {
        return flushAllAboveBytes;
    }

    /** Registers a producer for the calling thread (allocates; do it once per thread). */
    public Producer newProducer()
    {
        final int slot = producers.getAndIncrement();
        if (slot >= maxProducers)
        {
            producers.getAndDecrement();
            throw new IllegalStateException("all " + maxProducers + " producer slots are taken");
        }
        final Producer producer = new Producer(slot, space.epochDomain().register());
        registered[slot] = producer;
        return producer;
    }

    /** Sums every producer's counters into {@code into} (index 0 commands, 1 syncs, 2 full flushes, 3 changes, 4 timeouts). */
    public void counters(final long[] into)
    {
        for (int i = 0; i < 5; i++)
        {
            into[i] = 0;
        }
        final int n = Math.min(producers.get(), maxProducers);
        for (int i = 0; i <= n; i++)
        {
            final Producer p = i == n ? revocationProducer : registered[i];
            if (null != p)
            {
                into[0] += (long)STATS.getOpaque(p.stats, COMMANDS);
                into[1] += (long)STATS.getOpaque(p.stats, SYNCS);
                into[2] += (long)STATS.getOpaque(p.stats, FULL_FLUSHES);
                into[3] += (long)STATS.getOpaque(p.stats, CHANGES);
                into[4] += (long)STATS.getOpaque(p.stats, TIMEOUTS);
            }
        }
    }

    /** One producer thread's handle: scratch space, epoch reader, sync slot and counters. Not thread-safe. */
    public final class Producer
    {
        private final int slot;
        private final EpochDomain.Reader reader;
        private int[] pasids = new int[64];
        /** Word 0 of each CMD_ATC_INV of the change being emitted. */
        private long[] words0 = new long[1024];
        /** Per requester id: 0 not yet looked up, ATS_YES, ATS_NO (registered devices never change). */
        private final byte[] atsKnown = new byte[MAX_REQUESTER_IDS];
        /** {@link PasidSpace#deviceRemovals()} when {@link #atsKnown} was last cleared. */
        private int removalsSeen;
        private final BackoffIdleStrategy idle = new BackoffIdleStrategy(20_000, 1_000, 1_000, 50_000);
        private long nextToken;
        /** Sink of the record pre-touch loads (so they are not dead code). */
        private long sink;
        /** The consumer's heartbeat stood still for ASSIST_AFTER_STALL_NS: assist at once until it moves. */
        private boolean consumerStalled;
        /** The consumer's heartbeat as this producer last saw it (after its own assist, if it assisted). */
        private long heartbeatSeen;
        /** Counters at indexes 8..12 (padded from the array header): written by this producer only, opaque. */
        private final long[] stats = new long[24];

        Producer(final int slot, final EpochDomain.Reader reader)
        {
            this.slot = slot;
            this.reader = reader;
        }

        private void add(final int counter, final long delta)
        {
            // NOTE: single writer; opaque so another thread's counters() read sees a whole value, no fence needed.
            STATS.setOpaque(stats, counter, stats[counter] + delta);
        }

        /**
         * Emits the invalidations of one change and waits for its CMD_SYNC to complete.
         *
         * @return ATC invalidation commands emitted (syncs not counted), or -1 if the ring stayed full or the sync did
         *     not complete within the timeout (counted in the timeouts counter).
         */
        public int invalidate(final long mm, final long address, final long length)
        {
            final int n = emit(mm, address, length);
            if (n < 0 || awaitSync())
            {
                return n;
            }
            add(TIMEOUTS, 1);
            return -1;
        }

        /**
         * Emits the invalidations of one change, the last batch ending with CMD_SYNC, without waiting for it.
         * Allocation-free once the scratch arrays have grown to the largest fan-out seen.
         *
         * @return ATC invalidation commands emitted, or -1 on a ring-full timeout.
         */
        public int emit(final long mm, final long address, final long length)
        {
            final int removals = space.deviceRemovals();
            if (removals != removalsSeen)
            {
                // NOTE: a device was removed (and its requester id may be registered again, with or without ATS):
                // forget what this producer knew of every requester id (rare: once per removal).
                java.util.Arrays.fill(atsKnown, (byte)0);
                removalsSeen = removals;
            }
            reader.enter();
            try
            {
                final int pairCount = collect(mm);
                final long word1 = length > flushAllAboveBytes ? SIZE_ALL : invalidationWord1(address, length);
                return write(mm, address, length, pairCount, word1);
            }
            finally
            {
                reader.exit();
            }
        }

        /**
         * Walks the PASIDs of {@code mm} and the devices bound to each, and fills {@code words0} with word 0 of one
         * CMD_ATC_INV per (device with ATS, PASID). Inside the epoch critical section. Grows a scratch array (the only
         * allocation) when a walk fills it, so nothing is ever cut off.
         */
        private int collect(final long mm)
        {
            int pasidCount;
            while ((pasidCount = space.pasidsOf(mm, pasids)) == pasids.length)
            {
                pasids = new int[pasids.length * 2];
            }
            int pairCount = 0;
            for (int p = 0; p < pasidCount; p++)
            {
                final int pasid = pasids[p];
                // NOTE: the PASID's copy-on-write requester-id list, read in place (one acquire load, no copy, no
                // seq retry); immutable once published, and the PASID cannot be reused inside this critical section.
                final int[] rids = space.requesterIdsOf(pasid);
                final int ridCount = rids.length;
                if (pairCount + ridCount > words0.length)
                {
                    words0 = java.util.Arrays.copyOf(words0, Math.max(words0.length * 2, pairCount + ridCount));
                }
                final long[] words0 = this.words0;
                for (int r = 0; r < ridCount; r++)
                {
                    final int rid = rids[r];
                    if (ats(rid))
                    {
                        words0[pairCount++] = word0(OP_ATC_INV, pasid, rid);
                    }
                }
            }
            return pairCount;
        }

        /** Whether {@code requesterId} is a registered device with ATS (cached until a device is removed). */
        private boolean ats(final int requesterId)
        {
            final byte known = atsKnown[requesterId];
            if (0 != known)
            {
                return ATS_YES == known;
            }
            final Device device = space.device(requesterId);
            if (null == device)
            {
                return false;
            }
            atsKnown[requesterId] = device.ats() ? ATS_YES : ATS_NO;
            return device.ats();
        }

        /**
         * Emits one "invalidate all" for (device, PASID) and its sync, and waits (the unbind path: a driver flushes
         * the device's ATC for a PASID before it lets the PASID go).
         */
        public int invalidateAll(final Device device, final int pasid)
        {
            words0[0] = word0(OP_ATC_INV, pasid, device.requesterId());
            final int n = write(-1, 0, 0, device.ats() ? 1 : 0, SIZE_ALL);
            if (n < 0 || awaitSync())
            {
                return n;
            }
            add(TIMEOUTS, 1);
            return -1;
        }

        private int write(final long mm, final long address, final long length, final int pairCount, final long word1)
        {
            final long token = ++nextToken;
            final RingBuffer ring = AtcInvalidator.this.ring;
            final UnsafeBuffer buffer = (UnsafeBuffer)ring.buffer();
            int done = 0;
            do
            {
                final int inBatch = Math.min(batch, pairCount - done);
                final boolean last = done + inBatch == pairCount;
                final int count = inBatch + (last ? 1 : 0);
                final int recordLength = recordLength(count);
                final int index = claim(ring, recordLength);
                if (index < 0)
                {
                    return -1;
                }
                // NOTE: one load per cache line of the record before it is written: the lines were last written (the
                // consumer zeroes what it read) on another core or have left this core's caches, and independent
                // loads fetch them in parallel, where stores would stall on one fetch after another.
                long touched = 0;
                for (int offset = index + CACHE_LINE; offset < index + recordLength; offset += CACHE_LINE)
                {
                    touched += buffer.getLong(offset);
                }
                sink += touched;
                buffer.putInt(index + PRODUCER_OFFSET, slot);
                buffer.putInt(index + FLAGS_OFFSET, last ? FLAG_LAST : 0);
                buffer.putLong(index + TOKEN_OFFSET, token);
                buffer.putLong(index + MM_OFFSET, mm);
                buffer.putLong(index + ADDRESS_OFFSET, address);
                buffer.putLong(index + LENGTH_OFFSET, length);
                buffer.putInt(index + COUNT_OFFSET, count);
                int offset = index + HEADER_LENGTH;
                for (int i = done; i < done + inBatch; i++)
                {
                    buffer.putLong(offset, words0[i]);
                    buffer.putLong(offset + 8, word1);
                    offset += COMMAND_LENGTH;
                }
                if (last)
                {
                    buffer.putLong(offset, word0(OP_SYNC, 0, 0));
                    buffer.putLong(offset + 8, token);
                }
                // NOTE: commit is the ring's release store, read by the consumer's read(): the record body first.
                ring.commit(index);
                done += inBatch;
            }
            while (done < pairCount);
            add(COMMANDS, pairCount);
            add(SYNCS, 1);
            add(CHANGES, 1);
            if (SIZE_ALL == word1)
            {
                add(FULL_FLUSHES, pairCount);
            }
            return pairCount;
        }

        private int claim(final RingBuffer ring, final int length)
        {
            int index = ring.tryClaim(MSG_TYPE_BATCH, length);
            if (index >= 0)
            {
                return index;
            }
            final long deadlineNs = System.nanoTime() + syncTimeoutNs;
            idle.reset();
            final Runnable assist = AtcInvalidator.this.assist;
            while (index < 0)
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    add(TIMEOUTS, 1);
                    return -1;
                }
                if (null != assist)
                {
                    assist.run();
                }
                idle.idle();
                index = ring.tryClaim(MSG_TYPE_BATCH, length);
            }
            return index;
        }

        /** Waits for the CMD_SYNC of this producer's last change; false on timeout. */
        public boolean awaitSync()
        {
            return awaitSync(nextToken);
        }

        /**
         * The sync token of the change emitted last (tokens grow by one per change, from 1): pass it to
         * {@link #awaitSync(long)} to wait for that change later, after emitting others (several address spaces in
         * flight).
         */
        public long lastToken()
        {
            return nextToken;
        }

        /** Whether the CMD_SYNC of {@code token} (and of every earlier change of this producer) has completed. */
        public boolean synced(final long token)
        {
            // NOTE: acquire, pairs with completeSync's putLongRelease: the consumer's ATC writes happen before.
            return syncSlots.getLongAcquire(slot * SLOT_STRIDE) >= token;
        }

        /**
         * Waits, at most the sync timeout, for the CMD_SYNC of {@code token} (the consumer completes one producer's
         * syncs in the order they were emitted, so it also covers every earlier change). While waiting it backs off
         * (spin, yield, park up to 50 us); once the consumer's heartbeat ({@link #consumerPolled}) has not moved for
         * {@code ASSIST_AFTER_STALL_NS} it also runs the assist (e.g. drains the ring itself).
         *
         * @return false on timeout.
         */
        public boolean awaitSync(final long token)
        {
            if (synced(token))
            {
                return true;
            }
            final long startNs = System.nanoTime();
            final long deadlineNs = startNs + syncTimeoutNs;
            idle.reset();
            final Runnable assist = AtcInvalidator.this.assist;
            long lookedNs = startNs;
            long nowNs = startNs;
            int spins = 0;
            while (!synced(token))
            {
                // NOTE: the clock every 16 turns: one read costs tens of ns here (kvm-clock), and it would delay
                // seeing the sync by as much.
                if (0 == (++spins & 15))
                {
                    nowNs = System.nanoTime();
                    if (nowNs - deadlineNs > 0)
                    {
                        return false;
                    }
                }
                if (null != assist && (consumerStalled || nowNs - lookedNs > ASSIST_AFTER_STALL_NS))
                {
                    // NOTE: assist only when the consumer thread has stalled: its heartbeat did not move for
                    // ASSIST_AFTER_STALL_NS (it may be descheduled: fewer cores than runnable threads). Assisting at
                    // once made a waiting producer race a running consumer for its try-lock on every change (the
                    // lock's line and the ATC model's lines then moved between the two cores). Once stalled, keep
                    // assisting at once, change after change, until the consumer polls again by itself. The
                    // heartbeat, not the ring position: a producer that wins the try-lock moves the position itself,
                    // so a running consumer that found the ring drained never "moved" it and the producer kept
                    // assisting for good (seen: 20% of a producer's time in the assist of a 1+1-thread run). Looked
                    // at rarely: the consumer writes it at every poll, so each look is a cache miss for both.
                    lookedNs = nowNs;
                    final long beat = consumerHeartbeat();
                    if (beat != heartbeatSeen)
                    {
                        heartbeatSeen = beat;
                        consumerStalled = false;
                    }
                    else
                    {
                        consumerStalled = true;
                        assist.run();
                        // NOTE: re-read after our own assist (our poll beat too): only another poller clears it.
                        heartbeatSeen = consumerHeartbeat();
                    }
                }
                idle.idle();
            }
            return true;
        }

        public int slot()
        {
            return slot;
        }
    }
}
