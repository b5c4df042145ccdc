package org.pasidkit.tables;

/**
 * One IOMMU architecture's driver and hardware, as a model: its PASID-indexed table format (real bit layouts in
 * Agrona buffers, written in the order the Linux driver writes them), its invalidation commands (written into a
 * command queue in the driver's order and batching) and a simulated IOMMU that consumes the queue and checks the
 * order, reporting every breach as a violation (a PASID reused before its device-TLB invalidation completed, an entry
 * made present before its root pointer, a device-TLB invalidated while the IOMMU could still refill it, a page request
 * of a PASID's previous life still queued at its reuse, ...).
 *
 * <p>The calls follow the SVA life cycle as the Linux core drives a driver: {@link #bind} (set_dev_pasid), one
 * {@link #invalidateRange} per PASID and address-space change (the mmu notifier's arch_invalidate_secondary_tlbs),
 * {@link #release} at address-space exit (the notifier's release: quiesce, devices may still issue DMA), {@link #unbind}
 * when each driver lets go (remove_dev_pasid: teardown and page-request drain; the PASID may be reused only after it
 * returns).</p>
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: not thread-safe. The control path of a driver is serialized (the IOMMU driver's own locks); callers
 *       with several threads serialize their calls on the model (the fan-out replay locks it).</li>
 *   <li>Progress: blocking only in the sense a driver's {@code qi_submit_sync} / {@code CMD_SYNC} wait is: the
 *       simulated IOMMU runs synchronously when the driver waits or the queue is full, so every call returns.</li>
 *   <li>Allocation: none per {@link #invalidateRange} once every (device, PASID) has been seen (state arrays grow on a
 *       new pair; the command log, off by default, allocates).</li>
 * </ul>
 */
public interface IommuModel
{
    /** Default size above which a change invalidates everything of the PASID (as the generic model's 2 MiB). */
    long DEFAULT_FLUSH_ALL_ABOVE_BYTES = 2L << 20;

    /** A model of {@code arch} ({@code VTD, SMMUV3, AMD}); {@link IommuArch#GENERIC} has no model object. */
    static IommuModel create(final IommuArch arch)
    {
        return create(arch, DEFAULT_FLUSH_ALL_ABOVE_BYTES);
    }

    /**
     * @param flushAllAboveBytes changes longer than this invalidate the whole PASID (IOTLB and device TLB) instead of
     *                           the range, where the driver has such a rule (SMMUv3 without range invalidation: 512
     *                           pages, {@code CMDQ_MAX_TLBI_OPS}); must be >= 4096.
     */
    static IommuModel create(final IommuArch arch, final long flushAllAboveBytes)
    {
        if (flushAllAboveBytes < 4096)
        {
            throw new IllegalArgumentException("flush-all threshold " + flushAllAboveBytes + " must be >= 4096 bytes");
        }
        switch (arch)
        {
            case VTD:
                return new VtdIommuModel(flushAllAboveBytes);
            case SMMUV3:
                return new SmmuV3IommuModel(flushAllAboveBytes, false);
            case AMD:
                return new AmdViIommuModel(flushAllAboveBytes);
            default:
                throw new IllegalArgumentException("IOMMU " + arch.cliName() + " has no IommuModel (it is the " +
                    "AtcInvalidator + SimulatedIommu pair); choose vtd, smmuv3 or amd");
        }
    }

    IommuArch arch();

    /** Registers a device (its requester id and ATS; the models give page requests (PRI) to the devices with ATS). */
    void addDevice(Device device);

    /** Binds {@code pasid} on {@code device} to the page table at {@code pageTableRoot} (4 KiB aligned, non-zero). */
    void bind(Device device, int pasid, long pageTableRoot);

    /** One address-space change as seen through {@code pasid}: invalidates IOTLB and device TLBs for the range. */
    void invalidateRange(int pasid, long address, long length);

    /** The address space behind {@code pasid} exits: quiesce the PASID on every device bound to it. */
    void release(int pasid);

    /** The driver of {@code device} unbinds {@code pasid}: teardown, page-request drain; reusable afterwards. */
    void unbind(Device device, int pasid);

    /**
     * Device side: {@code device} sends a page request (PRI) for {@code address} in {@code pasid}; the IOMMU writes it
     * into its page-request queue. Returns false if the device has no PRI or the queue is full (the request is
     * dropped, as hardware sets the overflow bit).
     */
    boolean pageRequest(Device device, int pasid, long address);

    /** Driver side: handles every queued page request (a success response for each); returns how many. */
    int servicePageRequests();

    /** Records every consumed command as text (for tests and diagnostics; allocates). */
    void logCommands(boolean on);

    /** The commands the simulated IOMMU consumed since the last call, as text, oldest first (needs logCommands). */
    java.util.List<String> drainLog();

    /** A snapshot of the counters. */
    IommuCounts counts();
}
