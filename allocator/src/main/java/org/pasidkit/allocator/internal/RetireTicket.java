package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The reclaim queue's record of one id: one canonical ticket per id, created the first time the id is retired and
 * reused for every later retirement, so retiring allocates nothing in steady state.
 *
 * <p>Tickets carry the ids retired outside a stripe's ring (see {@link StripeRetireBag}): by a thread that leases
 * no cache stripe, or through a queue built without stripes. Their stamps: see {@link RetireRecord}.</p>
 */
public final class RetireTicket extends RetireRecord
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
