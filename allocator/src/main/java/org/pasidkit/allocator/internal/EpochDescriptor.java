package org.pasidkit.allocator.internal;

/**
 * Layout of an epoch domain: the global epoch, then one 128-byte reader slot a reader, so readers never share a
 * cache line (or an adjacent-line prefetch pair) with each other or with the global epoch.
 * <pre>
 *   0                 8                         128               136          256
 *   +-----------------+-------------------------+-----------------+------------+
 *   | global epoch    | padding                 | high water      | padding    |
 *   | long            |                         | int: slots used |            |
 *   +-----------------+-------------------------+-----------------+------------+
 *   256 + 128 * i: reader slot i
 *   0                             8                   12                 16                       128
 *   +-----------------------------+-------------------+------------------+------------------------+
 *   | pin word (long)             | registered (int)  | depth (int)      | padding to 128         |
 *   | (epoch &lt;&lt; 1) | 1 inside    | 1 = taken         | nested entries   |                        |
 *   | 0 outside                   | 0 = free          | beyond the first;|                        |
 *   |                             |                   | plain, owner only|                        |
 *   +-----------------------------+-------------------+------------------+------------------------+
 * </pre>
 */
public final class EpochDescriptor
{
    public static final int GLOBAL_EPOCH_OFFSET = 0;
    public static final int HIGH_WATER_OFFSET = 128;
    public static final int SLOTS_OFFSET = 256;
    public static final int SLOT_LENGTH = 128;
    public static final int PIN_OFFSET = 0;
    public static final int REGISTERED_OFFSET = 8;
    /**
     * The reader's nested critical-section entries beyond the outermost one (0 when inside once or outside; the pin
     * word says which): written and read by the reader's thread only (plain).
     */
    public static final int DEPTH_OFFSET = 12;
    public static final long PINNED = 1L;
    public static final int MAX_READERS = 1 << 16;

    private EpochDescriptor()
    {
    }

    public static int lengthBytes(final int maxReaders)
    {
        return SLOTS_OFFSET + maxReaders * SLOT_LENGTH;
    }

    public static int slotOffset(final int slot)
    {
        return SLOTS_OFFSET + slot * SLOT_LENGTH;
    }

    public static long pinWord(final long epoch)
    {
        return (epoch << 1) | PINNED;
    }

    public static void checkCapacity(final int maxReaders)
    {
        if (maxReaders < 1 || maxReaders > MAX_READERS)
        {
            throw new IllegalArgumentException("maxReaders " + maxReaders + " must be in [1, " + MAX_READERS + "]");
        }
    }
}
