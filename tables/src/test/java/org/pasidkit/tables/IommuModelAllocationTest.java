package org.pasidkit.tables;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A model's change path allocates nothing once its (device, PASID) pairs exist (the command log off). */
class IommuModelAllocationTest
{
    @ParameterizedTest
    @EnumSource(value = IommuArch.class, names = {"VTD", "SMMUV3", "AMD"})
    void changePathAllocatesNothing(final IommuArch arch)
    {
        final com.sun.management.ThreadMXBean bean =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final IommuModel m = IommuModel.create(arch);
        // Devices come from a space (their constructor is the space's); the models read requester id and ATS only.
        final PasidSpace space = PasidSpace.builder().maxPasid((1 << 20) - 1).build();
        final Device[] devices = new Device[16];
        for (int d = 0; d < devices.length; d++)
        {
            devices[d] = space.addDevice(0x100 + d * 8, 20, d % 4 != 3, null);
            m.addDevice(devices[d]);
        }
        for (int pasid = 1; pasid <= 4; pasid++)
        {
            for (final Device device : devices)
            {
                m.bind(device, pasid, 0x1000L * pasid);
            }
        }
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 20 && allocated > 0; round++)
        {
            final long tid = Thread.currentThread().getId();
            final long before = bean.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 20_000; i++)
            {
                for (int pasid = 1; pasid <= 4; pasid++)
                {
                    m.invalidateRange(pasid, 0x7f0000000000L + i * 4096L, 4096 + (i & 7) * 8192L);
                }
            }
            allocated = bean.getThreadAllocatedBytes(tid) - before;
        }
        assertEquals(0, allocated, arch + ": bytes allocated by 80,000 range invalidations after warm-up");
        assertEquals(0, m.counts().violations());
    }
}
