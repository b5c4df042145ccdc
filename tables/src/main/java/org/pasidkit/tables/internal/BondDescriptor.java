package org.pasidkit.tables.internal;

/**
 * Layout of the off-heap bond table: one 32-byte record a bond slot, in chunks of 4096 records allocated on first
 * use; slot 0 is never used (0 means "no bond").
 * The driver's data object of slot {@code s} lives on-heap at {@code drvdata[s]}.
 * <pre>
 *   0        8                         16              20               24        28      32
 *   +--------+-------------------------+---------------+----------------+---------+-------+
 *   | seq    | key: pasid &lt;&lt; 16 | rid   | next of pasid | next of device | flags   | pad   |
 *   | long   | long (0 = free slot)    | int slot      | int slot       | int     |       |
 *   +--------+-------------------------+---------------+----------------+---------+-------+
 *   seq: odd while the (single) writer changes the slot; readers validate key and drvdata against it.
 * </pre>
 */
public final class BondDescriptor
{
    public static final int RECORD_LENGTH = 32;
    public static final int SEQ_OFFSET = 0;
    public static final int KEY_OFFSET = 8;
    public static final int NEXT_OF_PASID_OFFSET = 16;
    public static final int NEXT_OF_DEVICE_OFFSET = 20;
    public static final int FLAGS_OFFSET = 24;

    /** The bond's driver was sent its exit event. */
    public static final int FLAG_EXIT_NOTIFIED = 1;

    private BondDescriptor()
    {
    }

    public static long key(final int pasid, final int requesterId)
    {
        return ((long)pasid << 16) | (requesterId & 0xFFFF);
    }

    /** Offset of a slot's record inside its chunk of 4096 records. */
    public static int offset(final int slot)
    {
        return (slot & 4095) * RECORD_LENGTH;
    }

    public static void checkCapacity(final int capacity)
    {
        if (capacity < 2 || capacity > (1 << 24))
        {
            throw new IllegalArgumentException("bond capacity " + capacity + " must be in [2, " + (1 << 24) + "]");
        }
    }
}
