package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

/**
 * One state byte per id, off-heap, in one flat table whose memory is committed page by page on first use: the arbiter
 * of who owns an id. The byte of id {@code i} is at {@code base - minId + i}: one add, no page lookup, on the
 * allocation and free fast paths.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may read; a transition out of {@link #CACHED}, {@link #IN_USE}, {@link #RETIRED} or
 *       {@link #HELD} is always a {@code compareAndSetByte}, so exactly one thread wins each id. A plain release
 *       store is used only by the thread that exclusively owns the id at that moment (it just claimed the id's
 *       bitmap bit, so no other thread can reach the id).</li>
 *   <li>Progress: wait-free (single CAS attempts; callers decide whether to retry).</li>
 *   <li>Invariant (at quiescence): bitmap bit clear &lt;=&gt; state {@link #FREE}. A 4 KiB page of the table that no
 *       state left {@link #FREE} in is all {@link #FREE} and is not marked written.</li>
 *   <li>Memory: above 4096 ids the table is an anonymous private mapping ({@link AnonymousMapping}, Linux): the
 *       kernel commits a page on its first write, so an idle 2^20 range costs no state memory (a flat zeroed table
 *       cost 1 MiB), one page per 4096 ids once used. {@link #nativeBytes()} counts the pages marked written. Where
 *       the mapping is unavailable (not Linux, JNA cannot load, the kernel refuses) the table is one zeroed direct
 *       buffer, all committed at once ({@link #lazilyCommitted()} false); a range above about 2^31 ids is then refused
 *       (a direct buffer holds at most 2^31 - 1 bytes).</li>
 * </ul>
 *
 * <pre>
 *   byte at base + (id - minId):   0 FREE | 1 CACHED | 2 IN_USE | 3 RETIRED | 4 HELD | 5 CACHING
 *   written[(id - minId) / 4096]:  1 once a state in that page left FREE (the first putRelease there)
 * </pre>
 */
/*
 * Design notes.
 * - Every id leaves FREE through putRelease (the claimer holds the id's bitmap bit). putRelease marks the id's page
 *   written (a release store) before it stores the state, so a thread that reads a non-FREE state with an acquire
 *   load and then the page's mark sees it set, and a pass that reads a page's mark as 0 may skip the page: it is all
 *   FREE, or its first write comes after the mark, after the pass's read of it. Only the counting passes read the
 *   marks (countStates, anyInGrace, nativeBytes); the fast paths never do.
 * - compareAndSet from a state other than FREE on a page not marked answers false without the CAS: the page is all
 *   FREE, and a lock cmpxchg writes its line even when the compare fails, which would commit the page. The fast
 *   paths' CAS through addressOfHeld has no such test: an id in use is on a written page; a bad free of an id never
 *   used may commit one page (4 KiB, at most the range's).
 * - The memory was lazily created 4 KiB pages behind a table of page addresses before: two dependent loads, a bounds
 *   check and a null test on each of a pair's two state accesses. The flat table runs the immediate pair in 0.94x its
 *   time and the grace pair in 0.79-0.88x (an interleaved same-JVM A/B; bench/RESULTS.md).
 */
public final class IdStateTable
{
    /** In the bitmap, bit clear. */
    public static final byte FREE = 0;
    /** Bit set, sitting in some stripe's ring; any thread may take it with a CAS to {@link #IN_USE}. */
    public static final byte CACHED = 1;
    /** Handed out. */
    public static final byte IN_USE = 2;
    /** Freed, waiting in the reclaim queue for its grace period. */
    public static final byte RETIRED = 3;
    /** Retired with holders outstanding: waits for every holder's release before it is queued. */
    public static final byte HELD = 4;
    /**
     * Being freed into its freeing thread's ring: {@code IN_USE -> CACHING} (the free's CAS), then the push, then a
     * release store of {@link #CACHED}. Nobody takes it meanwhile; counted and shown as in use (the free has not taken
     * effect yet).
     */
    public static final byte CACHING = 5;
    /** Number of states, for count arrays. */
    public static final int STATE_COUNT = 6;
    /** Ids one page of the table holds (one 4 KiB native page of state bytes). */
    public static final int PAGE_IDS = 4096;

    private static final int PAGE_SHIFT = 12;
    private static final long ONES = 0x0101010101010101L;
    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
    private static final long HIGH = 0x8080808080808080L;
    private static final VarHandle WRITTEN = MethodHandles.arrayElementVarHandle(byte[].class);
    private static final Cleaner CLEANER = Cleaner.create();
    /** The largest eager table: a direct buffer's int capacity, less its alignment slack. */
    private static final long MAX_EAGER_BYTES = Integer.MAX_VALUE - 128;

    private final int minId;
    private final long range;
    /** Address of the byte of id 0 (of id {@code minId}: {@code idBase + minId}); may lie before the table. */
    private final long idBase;
    private final long tableBytes;
    private final boolean lazilyCommitted;
    /** Page marks: release store in {@link #markWritten}, acquire load in {@link #written}. */
    private final byte[] written;
    /** The eager table's buffer (keeps its memory reachable), or null when mapped. */
    private final ByteBuffer eager;

