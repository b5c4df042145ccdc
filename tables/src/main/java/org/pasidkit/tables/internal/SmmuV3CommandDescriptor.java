package org.pasidkit.tables.internal;

/**
 * Arm SMMUv3 command-queue entries, 16 bytes (SMMUv3 spec section 4 "Commands"; Linux {@code arm-smmu-v3.h}
 * {@code CMDQ_*}), and the PRI queue entry (section 8.2).
 * <pre>
 *   dw0 [7:0] opcode                                           dw1
 *   0x05 CFGI_CD       dw0: SSID [31:12] | SID [63:32]         Leaf [0]
 *   0x11 TLBI_NH_ASID  dw0: ASID [63:48]                       -
 *   0x12 TLBI_NH_VA    dw0: ASID [63:48]                       Leaf [0] | Address [63:12]
 *   0x40 ATC_INV       dw0: SSV [11] | SSID [31:12] | SID [63:32]  Size [5:0] (log2 pages, 52 = all) | Address [63:12]
 *   0x41 PRI_RESP      dw0: SSV [11] | SSID [31:12] | SID [63:32]  GRPID [8:0] | Resp [13:12] (0 deny, 2 success)
 *   0x46 CMD_SYNC      dw0: CS [13:12] (2 = SEV) | MSIData [63:32] dw1: MSIAddr [51:2]
 *
 *   PRI queue entry (16 bytes): dw0: SID [31:0] | SSID [51:32] | Last [62] | SSV [63]
 *                               dw1: PRG index [8:0] | Address [63:12]
 * </pre>
 */
public final class SmmuV3CommandDescriptor
{
    public static final int LENGTH = 16;
    public static final int OP_CFGI_CD = 0x05;
    public static final int OP_TLBI_NH_ASID = 0x11;
    public static final int OP_TLBI_NH_VA = 0x12;
    public static final int OP_ATC_INV = 0x40;
    public static final int OP_PRI_RESP = 0x41;
    public static final int OP_CMD_SYNC = 0x46;

    public static final long SSV = 1L << 11;
    public static final int SIZE_ALL = 52;
    public static final long CS_SEV = 2L << 12;
    public static final int RESP_DENY = 0;
    public static final int RESP_SUCC = 2;
    public static final int PRIQ_ENTRY_LENGTH = 16;
    public static final long PRIQ_LAST = 1L << 62;
    public static final long PRIQ_SSV = 1L << 63;

    private SmmuV3CommandDescriptor()
    {
    }

    public static int opcode(final long dw0)
    {
        return (int)(dw0 & 0xFF);
    }

    public static long cfgiCd(final int sid, final int ssid)
    {
        return OP_CFGI_CD | ((long)ssid << 12) | ((long)sid << 32);
    }

    public static long tlbiAsid(final int opcode, final int asid)
    {
        return opcode | ((long)(asid & 0xFFFF) << 48);
    }

    public static long atcInv(final int sid, final int ssid)
    {
        return OP_ATC_INV | SSV | ((long)ssid << 12) | ((long)sid << 32);
    }

    public static long priResp(final int sid, final int ssid)
    {
        return OP_PRI_RESP | SSV | ((long)ssid << 12) | ((long)sid << 32);
    }

    /** dw1 of an ATC_INV of the naturally aligned 2^span pages containing address (arm_smmu_atc_inv_to_cmd). */
    public static long atcInvRange(final long address, final int span)
    {
        if (span >= SIZE_ALL)
        {
            return SIZE_ALL;
        }
        final long base = (address >>> (12 + span)) << (12 + span);
        return base | span;
    }

    public static int ssid(final long dw0)
    {
        return (int)((dw0 >>> 12) & 0xFFFFF);
    }

    public static int sid(final long dw0)
    {
        return (int)(dw0 >>> 32);
    }

    public static int asid(final long dw0)
    {
        return (int)((dw0 >>> 48) & 0xFFFF);
    }
}
