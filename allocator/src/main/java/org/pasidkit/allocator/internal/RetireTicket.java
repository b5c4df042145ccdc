package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The reclaim queue's record of one id: one canonical ticket per id, created the first time the id is retired and
 * reused for every later retirement, so retiring allocates nothing in steady state.
 *
 * <p>{@code epoch} and {@code retiredNs} are written with plain stores before the ticket is offered to the queue and
 * read by the reclaimer after it polls it: the queue's offer (release) / poll (acquire) orders them.</p>
 */
public final class RetireTicket
{
    private static final VarHandle HOLDERS;

    static
    {
        try
        {
            HOLDERS = MethodHandles.lookup().findVarHandle(RetireTicket.class, "holders", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final int id;
    long epoch;
    long retiredNs;
    @SuppressWarnings("unused") // accessed through HOLDERS
    private volatile int holders;

    RetireTicket(final int id)
    {
        this.id = id;
    }

    public int id()
    {
        return id;
    }

    int holdersAcquire()
    {
        return (int)HOLDERS.getAcquire(this);
    }

    boolean casHolders(final int expected, final int update)
    {
        return HOLDERS.compareAndSet(this, expected, update);
    }
}
