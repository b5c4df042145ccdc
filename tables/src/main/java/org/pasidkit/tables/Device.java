package org.pasidkit.tables;

import org.jctools.queues.MpscUnboundedArrayQueue;
import org.pasidkit.tables.internal.DriverDataCells;

/**
 * A PCIe function as {@link PasidSpace} sees it: requester id (bus:dev.fn), its own PASID width, whether it has an
 * ATC (ATS), and its driver-data index: PASID -&gt; the data object of the bond (PASID, this device), a two-level
 * on-heap radix table of 256-reference leaves allocated on first bind (layout and ordering:
 * {@link DriverDataCells}), as a device's own PASID table would be. Created by {@link PasidSpace#addDevice}: the object is the
 * registrant's capability (bind, attach, poll its events, remove it); other code names the device by its requester
 * id for lookups only.
 * <p>
 * Threading: the index and the bond list are written under the space's control lock only; the index is read
 * lock-free by {@link PasidSpace#driverData} and {@link PasidSpace#reportFault}.
 */
public final class Device
{
    final PasidSpace space;
    private final int requesterId;
    private final int pasidBits;
    private final boolean ats;
    private final ExitListener listener;
    /** Driver-data directory (see {@link DriverDataCells}); final, so readers reach it with one load. */
    final Object[][] drvdata;
    final MpscUnboundedArrayQueue<ExitEvent> exitEvents = new MpscUnboundedArrayQueue<>(64);
    int firstBond;
    int bondCount;
    /** Set by {@link PasidSpace#removeDevice} (control lock; volatile: read by any thread): the object is stale. */
    volatile boolean removed;

    Device(final PasidSpace space, final int requesterId, final int pasidBits, final boolean ats, final ExitListener listener,
        final int maxPasid)
    {
        this.space = space;
        this.requesterId = requesterId;
        this.pasidBits = pasidBits;
        this.ats = ats;
        this.listener = listener;
        this.drvdata = DriverDataCells.newDirectory((int)Math.min((long)maxPasid, (1L << pasidBits) - 1));
    }

    public int requesterId()
    {
        return requesterId;
    }

    /** PASID width: the device accepts PASIDs below {@code 2^pasidBits}. */
    public int pasidBits()
    {
        return pasidBits;
    }

    /** Highest PASID this device can carry. */
    public int maxPasid()
    {
        return (int)Math.min(Integer.MAX_VALUE, (1L << pasidBits) - 1);
    }

    /** Whether the device caches translations (ATS): it receives ATC invalidations. */
    public boolean ats()
    {
        return ats;
    }

    ExitListener listener()
    {
        return listener;
    }

    /** Bonds of this device now (written under the space's control lock). */
    public int bondCount()
    {
        return bondCount;
    }

    /** Whether {@link PasidSpace#removeDevice} removed this device. */
    public boolean isRemoved()
    {
        return removed;
    }

    /** The data of this device's bond with {@code pasid}, or null. */
    Object driverData(final int pasid)
    {
        return DriverDataCells.unwrap(DriverDataCells.cell(drvdata, pasid));
    }

    /** Writer (control lock held): whether this device has a bond with {@code pasid}. */
    boolean isBound(final int pasid)
    {
        return DriverDataCells.isBound(drvdata, pasid);
    }

    /**
     * Writer (control lock held): records the bond's data (null data is recorded as bound, with null data).
     *
     * @return true if this allocated a leaf of the index.
     */
    boolean publishDrvdata(final int pasid, final Object data)
    {
        return DriverDataCells.publish(drvdata, pasid, data);
    }

    /** Writer (control lock held): the bond with {@code pasid} is gone. */
    void clearDrvdata(final int pasid)
    {
        DriverDataCells.clear(drvdata, pasid);
    }

    @Override
    public String toString()
    {
        return String.format("%02x:%02x.%d", (requesterId >>> 8) & 0xFF, (requesterId >>> 3) & 0x1F, requesterId & 7);
    }
}
