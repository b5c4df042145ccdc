package org.pasidkit.tables;

/**
 * A PASID handle: (PASID, generation) in one {@code long}. The generation of a PASID's entry grows each time the
 * PASID is handed out again, so a handle kept past its PASID's life is stale and refused; it can never act on the
 * PASID's next owner.
 * <pre>
 *   63                32 31                 0
 *   +-------------------+--------------------+
 *   | generation        | PASID              |
 *   +-------------------+--------------------+
 * </pre>
 */
public final class PasidHandle
{
    private PasidHandle()
    {
    }

    public static long of(final int pasid, final int generation)
    {
        return ((long)generation << 32) | (pasid & 0xFFFF_FFFFL);
    }

    public static int pasid(final long handle)
    {
        return (int)handle;
    }

    public static int generation(final long handle)
    {
        return (int)(handle >>> 32);
    }

    public static String toString(final long handle)
    {
        return "PASID " + pasid(handle) + " generation " + generation(handle);
    }
}
