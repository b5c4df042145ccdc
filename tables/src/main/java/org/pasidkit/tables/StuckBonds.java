package org.pasidkit.tables;

/**
 * A caller-owned buffer that {@link PasidSpace#stuckBonds} fills with the bonds waiting for their driver's unbind
 * after their PASID's owner went away, oldest first: PASID, device, owner and since when. Reusable; filling it
 * allocates nothing. Not thread-safe.
 */
public final class StuckBonds
{
    final int[] pasids;
    final int[] requesterIds;
    final long[] owners;
    final long[] sinceNs;
    int size;
    int total;

    /** A buffer for at most {@code capacity} bonds. */
    public StuckBonds(final int capacity)
    {
        if (capacity < 1)
        {
            throw new IllegalArgumentException("capacity " + capacity + " must be >= 1");
        }
        pasids = new int[capacity];
        requesterIds = new int[capacity];
        owners = new long[capacity];
        sinceNs = new long[capacity];
    }

    void clear()
    {
        size = 0;
        total = 0;
    }

    void add(final int pasid, final int requesterId, final long owner, final long sinceNs)
    {
        total++;
        if (size < pasids.length)
        {
            pasids[size] = pasid;
            requesterIds[size] = requesterId;
            owners[size] = owner;
            this.sinceNs[size] = sinceNs;
            size++;
        }
    }

    /** Bonds in the buffer (at most its capacity). */
    public int size()
    {
        return size;
    }

    /** Stuck bonds in the space when it was filled (may exceed {@link #size()}). */
    public int total()
    {
        return total;
    }

    public int pasid(final int i)
    {
        return pasids[check(i)];
    }

    public int requesterId(final int i)
    {
        return requesterIds[check(i)];
    }

    /** The owner key: the address-space id ({@code >= 0}) or minus the standalone owner's id. */
    public long owner(final int i)
    {
        return owners[check(i)];
    }

    /** When the PASID's owner went away, by the space's clock ({@code PasidSpace.Builder#clock}). */
    public long sinceNs(final int i)
    {
        return sinceNs[check(i)];
    }

    private int check(final int i)
    {
        if (i < 0 || i >= size)
        {
            throw new IndexOutOfBoundsException("stuck bond " + i + " must be in [0, " + size + ")");
        }
        return i;
    }
}