    /** A table that maps its memory lazily where it can (above 4096 ids, on Linux). */
    public IdStateTable(final int minId, final int maxId)
    {
        this(minId, maxId, true);
    }

    /**
     * @param lazy map the table (committed page by page) if the range is above 4096 ids and the mapping is available;
     *     false: one zeroed direct buffer (for tests of that fallback).
     */
    public IdStateTable(final int minId, final int maxId, final boolean lazy)
    {
        this.minId = minId;
        this.range = (long)maxId - minId + 1;
        this.written = new byte[(int)((range + PAGE_IDS - 1) >>> PAGE_SHIFT)];
        long base = 0;
        long bytes = (range + PAGE_IDS - 1) & -(long)PAGE_IDS;
        Throwable notMapped = null;
        if (lazy && range > PAGE_IDS)
        {
            try
            {
                base = AnonymousMapping.map(bytes);
                CLEANER.register(this, new Unmap(base, bytes));
            }
            catch (final Throwable ex)
            {
                base = 0; // NOTE: the fallback below; lazilyCommitted() says which one this table got
                notMapped = ex;
            }
        }
        this.lazilyCommitted = 0 != base;
        if (0 == base)
        {
            bytes = (range + 63) & -64L;
            if (bytes > MAX_EAGER_BYTES)
            {
                throw new IllegalStateException("a state table of " + range + " ids (one byte each) is above " +
                    MAX_EAGER_BYTES + " bytes, the most a direct buffer holds, and the lazily committed mapping is " +
                    "unavailable here" + (null == notMapped ? "" : " (" + notMapped + ")"));
            }
            this.eager = BufferUtil.allocateDirectAligned((int)bytes, 64);
            base = BufferUtil.address(eager);
        }
        else
        {
            this.eager = null;
        }
        this.tableBytes = bytes;
        this.idBase = base - minId;
    }

    /** Unmaps a mapped table once its IdStateTable is unreachable (holds no reference to it). */
    private static final class Unmap implements Runnable
    {
        private final long address;
        private final long lengthBytes;

        Unmap(final long address, final long lengthBytes)
        {
            this.address = address;
            this.lengthBytes = lengthBytes;
        }

        @Override
        public void run()
        {
            AnonymousMapping.unmap(address, lengthBytes);
        }
    }

    /** Whether the table's memory is committed page by page on first write (an anonymous mapping). */
    public boolean lazilyCommitted()
    {
        return lazilyCommitted;
    }

    public static String name(final byte state)
    {
        switch (state)
        {
            case FREE: return "FREE";
            case CACHED: return "CACHED";
            case IN_USE: return "IN_USE";
            case RETIRED: return "RETIRED";
            case HELD: return "HELD";
            case CACHING: return "CACHING";
            default: return "UNKNOWN(" + state + ")";
        }
    }

    /** State of {@code id}, acquire load (pairs with {@link #putRelease} and the CASes). */
    public byte get(final int id)
    {
        return UnsafeApi.getByteAcquire(null, idBase + id);
    }

    /** State of {@code id}, opaque load: a cheap pre-check before a CAS. */
    public byte getOpaque(final int id)
    {
        return UnsafeApi.getByteOpaque(null, idBase + id);
    }

    /**
     * Release store by the exclusive owner of {@code id}; read by {@link #get} via {@code getByteAcquire}. Marks the
     * id's page written first (the way every id leaves {@link #FREE}).
     */
    public void putRelease(final int id, final byte state)
    {
        markWritten(pageOf(id));
        UnsafeApi.putByteRelease(null, idBase + id, state);
    }

    /**
     * The address of the state byte of an id the calling thread holds (its allocation or the ring it holds
     * happens-before this call), for a CAS or a plain store on the fast paths: one add, no load. For an id never
     * used the address is valid too (its byte reads {@link #FREE}, so a CAS from another state fails).
     */
    public long addressOfHeld(final int id)
    {
        return idBase + id;
    }

    /**
     * A plain store of the state of an id the calling thread holds (not {@link #FREE}: its page is marked); the caller
     * publishes it with a later release store.
     */
    public void putPlainHeld(final int id, final byte state)
    {
        UnsafeApi.putByte(null, idBase + id, state);
    }

