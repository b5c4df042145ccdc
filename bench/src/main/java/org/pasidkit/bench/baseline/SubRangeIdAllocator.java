package org.pasidkit.bench.baseline;

import org.pasidkit.allocator.IdAllocator;

/**
 * A baseline that can also hand out an id inside a sub-range of its range, as a device with a narrower PASID width
 * needs from a shared PASID space (Linux {@code iommu_alloc_global_pasid}: {@code ida_alloc_range} up to the device's
 * {@code max_pasids}). {@code PasidAllocator#allocate(int, int)} is pasidkit's.
 */
public interface SubRangeIdAllocator extends IdAllocator
{
    /**
     * Hands out a free id inside {@code [lo, hi]}.
     *
     * @return an id in {@code [lo, hi]}, or {@link #EXHAUSTED} when every id of it is in use.
     * @throws IllegalArgumentException if {@code [lo, hi]} is empty or not inside {@code [minId(), maxId()]}
     *     (naming both); nothing is changed then.
     */
    int allocate(int lo, int hi);
}
