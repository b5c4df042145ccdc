package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

abstract class StripeRetireBagPadding1
{
    long p100, p101, p102, p103, p104, p105, p106, p107;
    long p108, p109, p110, p111, p112, p113, p114, p115;
}

abstract class StripeRetireBagHotFields extends StripeRetireBagPadding1
{
    /** count of ids in {@code ids} | {@link StripeRetireBag#SEALED}; through {@link StripeRetireBag#WORD}. */
    @SuppressWarnings("unused") // accessed through WORD
    volatile int word;
    /** Epoch every id of the open bag was retired in. Written by the owner before its CAS of word 0 -> 1. */
    long openEpoch;
}

abstract class StripeRetireBagPadding2 extends StripeRetireBagHotFields
{
    long p200, p201, p202, p203, p204, p205, p206, p207;
    long p208, p209, p210, p211, p212, p213, p214, p215;
}

/**
 * One cache stripe's open batch of retired ids (the crossbeam-epoch thread-local bag, per stripe here): the stripe's
 * lease holder appends the ids it retires; the batch is sealed (copied into a {@link RetireBag} and queued) when it is
 * full, when the owner retires in a newer epoch, or by a reclaimer when it is two epochs old.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: {@link #ids} slots and {@link #openEpoch} are written only by the stripe's owner (the thread that
 *       leases the stripe), and only at indices {@code >=} the count in {@link #word}. The word is changed by CAS only:
 *       the owner {@code n -> n + 1} (append), any sealer {@code n -> n | SEALED} (owner or a reclaimer), and the
 *       sealer that won resets it to 0 with a release store once it has copied {@code ids[0 .. n)}.</li>
 *   <li>Progress: every step is a single CAS or store; a failed CAS means another thread sealed the bag, and the
 *       owner then queues its id on its own (a ticket), so no one ever waits.</li>
 *   <li>Linearization: an id enters the bag at the owner's successful {@code n -> n + 1} CAS; the bag is taken at the
 *       successful sealing CAS; every id counted before it is copied, none after it.</li>
 * </ul>
 */
/*
 * Design notes.
 * - Why the owner's append is a CAS and not a release store of the count: a reclaimer's seal (CAS n -> n | SEALED)
 *   racing a plain store n + 1 is overwritten by it (the seal is lost, the ids copied twice) or misses the new id
 *   (stranded RETIRED). The CAS costs what the queue's XADD offer cost per id before; what batching saves is the rest
 *   (the per-id ticket, its stamps, the queue's element store and poll).
 * - Why copy on seal instead of queueing this object: the owner may hold this object while a reclaimer seals it. A
 *   fixed per-stripe object never goes to another stripe, so the owner's stale slot write (at the index it read, at
 *   or above the sealed count) can never land in a batch someone else is copying or reclaiming.
 * - Padded by inheritance (JCTools style): stripes' bags are allocated back to back and each owner CASes its word.
 */
final class StripeRetireBag extends StripeRetireBagPadding2
{
    /** Set in {@link #word} while a sealer copies the bag; the owner queues its retired ids as tickets meanwhile. */
    static final int SEALED = 1 << 30;
    static final int COUNT_MASK = SEALED - 1;

    static final VarHandle WORD;

    static
    {
        try
        {
            WORD = MethodHandles.lookup().findVarHandle(StripeRetireBagHotFields.class, "word", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final int[] ids;

    StripeRetireBag(final int capacity)
    {
        this.ids = new int[capacity];
    }

    /** The word (acquire load): pairs with the owner's append CAS and the sealer's reset (release). */
    int wordAcquire()
    {
        return (int)WORD.getAcquire(this);
    }

    boolean casWord(final int expected, final int update)
    {
        return WORD.compareAndSet(this, expected, update);
    }

    /**
     * The sealer's reset to an empty, open bag once it has copied the ids; read by the owner's {@link #wordAcquire}
     * (its next append writes slots the copy has finished reading) and by the backlog scan's (the copy is queued).
     */
    void wordRelease(final int word)
    {
        WORD.setRelease(this, word);
    }

    /** Ids the bag holds now, sealed or not. */
    static int count(final int word)
    {
        return word & COUNT_MASK;
    }
}
