package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

abstract class StripeRetireBagPadding1
{
    // NOTE: the int fills the 4-byte gap after a compressed object header, which the field layout (JDK 15+) would
    // otherwise fill with one of the hot ints, next to the previous stripe's epoch stamps (written by its owner).
    int p099;
    long p100, p101, p102, p103, p104, p105, p106, p107;
    long p108, p109, p110, p111, p112, p113, p114, p115;
}

abstract class StripeRetireBagHotFields extends StripeRetireBagPadding1
{
    /** Ids ever appended; written only by the owner (release store); through {@link StripeRetireBag#COUNT}. */
    @SuppressWarnings("unused") // accessed through COUNT
    volatile long count;
    /** Ids ever taken out (sealed into a RetireBag); CAS by any taker; through {@link StripeRetireBag#TAKEN}. */
    @SuppressWarnings("unused") // accessed through TAKEN
    volatile long taken;
    /** Owner only (plain): its count when it last saw the epoch move or tried an advance (the amortised advance). */
    long markCount;
    /** Owner only (plain): the epoch it saw then. */
    long markEpoch;
    /** Owner only (plain): refills left in lean mode (see EpochReclaimQueue#leanTurn). */
    int leanRefills;
    /** Owner only (plain): own retires between two amortised advances now (light or heavy cadence). */
    int paceEvery;
    /** Owner only (plain): ring size from which a thread that only frees reclaims its own ids, for that cadence. */
    int paceOwnReclaimAt;
    /** Owner only (plain): ring size at which the owner seals its oldest bag into the shared queue, for that cadence. */
    int paceSealAt;
}

abstract class StripeRetireBagPadding2 extends StripeRetireBagHotFields
{
    long p200, p201, p202, p203, p204, p205, p206, p207;
    long p208, p209, p210, p211, p212, p213, p214, p215;
}

/**
 * One cache stripe's open batch of retired ids (the crossbeam-epoch thread-local bag, per stripe here), kept as a
 * single-producer ring: the stripe's lease holder appends the ids it retires with plain stores and a release store of
 * {@code count}; a taker (the owner itself when a bag's worth is ready or the epoch moved on, or a reclaimer when the
 * oldest ids are past their grace) copies a range {@code [taken, c)} into a {@link RetireBag} and claims it with one
 * CAS of {@code taken}.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: {@link #ids}, {@link #epochs} and {@code count} are written only by the stripe's owner (the thread
 *       that leases the stripe), at index {@code count}, and only while {@code count - taken < capacity}.
 *       {@code taken} moves only by CAS, forward, by whichever taker copied the range first.</li>
 *   <li>Progress: the owner's append is wait-free (no atomic at all); a take is one CAS, lock-free; nobody waits.</li>
 *   <li>Linearization: an id enters the ring at the owner's release store of {@code count}; a range leaves it at the
 *       taker's successful CAS of {@code taken}.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Copy first, CAS second (as an MPMC ring consumer): a taker reads slots [t, c) and then CASes taken t -> c. While
 *   taken is still t the owner writes only indices below t + capacity, whose slots are outside [t, c) modulo the
 *   capacity, so a copy whose CAS succeeds was not overwritten; a copy whose CAS fails is thrown away.
 * - The owner never learns whether an id was taken, and does not need to: an id is in the ring (count) until some
 *   taker's CAS moves it out, exactly once, and the ring's ids stay reachable to a reclaimer when the owner is idle.
 * - Epochs per segment of 64 slots, not per slot (4 bytes a slot instead of 12: the ring is the owner's limbo, and a
 *   limbo that must hold several advances' worth of retires, when an advance costs a heavy barrier, is large): the
 *   stamp is the latest epoch of the segment, an upper bound of each of its ids' epochs. A range may span segments;
 *   its bag is stamped with the largest stamp (each id's own epoch or later).
 * - Padded by inheritance (JCTools style): stripes' rings are allocated back to back and each owner writes count.
 */
final class StripeRetireBag extends StripeRetireBagPadding2
{
    static final VarHandle COUNT;
    static final VarHandle TAKEN;

    static
    {
        try
        {
            COUNT = MethodHandles.lookup().findVarHandle(StripeRetireBagHotFields.class, "count", long.class);
            TAKEN = MethodHandles.lookup().findVarHandle(StripeRetireBagHotFields.class, "taken", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** Slots that share one epoch stamp (a segment): 64, so a slot costs 4 bytes and a stamp 1/8 of a byte more. */
    static final int SEGMENT_SHIFT = 6;

    final int[] ids;
    /**
     * One stamp per segment of {@code 1 << SEGMENT_SHIFT} slots: the epoch of the latest id appended to it (read after
     * its state CAS). Epochs the owner reads never decrease, so a stamp is at least the epoch of every id in its
     * segment: an id is never early, at most one advance late (an id retired just before the epoch moved, in the
     * same segment as ids retired after). Written by the owner at every append (a plain store to a line it keeps
     * hot), read by takers after their acquire of {@code count}.
     */
    final long[] epochs;
    final int mask;
    private final int segmentMask;

    StripeRetireBag(final int capacity)
    {
        this.ids = new int[capacity];
        this.epochs = new long[capacity >>> SEGMENT_SHIFT];
        this.mask = capacity - 1;
        this.segmentMask = (capacity >>> SEGMENT_SHIFT) - 1;
    }

    /**
     * The epoch stamp that covers the id at ring index {@code index}: at least its retire epoch. A taker reads it after
     * its acquire of {@code count > index}, so it sees the stamp the owner stored before releasing that count, or a
     * later (larger) one; either is safe.
     */
    long epochAt(final long index)
    {
        return epochs[(int)(index >>> SEGMENT_SHIFT) & segmentMask];
    }

    /**
     * Owner only: writes the id at ring index {@code count} and its segment's stamp with plain stores; the caller
     * publishes both with {@link #countRelease}{@code (count + 1)}. A stamp shared with ids of the previous lap (the
     * ring nearly full) only makes them wait longer.
     */
    void append(final long count, final int id, final long epoch)
    {
        ids[(int)count & mask] = id;
        epochs[(int)(count >>> SEGMENT_SHIFT) & segmentMask] = epoch;
    }

    /** Owner only: its own count (plain read of the field only it writes). */
    long countPlain()
    {
        return (long)COUNT.get(this);
    }

    /** Any taker: count (acquire), pairs with {@link #countRelease}: the slots below it are written. */
    long countAcquire()
    {
        return (long)COUNT.getAcquire(this);
    }

    /**
     * Owner only: publishes the slots written below {@code count}; read by a taker's {@link #countAcquire} and by the
     * backlog scan.
     */
    void countRelease(final long count)
    {
        COUNT.setRelease(this, count);
    }

    /** taken (acquire), pairs with the CAS in {@link #casTaken}. */
    long takenAcquire()
    {
        return (long)TAKEN.getAcquire(this);
    }

    boolean casTaken(final long expected, final long update)
    {
        return TAKEN.compareAndSet(this, expected, update);
    }
}
