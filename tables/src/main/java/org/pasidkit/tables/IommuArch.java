package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The IOMMU architectures pasidkit models. {@link #GENERIC} is the original model ({@link AtcInvalidator} and
 * {@link SimulatedIommu}: one SMMUv3-shaped CMD_ATC_INV per (device with ATS, PASID) and a sync per change); the
 * others are {@link IommuModel}s built after their Linux drivers.
 */
public enum IommuArch
{
    /** {@link AtcInvalidator} + {@link SimulatedIommu}: ATC invalidations only, one generic 16-byte command format. */
    GENERIC("generic"),
    /** Intel VT-d scalable mode: PASID directory + 64-byte PASID entries, 256-bit queued-invalidation descriptors. */
    VTD("vtd"),
    /** Arm SMMUv3: two-level context-descriptor tables of 64-byte CDs, 16-byte command-queue entries. */
    SMMUV3("smmuv3"),
    /** AMD-Vi: per-device GCR3 tables of 8-byte entries, 16-byte commands. */
    AMD("amd");

    private final String cliName;

    IommuArch(final String cliName)
    {
        this.cliName = cliName;
    }

    public String cliName()
    {
        return cliName;
    }

    /**
     * Parses a command-line value: one of {@code generic, vtd, smmuv3, amd}, or {@code all} (the three architecture
     * models). Throws an {@link IllegalArgumentException} naming the value and the choices.
     */
    public static List<IommuArch> parse(final String value)
    {
        final String v = null == value ? "" : value.trim().toLowerCase(Locale.ROOT);
        final List<IommuArch> out = new ArrayList<>();
        if ("all".equals(v))
        {
            out.add(VTD);
            out.add(SMMUV3);
            out.add(AMD);
            return out;
        }
        for (final IommuArch arch : values())
        {
            if (arch.cliName.equals(v))
            {
                out.add(arch);
                return out;
            }
        }
        throw new IllegalArgumentException("--iommu '" + value + "' must be one of generic, vtd, smmuv3, amd, all");
    }
}
