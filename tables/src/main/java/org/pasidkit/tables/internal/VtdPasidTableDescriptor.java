package org.pasidkit.tables.internal;

/**
 * Intel VT-d scalable-mode PASID table (VT-d spec 3.x, section 9.4 "Scalable-Mode PASID Directory Entry" and 9.5
 * "Scalable-Mode PASID Table Entry"; Linux {@code drivers/iommu/intel/pasid.h}, {@code pasid.c}): a per-device PASID
 * directory of 8-byte entries indexed by PASID[19:6], each pointing at a 4 KiB PASID table of 64 entries of 64 bytes
 * indexed by PASID[5:0]. Only the fields the first-level (SVA) setup writes are named.
 * <pre>
 *   PASID directory entry (8 bytes), index PASID[19:6]:
 *    63                                              12 11           1   0
 *   +--------------------------------------------------+--------------+---+
 *   | PTPTR: PASID-table pointer [63:12]               |   reserved   | P |
 *   +--------------------------------------------------+--------------+---+
 *
 *   PASID table entry (64 bytes = 8 qwords), index PASID[5:0]:
 *   qw0:  63          12 11   9  8    6  5  4   2  1    0
 *        +--------------+------+-------+----+-----+-----+---+
 *        | SLPTPTR      |      | PGTT  |    | AW  | FPD | P |     PGTT 1 = first-level only, 4 = pass-through
 *        +--------------+------+-------+----+-----+-----+---+
 *   qw1:  bit 24 PGSNP | bit 23 PWSNP | bits 15:0 DID (domain id)
 *   qw2:  63          12 11     6   5     4    3  2   1  0
 *        +--------------+--------+-----+-----+------+-----+
 *        | FLPTR        |        | NXE | WPE | FLPM |     |    FLPTR: first-level (CPU) page-table root
 *        +--------------+--------+-----+-----+------+-----+
 *   qw3..qw7: 0 for first-level translation
 * </pre>
 */
public final class VtdPasidTableDescriptor
{
    public static final int DIRECTORY_ENTRY_LENGTH = 8;
    public static final int PDE_SHIFT = 6;
    public static final int TABLE_ENTRIES = 1 << PDE_SHIFT;
    public static final int PTE_MASK = TABLE_ENTRIES - 1;
    public static final int ENTRY_LENGTH = 64;
    public static final int TABLE_LENGTH = TABLE_ENTRIES * ENTRY_LENGTH;

    public static final long PDE_PRESENT = 1L;
    public static final long ADDRESS_MASK = ~0xFFFL;

    public static final int ENTRY_QW0_OFFSET = 0;
    public static final int ENTRY_QW1_OFFSET = 8;
    public static final int ENTRY_QW2_OFFSET = 16;

    public static final long PTE_PRESENT = 1L;
    public static final long PTE_FPD = 1L << 1;
    public static final int AW_SHIFT = 2;
    public static final int PGTT_SHIFT = 6;
    public static final long PGTT_MASK = 7L << PGTT_SHIFT;
    public static final int PGTT_FL_ONLY = 1;
    public static final long DID_MASK = 0xFFFFL;
    public static final long PWSNP = 1L << 23;
    public static final long NXE = 1L << 5;

    private VtdPasidTableDescriptor()
    {
    }

    public static int directoryIndex(final int pasid)
    {
        return pasid >>> PDE_SHIFT;
    }

    public static int entryOffset(final int pasid)
    {
        return (pasid & PTE_MASK) * ENTRY_LENGTH;
    }

    public static int checkDirectoryCapacity(final int maxPasid)
    {
        return ((maxPasid >>> PDE_SHIFT) + 1) * DIRECTORY_ENTRY_LENGTH;
    }
}
