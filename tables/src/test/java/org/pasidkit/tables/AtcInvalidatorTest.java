package org.pasidkit.tables;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.pasidkit.tables.internal.AtcCommandDescriptor.*;

class AtcInvalidatorTest
{
    @Test
    void rangesRoundOutToTheSmallestAlignedPowerOfTwoSpan()
    {
        assertSpan(0x5000, 4096, 5, 0);
        assertSpan(0x5800, 4096, 4, 2);      // pages 5 and 6: no aligned pair holds both, so pages 4..7
        assertSpan(0x6000, 0x2000, 6, 1);    // pages 6 and 7: the aligned pair 6..7
        assertSpan(0x7000, 0x2000, 0, 4);    // pages 7 and 8: only 0..15 is aligned and holds both
        assertSpan(0, Long.MAX_VALUE, 0, 51);  // the whole lower half: one 2^51-page span
        assertEquals(SIZE_ALL, size(invalidationWord1(0x7fff_ffff_ffff_f000L, 0x2000)), "crossing bit 63: all");
    }

    private static void assertSpan(final long address, final long length, final long firstPage, final int size)
    {
        final long word1 = invalidationWord1(address, length);
        assertEquals(size, size(word1), "size of [0x" + Long.toHexString(address) + ", +" + length + ")");
        assertEquals(firstPage, firstPage(word1), "first page of [0x" + Long.toHexString(address) + ", +" + length + ")");
    }

    @Test
    void oneCommandPerDeviceAndPasidBatchedWithOneSyncPerChange()
    {
        final PasidSpace space = PasidSpace.builder().maxPasid(1023).build();
        final Device[] devices = new Device[10];
        for (int d = 0; d < devices.length; d++)
        {
            devices[d] = space.addDevice(d + 1, 20, d != 9, null);
        }
        final long shared = space.bind(1, devices[0], "s", 0);
        for (int d = 1; d < devices.length; d++)
        {
            space.bind(1, devices[d], "s", 0);
        }
        for (int k = 0; k < 9; k++)
        {
            final long p = space.bind(1, devices[0], "p", PasidSpace.PRIVATE);
            for (int d = 1; d < devices.length; d++)
            {
                space.bindTo(p, devices[d], "p");
            }
        }
        final AtcInvalidator invalidator = new AtcInvalidator(space, 1 << 16, 16, 1 << 21, 1_000_000_000L, 2);
        final SimulatedIommu iommu = new SimulatedIommu(invalidator);
        final AtcInvalidator.Producer producer = invalidator.newProducer();
        final int[] pasids = new int[16];
        final int n = space.pasidsOf(1, pasids);
        assertEquals(10, n);
        for (int p = 0; p < n; p++)
        {
            for (final Device d : devices)
            {
                iommu.touch(d, pasids[p], 0x10000);
                iommu.touch(d, pasids[p], 0x90000);
            }
        }
        assertEquals(90, producer.emit(1, 0x10000, 4096), "9 ATS devices x 10 PASIDs");
        int records = 0;
        int polled;
        while ((polled = iommu.poll(100)) > 0)
        {
            records += polled;
        }
        assertEquals(6, records, "90 commands + 1 sync in batches of 16");
        assertTrue(producer.awaitSync());
        assertEquals(0, iommu.staleTranslations());
        assertEquals(1, iommu.syncsCompleted());
        assertEquals(1, iommu.cached(devices[0], PasidHandle.pasid(shared)), "the page outside the range stays");
        assertEquals(0, iommu.cached(devices[9], PasidHandle.pasid(shared)), "a device without ATS caches nothing");
    }
}
