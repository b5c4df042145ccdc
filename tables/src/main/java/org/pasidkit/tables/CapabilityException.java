package org.pasidkit.tables;

/**
 * A life-cycle call presented a capability (owner, address space, bond, device, handle) that does not authorise it.
 * The message names the value and the rule; {@link #kind()} says which rule. Nothing was changed.
 */
public final class CapabilityException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;

    private final RefusalKind kind;

    CapabilityException(final RefusalKind kind, final String message)
    {
        super(kind.name().toLowerCase(java.util.Locale.ROOT) + ": " + message);
        this.kind = kind;
    }

    public RefusalKind kind()
    {
        return kind;
    }
}
