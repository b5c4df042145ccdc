package org.pasidkit.tables.counters;

/**
 * A file that is not a readable pasidkit counters file (missing, not one, torn, truncated, of a newer layout): the
 * message names the file, the value and the rule.
 */
public final class CountersFileException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public CountersFileException(final String message)
    {
        super(message);
    }

    public CountersFileException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
