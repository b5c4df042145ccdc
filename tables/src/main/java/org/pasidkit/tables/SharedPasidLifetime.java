package org.pasidkit.tables;

/** How long an address space keeps its shared PASID (an option of {@link PasidSpace.Builder#sharedPasidLifetime}). */
public enum SharedPasidLifetime
{
    /**
     * The default, as Linux does since 6.4 ({@code mm->iommu_mm->pasid}, dropped by {@code mm_pasid_drop} at the
     * mm's last reference): the shared PASID stays the address space's until it exits, even with no device bound, so
     * a rebind gets the same PASID (ENQCMD-style devices rely on it).
     */
    ADDRESS_SPACE,
    /** The earlier behaviour: the shared PASID is freed (through the grace period) at its last unbind. */
    LAST_UNBIND
}
