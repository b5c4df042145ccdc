package org.pasidkit.allocator;

/**
 * Thrown by the checked allocation calls when no id can be handed out. {@link #inGrace()} tells "wait and retry"
 * (ids are in their grace period) apart from "the range is full".
 */
public final class IdsExhaustedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final boolean inGrace;

    public IdsExhaustedException(final String message, final boolean inGrace)
    {
        super(message);
        this.inGrace = inGrace;
    }

    /** True if every id not in use is waiting out its grace period. */
    public boolean inGrace()
    {
        return inGrace;
    }
}
