package org.pasidkit.tables.internal;

/**
 * AMD-Vi guest CR3 (GCR3) tables and the device-table entry fields that point at them (AMD I/O Virtualization
 * Technology spec 48882, sections 2.2.2 "Device Table Entry Format" and 2.2.6 "Guest CR3 Table"; Linux
 * {@code amd_iommu_types.h} {@code GCR3_VALID}, {@code DTE_FLAG_GV}, {@code DTE_GLX_*}, {@code DTE_GCR3_*}): per device,
 * a tree of 4 KiB tables of 512 8-byte entries indexed by 9 PASID bits a level (GLX = levels - 1; PASID[8:0] at the
 * leaf level).
 * <pre>
 *   GCR3 table entry (8 bytes), any level:
 *    63       52 51                                   12 11          1   0
 *   +-----------+--------------------------------------+-------------+---+
 *   |           | address [51:12]: next table, or the  |             | V |
 *   |           | guest CR3 (page-table root) at a leaf|             |   |
 *   +-----------+--------------------------------------+-------------+---+
 *
 *   Device-table entry (32 bytes; the fields the GCR3 setup writes):
 *   qw0: V [0] | TV [1] | GV [55] | GLX [57:56] | GCR3 root [14:12] at [60:58]
 *   qw1: DomainID [15:0] | GCR3 root [30:15] at [31:16] | GCR3 root [51:31] at [63:43]
 * </pre>
 */
public final class AmdViGcr3TableDescriptor
{
    public static final int ENTRY_LENGTH = 8;
    public static final int LEVEL_BITS = 9;
    public static final int TABLE_ENTRIES = 1 << LEVEL_BITS;
    public static final int TABLE_LENGTH = TABLE_ENTRIES * ENTRY_LENGTH;
    public static final long GCR3_VALID = 1L;
    public static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;

    public static final int DTE_LENGTH = 32;
    public static final long DTE_V = 1L;
    public static final long DTE_TV = 1L << 1;
    public static final long DTE_GV = 1L << 55;
    public static final int DTE_GLX_SHIFT = 56;

    private AmdViGcr3TableDescriptor()
    {
    }

    /** GCR3 levels for a device of {@code pasidBits} PASID bits (9 bits a level). */
    public static int levels(final int pasidBits)
    {
        return Math.max(1, (pasidBits + LEVEL_BITS - 1) / LEVEL_BITS);
    }

    public static int index(final int pasid, final int level)
    {
        return (pasid >>> (LEVEL_BITS * level)) & (TABLE_ENTRIES - 1);
    }

    public static long dteQword0(final long gcr3Root, final int levels)
    {
        return DTE_V | DTE_TV | DTE_GV | ((long)(levels - 1) << DTE_GLX_SHIFT) | (((gcr3Root >>> 12) & 7) << 58);
    }

    public static long dteQword1(final long gcr3Root, final int domainId)
    {
        return (domainId & 0xFFFFL) | (((gcr3Root >>> 15) & 0xFFFF) << 16) | (((gcr3Root >>> 31) & 0x1F_FFFF) << 43);
    }
}
