package org.pasidkit.tables.internal;

/**
 * Arm SMMUv3 context-descriptor table, indexed by substream ID (= PASID) (SMMUv3 spec IHI 0070, section 5.4
 * "Context Descriptor"; Linux {@code arm-smmu-v3.h} {@code CTXDESC_*}). Linear (one array of CDs) when the master has
 * at most 10 SSID bits, else two-level (as {@code arm_smmu_alloc_cd_tables} chooses with {@code CTXDESC_SPLIT} = 10):
 * an L1 table of 8-byte descriptors indexed by SSID[19:10], each pointing at a 64 KiB leaf of 1024 CDs.
 * <pre>
 *   L1 descriptor (8 bytes), index SSID[19:10]:
 *    63     52 51                                  12 11        1   0
 *   +---------+--------------------------------------+-----------+---+
 *   |         | L2Ptr [51:12]                        |           | V |
 *   +---------+--------------------------------------+-----------+---+
 *
 *   CD (64 bytes = 8 qwords), index SSID[9:0]:
 *   qw0: 5:0 T0SZ | 7:6 TG0 | 9:8 IRGN0 | 11:10 ORGN0 | 13:12 SH0 | 14 EPD0 | 15 ENDI | 30 EPD1 | 31 V |
 *        34:32 IPS | 41 AA64 | 44 S | 45 R | 46 A | 47 ASET | 63:48 ASID
 *   qw1: 51:4 TTB0 (the CPU page-table root)
 *   qw3: MAIR0
 *   A CD with V = 1 and EPD0 = 1 is "quiet": valid (no C_BAD_CD events) but translating nothing.
 * </pre>
 */
public final class SmmuV3CdTableDescriptor
{
    public static final int CD_LENGTH = 64;
    public static final int L1_DESC_LENGTH = 8;
    public static final int SPLIT = 10;
    public static final int L2_ENTRIES = 1 << SPLIT;
    public static final int L2_LENGTH = L2_ENTRIES * CD_LENGTH;

    public static final long L1_V = 1L;
    public static final long L1_L2PTR_MASK = 0x000F_FFFF_FFFF_F000L;

    public static final int QW0_OFFSET = 0;
    public static final int QW1_OFFSET = 8;
    public static final int QW3_OFFSET = 24;

    public static final long T0SZ_48 = 16;
    public static final long TG0_4K = 0L << 6;
    public static final long IRGN0_WBWA = 1L << 8;
    public static final long ORGN0_WBWA = 1L << 10;
    public static final long SH0_IS = 3L << 12;
    public static final long EPD0 = 1L << 14;
    public static final long EPD1 = 1L << 30;
    public static final long V = 1L << 31;
    public static final long IPS_48 = 5L << 32;
    public static final long AA64 = 1L << 41;
    public static final long S = 1L << 44;
    public static final long R = 1L << 45;
    public static final long A = 1L << 46;
    public static final long ASET = 1L << 47;
    public static final int ASID_SHIFT = 48;
    public static final long TTB0_MASK = 0x000F_FFFF_FFFF_FFF0L;
    public static final long MAIR = 0x0000_0000_04FF_4400L;

    private SmmuV3CdTableDescriptor()
    {
    }

    public static boolean twoLevel(final int ssidBits)
    {
        return ssidBits > SPLIT;
    }
}
