package org.pasidkit.bench.fanout;

import java.util.ArrayList;
import java.util.List;

import org.pasidkit.tables.Device;
import org.pasidkit.tables.IommuArch;
import org.pasidkit.tables.IommuCounts;
import org.pasidkit.tables.IommuModel;

/**
 * The architecture models a replay drives beside the generic one: every call the replay makes on a model goes through
 * here (one place to port when the life-cycle API changes). A model is a driver's control path and not thread-safe:
 * each call locks the model (producer threads replay different address spaces but share the IOMMUs).
 */
final class IommuModelFan
{
    private final IommuModel[] models;

    IommuModelFan(final List<IommuArch> archs, final long flushAllAboveBytes, final Device[] devices)
    {
        final List<IommuModel> list = new ArrayList<>();
        for (final IommuArch arch : archs)
        {
            if (IommuArch.GENERIC != arch)
            {
                final IommuModel model = IommuModel.create(arch, flushAllAboveBytes);
                for (final Device device : devices)
                {
                    model.addDevice(device);
                }
                list.add(model);
            }
        }
        this.models = list.toArray(new IommuModel[0]);
    }

    boolean isEmpty()
    {
        return 0 == models.length;
    }

    /** The page-table root the models install for an address space (its mm->pgd stand-in, 4 KiB aligned). */
    static long root(final long mm)
    {
        return ((mm & 0xFFFF_FFFFL) + 1) << 12;
    }

    /** Address-space start: every PASID of it bound on every device. */
    void bound(final long mm, final int[] pasids, final int pasidCount, final Device[] devices)
    {
        for (final IommuModel model : models)
        {
            synchronized (model)
            {
                for (int p = 0; p < pasidCount; p++)
                {
                    for (final Device device : devices)
                    {
                        model.bind(device, pasids[p], root(mm));
                    }
                }
            }
        }
    }

    /**
     * One change: the page requests of earlier changes are answered, one is queued every {@code pageRequestEvery}
     * changes (device 0, each PASID), then each PASID's range invalidation.
     */
    void changed(final long changeNumber, final int[] pasids, final int pasidCount, final long address,
        final long length, final Device requester, final int pageRequestEvery)
    {
        for (final IommuModel model : models)
        {
            synchronized (model)
            {
                model.servicePageRequests();
                for (int p = 0; p < pasidCount; p++)
                {
                    if (pageRequestEvery > 0 && 0 == changeNumber % pageRequestEvery)
                    {
                        model.pageRequest(requester, pasids[p], address);
                    }
                    model.invalidateRange(pasids[p], address, length);
                }
            }
        }
    }

    /** Address-space exit, before the space's own exit: the devices fault once more, then each PASID is released. */
    void exiting(final int[] pasids, final int pasidCount, final Device[] devices)
    {
        for (final IommuModel model : models)
        {
            synchronized (model)
            {
                for (int p = 0; p < pasidCount; p++)
                {
                    for (final Device device : devices)
                    {
                        model.pageRequest(device, pasids[p], 0x1000);
                    }
                    model.release(pasids[p]);
                }
            }
        }
    }

    /** A driver's unbind, before the space's own: the PASID may be reused only after this. */
    void unbinding(final Device device, final int pasid)
    {
        for (final IommuModel model : models)
        {
            synchronized (model)
            {
                model.unbind(device, pasid);
            }
        }
    }

    List<IommuCounts> counts()
    {
        final List<IommuCounts> out = new ArrayList<>();
        for (final IommuModel model : models)
        {
            synchronized (model)
            {
                out.add(model.counts());
            }
        }
        return out;
    }
}
