package org.pasidkit.tables.internal;

/**
 * AMD-Vi command-buffer entries, 16 bytes as four 32-bit words data[0..3] (spec 48882 section 2.4 "Commands"; Linux
 * {@code amd/iommu.c} {@code build_*} functions, {@code CMD_*} in {@code amd_iommu_types.h}), stored here as two
 * little-endian longs (lo = data[1]:data[0], hi = data[3]:data[2]); and the PPR log entry (section 2.6.3).
 * <pre>
 *   data[1] [31:28] = opcode
 *   0x1 COMPLETION_WAIT          data[0]: S [0] | store address [31:3]; data[1]: address [51:32]; data[3:2]: store data
 *   0x2 INVALIDATE_DEVTAB_ENTRY  data[0]: DeviceID [15:0]
 *   0x3 INVALIDATE_IOMMU_PAGES   data[0]: PASID [19:0]; data[1]: DomainID [15:0];
 *                                data[2]: S [0] | PDE [1] | GN [2] | address [31:12]; data[3]: address [63:32]
 *   0x4 INVALIDATE_IOTLB_PAGES   data[0]: DeviceID [15:0] | PASID[15:8] [23:16] | Maxpend [31:24];
 *                                data[1]: PASID[7:0] [23:16]; data[2]: S [0] | GN [2] | address; data[3]: address
 *   0x7 COMPLETE_PPR_REQUEST     data[0]: DeviceID; data[1]: PASID; data[2]: GN [2]; data[3]: tag [8:0] | status [15:12]
 *   S = 1: the span is encoded by the lowest 0 bit of the address (build_inv_address); address 0x7FFF_FFFF_FFFF_F000
 *   with S = 1 is every page (CMD_INV_IOMMU_ALL_PAGES_ADDRESS).
 *
 *   PPR log entry (16 bytes; PPR_DEVID, PPR_PASID1/2, PPR_TAG, PPR_FLAGS, PPR_REQ_TYPE):
 *   qw0: DeviceID [15:0] | PASID[15:0] [31:16] | tag [41:32] | PASID[19:16] [45:42] | flags [59:48] | type [63:60]
 *   qw1: address
 * </pre>
 */
public final class AmdViCommandDescriptor
{
    public static final int LENGTH = 16;
    public static final int CMD_COMPL_WAIT = 0x1;
    public static final int CMD_INV_DEV_ENTRY = 0x2;
    public static final int CMD_INV_IOMMU_PAGES = 0x3;
    public static final int CMD_INV_IOTLB_PAGES = 0x4;
    public static final int CMD_COMPLETE_PPR = 0x7;

    public static final long S = 1L;
    public static final long PDE = 1L << 1;
    public static final long GN = 1L << 2;
    public static final long ALL_PAGES_ADDRESS = 0x7FFF_FFFF_FFFF_F000L;
    public static final int PPR_STATUS_SUCCESS = 0;
    public static final int PPR_STATUS_INVALID = 1;
    public static final int PPR_ENTRY_LENGTH = 16;
    public static final long PPR_REQ_FAULT = 1;
    public static final long PPR_FLAG_GN = 0x100;

    private AmdViCommandDescriptor()
    {
    }

    public static int opcode(final long lo)
    {
        return (int)(lo >>> 60);
    }

    public static long type(final int opcode)
    {
        return (long)opcode << 60;
    }

    /** build_inv_address: the address word (data[3]:data[2] without GN) of a range. */
    public static long invAddress(final long address, final long size)
    {
        final long first = address >>> 12;
        final long last = (address + Math.max(1, size) - 1) >>> 12;
        if (first == last)
        {
            return address & ~0xFFFL;
        }
        final long end = address + size - 1;
        final int msbDiff = 63 - Long.numberOfLeadingZeros(end ^ address);
        final long a = msbDiff > 51 ? ALL_PAGES_ADDRESS : address | ((1L << msbDiff) - 1);
        return (a & ~0xFFFL) | S;
    }

    public static boolean isAll(final long hi)
    {
        return 0 != (hi & S) && (hi & ~0xFFFL) == ALL_PAGES_ADDRESS;
    }

    public static long iommuPagesLo(final int pasid, final int domainId)
    {
        return (pasid & 0xFFFFFL) | ((long)(domainId & 0xFFFF) << 32) | type(CMD_INV_IOMMU_PAGES);
    }

    public static long iotlbPagesLo(final int deviceId, final int pasid, final int maxPending)
    {
        return (deviceId & 0xFFFFL) | ((long)((pasid >>> 8) & 0xFF) << 16) | ((long)(maxPending & 0xFF) << 24) |
            ((long)((pasid & 0xFF) << 16) << 32) | type(CMD_INV_IOTLB_PAGES);
    }

    public static int iommuPagesPasid(final long lo)
    {
        return (int)(lo & 0xFFFFF);
    }

    public static int iommuPagesDomainId(final long lo)
    {
        return (int)((lo >>> 32) & 0xFFFF);
    }

    public static int iotlbDeviceId(final long lo)
    {
        return (int)(lo & 0xFFFF);
    }

    public static int iotlbPasid(final long lo)
    {
        return (int)((((lo >>> 16) & 0xFF) << 8) | ((lo >>> 48) & 0xFF));
    }
}
