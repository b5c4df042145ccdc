package org.pasidkit.tables.internal;

/**
 * Intel VT-d queued-invalidation descriptors, 256-bit as scalable mode requires (VT-d spec section 6.5.2; the
 * invalidation queue uses 256-bit descriptors when IQA_REG.DW = 1, which Linux sets when scalable mode is on:
 * {@code __dmar_enable_qi} in {@code intel/dmar.c}). Field macros as in Linux {@code intel/iommu.h} ({@code QI_PC_*},
 * {@code QI_EIOTLB_*}, {@code QI_DEV_EIOTLB_*}, {@code QI_IWD_*}, {@code QI_PGRP_*}); qw2 and qw3 are 0 for these.
 * <pre>
 *   qw0 bits 3:0 = type[3:0], bits 11:9 = type[6:4]
 *   type 7  PASID-cache invalidate:      qw0: G [5:4] (1 = PASID-selective) | DID [31:16] | PASID [51:32]
 *   type 6  PASID-based IOTLB (P_IOTLB): qw0: G [5:4] (2 = all of the PASID, 3 = page-selective) | DID [31:16] |
 *                                        PASID [51:32];  qw1: AM [5:0] | IH [6] | ADDR [63:12]
 *   type 8  PASID-based device-TLB:      qw0: PFSID[3:0] [15:12] | SID [31:16] | PASID [51:32] | PFSID[15:4] [63:52]
 *                                        qw1: S [11] | ADDR [63:12]  (S=1: the span is encoded by the lowest 0 bit
 *                                        of ADDR[63:12]; all 1s below bit 63 = every page)
 *   type 5  invalidation wait:           qw0: SW [5] | FN [6] (fence) | PD [7] (page-request drain) |
 *                                        status data [63:32];  qw1: status address [63:2]
 *   type 9  page group response:         qw0: PASID present [4] | response code [15:12] | requester id [31:16] |
 *                                        PASID [51:32];  qw1: LPIG [2] | PRG index [11:3]
 *
 *   Page request descriptor (the page-request queue, 32 bytes; spec section 7.5.1):
 *   qw0: type [7:0] (1) | PASID present [8] | requester id [31:16] | PASID [51:32]
 *   qw1: read [0] | write [1] | LPIG [2] | PRG index [11:3] | ADDR [63:12];  qw2, qw3: private data
 * </pre>
 */
public final class VtdInvalidationDescriptor
{
    public static final int LENGTH = 32;
    public static final int QW0_OFFSET = 0;
    public static final int QW1_OFFSET = 8;
    public static final int QW2_OFFSET = 16;
    public static final int QW3_OFFSET = 24;

    public static final int TYPE_IWD = 5;
    public static final int TYPE_P_IOTLB = 6;
    public static final int TYPE_PC = 7;
    public static final int TYPE_P_DEVTLB = 8;
    public static final int TYPE_PGRP_RESP = 9;

    public static final int GRAN_PC_PASID_SEL = 1;
    public static final int GRAN_NONG_PASID = 2;
    public static final int GRAN_PSI_PASID = 3;

    public static final long IWD_STATUS_WRITE = 1L << 5;
    public static final long IWD_FENCE = 1L << 6;
    public static final long IWD_PRQ_DRAIN = 1L << 7;
    public static final long DEVTLB_SIZE = 1L << 11;
    public static final long ADDR_MASK = ~0xFFFL;
    /** ADDR of a device-TLB invalidation of every page (S = 1, all ones below bit 63). */
    public static final long DEVTLB_ALL_ADDR = 0x7FFF_FFFF_FFFF_F000L;

    public static final int RESP_SUCCESS = 0;
    public static final int RESP_INVALID = 1;

    public static final int PRQ_ENTRY_LENGTH = 32;

    private VtdInvalidationDescriptor()
    {
    }

    public static int type(final long qw0)
    {
        return (int)((qw0 & 0xF) | ((qw0 >>> 9) & 0x7) << 4);
    }

    public static long pasidCache(final int did, final int pasid)
    {
        return TYPE_PC | ((long)GRAN_PC_PASID_SEL << 4) | ((long)(did & 0xFFFF) << 16) | ((long)pasid << 32);
    }

    public static long pIotlb(final int granularity, final int did, final int pasid)
    {
        return TYPE_P_IOTLB | ((long)granularity << 4) | ((long)(did & 0xFFFF) << 16) | ((long)pasid << 32);
    }

    public static long pDevtlb(final int sid, final int pfsid, final int pasid)
    {
        return TYPE_P_DEVTLB | ((long)(pfsid & 0xF) << 12) | ((long)(sid & 0xFFFF) << 16) | ((long)pasid << 32) |
            ((long)(pfsid & 0xFFF0) << 48);
    }

    /** qw1 of a device-TLB invalidation of the naturally aligned 2^spanLog2 pages containing address. */
    public static long devtlbAddress(final long address, final int spanLog2)
    {
        if (spanLog2 >= 51)
        {
            return DEVTLB_ALL_ADDR | DEVTLB_SIZE;
        }
        if (0 == spanLog2)
        {
            return address & ADDR_MASK;
        }
        final long base = (address >>> (12 + spanLog2)) << (12 + spanLog2);
        return ((base | ((1L << (12 + spanLog2 - 1)) - 1)) & ADDR_MASK) | DEVTLB_SIZE;
    }

    public static long iwd(final long flags, final int statusData)
    {
        return TYPE_IWD | IWD_STATUS_WRITE | flags | ((long)statusData << 32);
    }

    public static long pageGroupResponse(final int requesterId, final int pasid, final int code)
    {
        return TYPE_PGRP_RESP | (1L << 4) | ((long)(code & 0xF) << 12) | ((long)(requesterId & 0xFFFF) << 16) |
            ((long)pasid << 32);
    }

    public static int granularity(final long qw0)
    {
        return (int)((qw0 >>> 4) & 3);
    }

    public static int did(final long qw0)
    {
        return (int)((qw0 >>> 16) & 0xFFFF);
    }

    public static int pasid(final long qw0)
    {
        return (int)((qw0 >>> 32) & 0xFFFFF);
    }

    public static int sid(final long qw0)
    {
        return (int)((qw0 >>> 16) & 0xFFFF);
    }
}
