package org.pasidkit.tables.internal;

/**
 * Layout of the invalidation command ring's records: one record is one batch of at most {@code batch} 16-byte
 * commands (SMMUv3 {@code CMD_ATC_INV} / {@code CMD_SYNC} shapes), behind a header that names the change.
 * <pre>
 *   record (an Agrona ring-buffer message, type {@link #MSG_TYPE_BATCH}):
 *   0            4          8               16         24         32         40        44        48
 *   +------------+----------+---------------+----------+----------+----------+---------+---------+-----------
 *   | producer   | flags    | sync token    | mm       | address  | length   | count   | pad     | commands
 *   | slot (int) | LAST=1   | long          | long     | long     | long     | int     |         | count x 16
 *   +------------+----------+---------------+----------+----------+----------+---------+---------+-----------
 *
 *   command, 16 bytes:
 *   word 0: opcode [7:0] | SSID = PASID [31:12] | SID = requester id [63:32]
 *   word 1: size [5:0] (log2 of the span in 4 KiB pages; 52 = all) | address [63:12] (span-aligned)
 *   CMD_SYNC: word 0 = opcode, word 1 = the producer's sync token.
 * </pre>
 */
public final class AtcCommandDescriptor
{
    public static final int MSG_TYPE_BATCH = 1;

    public static final int PRODUCER_OFFSET = 0;
    public static final int FLAGS_OFFSET = 4;
    public static final int TOKEN_OFFSET = 8;
    public static final int MM_OFFSET = 16;
    public static final int ADDRESS_OFFSET = 24;
    public static final int LENGTH_OFFSET = 32;
    public static final int COUNT_OFFSET = 40;
    public static final int HEADER_LENGTH = 48;
    public static final int COMMAND_LENGTH = 16;

    public static final int FLAG_LAST = 1;

    /** SMMUv3 opcode of CMD_ATC_INV. */
    public static final int OP_ATC_INV = 0x40;
    /** SMMUv3 opcode of CMD_SYNC. */
    public static final int OP_SYNC = 0x46;
    /** Size field meaning "the whole address space" (SMMUv3 ATC_INV_SIZE_ALL). */
    public static final int SIZE_ALL = 52;
    public static final int PAGE_SHIFT = 12;

    private AtcCommandDescriptor()
    {
    }

    public static int recordLength(final int commands)
    {
        return HEADER_LENGTH + commands * COMMAND_LENGTH;
    }

    public static long word0(final int opcode, final int pasid, final int requesterId)
    {
        return (opcode & 0xFFL) | ((pasid & 0xFFFFFL) << 12) | ((long)(requesterId & 0xFFFF) << 32);
    }

    public static int opcode(final long word0)
    {
        return (int)(word0 & 0xFF);
    }

    public static int pasid(final long word0)
    {
        return (int)((word0 >>> 12) & 0xFFFFF);
    }

    public static int requesterId(final long word0)
    {
        return (int)((word0 >>> 32) & 0xFFFF);
    }

    /**
     * Word 1 of an ATC invalidation covering {@code [address, address + length)}, rounded out to the smallest
     * naturally aligned power-of-two span of pages (as Linux arm_smmu_atc_inv_to_cmd does).
     */
    public static long invalidationWord1(final long address, final long length)
    {
        final long first = address >>> PAGE_SHIFT;
        final long last = (address + Math.max(1, length) - 1) >>> PAGE_SHIFT;
        final int span = 64 - Long.numberOfLeadingZeros(first ^ last);
        if (span >= SIZE_ALL)
        {
            return SIZE_ALL;
        }
        final long base = (first >>> span) << span;
        return (base << PAGE_SHIFT) | span;
    }

    public static int size(final long word1)
    {
        return (int)(word1 & 0x3F);
    }

    public static long firstPage(final long word1)
    {
        return word1 >>> PAGE_SHIFT;
    }
}