    /**
     * {@link #putRelease} of {@code state} for each of {@code ids[from & mask .. to & mask)}, ids the calling thread
     * holds (as {@link #putPlainHeld}): one release fence, then a plain store per id, so every store the caller made
     * before this call (a batch's ring slots and tail) is seen by a thread that reads one of these states with an
     * acquire load ({@link #get}). For a batch (an owner's reclaim of its own retired ids, inside an owner move whose
     * end is a release store: the stores cannot be delayed past it): nothing is reloaded between the stores.
     */
    public void putReleaseAllHeld(final int[] ids, final long from, final long to, final int mask, final byte state)
    {
        // NOTE: releaseFence then plain stores: each store is ordered after every access before the fence, as a
        // release store of each would be; read by get() via getByteAcquire. A byte store cannot tear; plain, not opaque:
        // opaque stores are compiler barriers, and with them this loop and pushAll's cost the grace pair 0.33 ns
        // (interleaved A/B, bench/RESULTS.md).
        VarHandle.releaseFence();
        final long idBase = this.idBase;
        // NOTE: in runs that do not wrap the ring (at most two): a counted loop over a plain index, whose array range
        // checks C2 hoists out of the loop (loop predication), instead of a mask and a check at every id.
        int i = (int)from & mask;
        for (long left = to - from; left > 0; )
        {
            final int run = (int)Math.min(left, mask + 1 - i);
            for (int end = i + run; i < end; i++)
            {
                UnsafeApi.putByte(null, idBase + ids[i], state);
            }
            left -= run;
            i &= mask;
        }
    }

    /**
     * The only way to take an id another thread might also reach. From {@link #FREE} it marks the page written first;
     * from any other state on a page never written it fails without the CAS (the page is all FREE).
     */
    public boolean compareAndSet(final int id, final byte expected, final byte update)
    {
        final int index = pageOf(id);
        if (FREE == expected)
        {
            markWritten(index);
        }
        else if (!written(index))
        {
            return false; // NOTE: never written: all FREE, the CAS fails as it would on the byte
        }
        return UnsafeApi.compareAndSetByte(null, idBase + id, expected, update);
    }

    /**
     * Counts every state in one pass over the pages written, 8 ids a step (allocation-free, O(range / 4096) for the
     * pages never written, which count as {@link #FREE}).
     *
     * @param counts receives the count of each state at its index; length at least {@link #STATE_COUNT}.
     */
    public void countStates(final long[] counts)
    {
        for (int s = 0; s < STATE_COUNT; s++)
        {
            counts[s] = 0;
        }
        final long tableBase = idBase + minId;
        for (int index = 0; index < written.length; index++)
        {
            final long first = (long)index << PAGE_SHIFT;
            final int ids = (int)Math.min(PAGE_IDS, range - first);
            if (!written(index))
            {
                counts[FREE] += ids;
                continue;
            }
            final long page = tableBase + first;
            int offset = 0;
            for (; offset + 8 <= ids; offset += 8)
            {
                final long word = UnsafeApi.getLongVolatile(null, page + offset);
                for (int s = 0; s < STATE_COUNT; s++)
                {
                    counts[s] += zeroBytes(word ^ (ONES * s));
                }
            }
            for (; offset < ids; offset++)
            {
                counts[UnsafeApi.getByteVolatile(null, page + offset)]++;
            }
        }
    }

    /**
     * Whether some id of {@code [lo, hi]} is {@link #RETIRED} or {@link #HELD} (acquire loads, O(hi - lo); pages never
     * written are skipped): the grace test of a sub-range's exhaustion scan.
     */
    public boolean anyInGrace(final int lo, final int hi)
    {
        for (long id = lo; id <= hi; id++)
        {
            final int offset = (int)(id - minId);
            if (!written(offset >>> PAGE_SHIFT))
            {
                id = (long)minId + (offset | (PAGE_IDS - 1)); // NOTE: a page never written is all FREE: to its last id
                continue;
            }
            final byte state = get((int)id);
            if (RETIRED == state || HELD == state)
            {
                return true;
            }
        }
        return false;
    }

    private static int zeroBytes(final long x)
    {
        final long y = ((x & LOW7) + LOW7) | x;
        return Long.bitCount(~y & HIGH);
    }

    /**
     * Native bytes of the table: the pages written (4 KiB each) when it is mapped, whose memory the kernel committed on
     * those writes; the whole table when it is not.
     */
    public long nativeBytes()
    {
        return lazilyCommitted ? (long)pagesWritten() * PAGE_IDS : tableBytes;
    }

    /** Pages a state left {@link #FREE} in so far (for tests and counts). */
    public int pagesWritten()
    {
        int pages = 0;
        for (int index = 0; index < written.length; index++)
        {
            pages += written(index) ? 1 : 0;
        }
        return pages;
    }

    /** The index of the 4 KiB page of the table that holds {@code id}'s byte (its mark in {@code written}). */
    private int pageOf(final int id)
    {
        return (int)(((long)id - minId) >>> PAGE_SHIFT);
    }

    private boolean written(final int index)
    {
        return 0 != (byte)WRITTEN.getAcquire(written, index);
    }

    private void markWritten(final int index)
    {
        // NOTE: a load first: the mark is written once per page, not once per claim (the array is shared by every
        // claiming thread). Release store: read by written() via getAcquire; before the state store that follows.
        if (0 == (byte)WRITTEN.getAcquire(written, index))
        {
            WRITTEN.setRelease(written, index, (byte)1);
        }
    }
}
