package org.pasidkit.tables;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.jctools.maps.NonBlockingHashMapLong;

import static org.pasidkit.tables.internal.AtcCommandDescriptor.*;

/**
 * A simulated IOMMU that consumes the command ring of an {@link AtcInvalidator}, and the simulated ATCs of the
 * devices. It checks the promise of every CMD_SYNC: once the sync of a change completes, no ATC of any device bound to
 * the address space holds a translation inside the changed range for any of its PASIDs. Every violation is counted.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one thread at a time consumes ({@link #poll} is a try-lock). {@link #touch} is called by the workload thread that
 *       owns the address space, only while no change of that address space is in flight (between its sync and its
 *       next emit) — the ring's commit/read and the sync slot's release/acquire order the two sides.</li>
 *   <li>An ATC holds up to {@link #ATC_WAYS} pages per (device, PASID), replaced round-robin.</li>
 *   <li>Allocation: {@link #poll} allocates nothing; the first {@link #touch} of a (device, PASID) allocates its
 *       ATC array.</li>
 * </ul>
 */
public final class SimulatedIommu implements MessageHandler
{
    /** Pages an ATC keeps per (device, PASID). */
    public static final int ATC_WAYS = 8;
    private static final int NEXT_WAY = ATC_WAYS;

    private final AtcInvalidator invalidator;
    private final PasidSpace space;
    private final NonBlockingHashMapLong<long[]> atcs = new NonBlockingHashMapLong<>();
    private final int[] pasids = new int[256];
    private final int[] rids = new int[256];
    private long commandsConsumed;
    private long syncsCompleted;
    private long staleTranslations;
    private long translationsInvalidated;
    private volatile long published;
    private final java.util.concurrent.atomic.AtomicBoolean consuming = new java.util.concurrent.atomic.AtomicBoolean();

    public SimulatedIommu(final AtcInvalidator invalidator)
    {
        this.invalidator = invalidator;
        this.space = invalidator.space();
    }

    /**
     * Consumer: processes up to {@code limit} ring records; returns how many. One thread consumes at a time: a call
     * made while another thread is consuming returns 0 at once (a try-lock, never a wait), so producers waiting for
     * their CMD_SYNC may call it to help ({@link AtcInvalidator#assist}).
     */
    public int poll(final int limit)
    {
        if (!consuming.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            final int n = invalidator.ring().read(this, limit);
            if (n > 0)
            {
                published = commandsConsumed;
            }
            return n;
        }
        finally
        {
            consuming.set(false);
        }
    }

    @Override
    public void onMessage(final int msgTypeId, final org.agrona.MutableDirectBuffer buffer, final int index,
        final int length)
    {
        handle(buffer, index);
    }

    private void handle(final DirectBuffer buffer, final int index)
    {
        final int count = buffer.getInt(index + COUNT_OFFSET);
        int offset = index + HEADER_LENGTH;
        for (int i = 0; i < count; i++)
        {
            final long word0 = buffer.getLong(offset);
            final long word1 = buffer.getLong(offset + 8);
            offset += COMMAND_LENGTH;
            commandsConsumed++;
            if (OP_ATC_INV == opcode(word0))
            {
                invalidate(requesterId(word0), pasid(word0), word1);
            }
            else if (OP_SYNC == opcode(word0))
            {
                final long mm = buffer.getLong(index + MM_OFFSET);
                if (mm >= 0)
                {
                    staleTranslations += staleIn(mm, buffer.getLong(index + ADDRESS_OFFSET),
                        buffer.getLong(index + LENGTH_OFFSET));
                }
                syncsCompleted++;
                invalidator.completeSync(buffer.getInt(index + PRODUCER_OFFSET), word1);
            }
        }
    }

    private void invalidate(final int requesterId, final int pasid, final long word1)
    {
        final long[] atc = atcs.get(key(requesterId, pasid));
        if (null == atc)
        {
            return;
        }
        final int size = size(word1);
        final long first = firstPage(word1);
        for (int way = 0; way < ATC_WAYS; way++)
        {
            final long entry = atc[way];
            if (0 != entry && (SIZE_ALL == size || ((entry - 1) >>> size) == (first >>> size)))
            {
                atc[way] = 0;
                translationsInvalidated++;
            }
        }
    }

    /** Stale translations inside {@code [address, address + length)} of every (ATS device, PASID) of {@code mm}. */
    private int staleIn(final long mm, final long address, final long length)
    {
        final long firstPage = address >>> PAGE_SHIFT;
        final long lastPage = (address + Math.max(1, length) - 1) >>> PAGE_SHIFT;
        int stale = 0;
        final int pasidCount = space.pasidsOf(mm, pasids);
        for (int p = 0; p < pasidCount; p++)
        {
            final int ridCount = space.bondsOf(pasids[p], rids);
            for (int r = 0; r < ridCount; r++)
            {
                final long[] atc = atcs.get(key(rids[r], pasids[p]));
                if (null == atc)
                {
                    continue;
                }
                for (int way = 0; way < ATC_WAYS; way++)
                {
                    final long entry = atc[way];
                    if (0 != entry && entry - 1 >= firstPage && entry - 1 <= lastPage)
                    {
                        stale++;
                    }
                }
            }
        }
        return stale;
    }

    /**
     * Workload side: the device translates {@code address} for {@code pasid} and caches it in its ATC (only devices
     * with ATS cache).
     */
    public void touch(final Device device, final int pasid, final long address)
    {
        if (!device.ats())
        {
            return;
        }
        final long key = key(device.requesterId(), pasid);
        long[] atc = atcs.get(key);
        if (null == atc)
        {
            atc = new long[ATC_WAYS + 1];
            final long[] raced = atcs.putIfAbsent(key, atc);
            if (null != raced)
            {
                atc = raced;
            }
        }
        final int way = (int)(atc[NEXT_WAY]++ & (ATC_WAYS - 1));
        atc[way] = (address >>> PAGE_SHIFT) + 1;
    }

    /**
     * Workload side: translations the ATC of (device, PASID) still holds (a PASID handed to a new owner must start
     * with none: anything left is a stale translation from its previous life).
     */
    public int cached(final Device device, final int pasid)
    {
        final long[] atc = atcs.get(key(device.requesterId(), pasid));
        int n = 0;
        if (null != atc)
        {
            for (int way = 0; way < ATC_WAYS; way++)
            {
                n += 0 != atc[way] ? 1 : 0;
            }
        }
        return n;
    }

    private static long key(final int requesterId, final int pasid)
    {
        return ((long)requesterId << 32) | (pasid & 0xFFFF_FFFFL);
    }

    public long commandsConsumed()
    {
        return published;
    }

    public long syncsCompleted()
    {
        return syncsCompleted;
    }

    /** Translations found inside a changed range after that change's sync: must stay 0. */
    public long staleTranslations()
    {
        return staleTranslations;
    }

    public long translationsInvalidated()
    {
        return translationsInvalidated;
    }
}
