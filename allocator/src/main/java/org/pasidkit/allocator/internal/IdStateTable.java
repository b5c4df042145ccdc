package org.pasidkit.allocator.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

/**
 * One state byte per id, off-heap, in lazily created 4 KiB pages: the arbiter of who owns an id.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may read; a transition out of {@link #CACHED}, {@link #IN_USE}, {@link #RETIRED} or
 *       {@link #HELD} is always a {@code compareAndSetByte}, so exactly one thread wins each id. A plain release
 *       store is used only by the thread that exclusively owns the id at that moment (it just claimed the id's
 *       bitmap bit, so no other thread can reach the id).</li>
 *   <li>Progress: wait-free (single CAS attempts; callers decide whether to retry). Creating a page is lock-free: one
 *       CAS on the page's slot; a thread that loses it uses the winner's page.</li>
 *   <li>Invariant (at quiescence): bitmap bit clear &lt;=&gt; state {@link #FREE}. A page not created yet reads as
 *       all {@link #FREE}.</li>
 *   <li>Memory: {@link #nativeBytes()} grows with the pages ids have been used in, not with the range: an idle
 *       2^20 range costs no state memory (it cost 1 MiB before the pages were lazy), one page per 4096 ids once
 *       used (pages are kept for the table's life).</li>
 * </ul>
 *
 * <pre>
 *   page (id - minId) / 4096, created on the first write of a state in it:
 *   byte at (id - minId) % 4096:   0 FREE | 1 CACHED | 2 IN_USE | 3 RETIRED | 4 HELD | 5 CACHING | 0xFF padding
 * </pre>
 */
/*
 * Design notes. A page's memory is zeroed (all FREE) by allocateDirect before the CAS that publishes its buffer (a
 * volatile write); its address is then set with a release store by whoever saw the buffer (winner or loser, the same
 * value), and read with an acquire load, so a thread that sees the address also sees the zeroed page. A reader that
 * sees address 0 reads FREE: linearizable, because every write of a non-FREE state comes after the page's
 * publication in the writer's program order, so a thread ordered after such a write sees the address.
 * compareAndSet from a non-FREE state on a page not yet created fails without creating it (the state is FREE).
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
    /** Ids one page holds (one 4 KiB native page of state bytes; smaller for a range below 4096 ids). */
    public static final int PAGE_IDS = 4096;

    private static final int PAGE_SHIFT = 12;
    private static final int PAGE_MASK = PAGE_IDS - 1;
    private static final long ONES = 0x0101010101010101L;
    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
    private static final long HIGH = 0x8080808080808080L;
    private static final VarHandle ADDRESSES = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PAGES = MethodHandles.arrayElementVarHandle(ByteBuffer[].class);

    private final int minId;
    private final long range;
    private final int pageBytes;
    /** Page addresses, 0 until created: release store in {@link #createPage}, acquire load in {@link #page}. */
    private final long[] addresses;
    /** The pages' buffers (keeps their memory reachable); the CAS on a slot decides which buffer becomes the page. */
    private final ByteBuffer[] pages;

    public IdStateTable(final int minId, final int maxId)
    {
        this.minId = minId;
        this.range = (long)maxId - minId + 1;
        this.pageBytes = (int)Math.min(PAGE_IDS, (range + 63) & -64L);
        final int pageCount = (int)((range + PAGE_IDS - 1) >>> PAGE_SHIFT);
        this.addresses = new long[pageCount];
        this.pages = new ByteBuffer[pageCount];
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
        final int offset = id - minId;
        final long page = page(offset >>> PAGE_SHIFT);
        return 0 == page ? FREE : UnsafeApi.getByteAcquire(null, page + (offset & PAGE_MASK));
    }

    /** State of {@code id}, opaque load: a cheap pre-check before a CAS. */
    public byte getOpaque(final int id)
    {
        final int offset = id - minId;
        final long page = page(offset >>> PAGE_SHIFT);
        return 0 == page ? FREE : UnsafeApi.getByteOpaque(null, page + (offset & PAGE_MASK));
    }

    /**
     * Release store by the exclusive owner of {@code id}; read by {@link #get} via {@code getByteAcquire}. Creates
     * the id's page on its first use (allocates a direct buffer: once per 4096 ids).
     */
    public void putRelease(final int id, final byte state)
    {
        final int offset = id - minId;
        UnsafeApi.putByteRelease(null, pageForWrite(offset >>> PAGE_SHIFT) + (offset & PAGE_MASK), state);
    }

    /**
     * The address of the state byte of an id the calling thread holds (its allocation or the ring it holds
     * happens-before this call), or 0 if the id's page was never created (its state is {@link #FREE}). A plain load
     * of the page address: the address was stored before the id's state left FREE, which happens-before this call,
     * so the plain load sees it (JLS 17.4.5); an acquire load backs up a 0. For the fast paths: a plain load is no
     * compiler barrier, so the fields read before it stay in registers.
     */
    public long addressOfHeld(final int id)
    {
        final int offset = id - minId;
        final int index = offset >>> PAGE_SHIFT;
        long page = addresses[index];
        if (0 == page && 0 == (page = page(index)))
        {
            return 0;
        }
        return page + (offset & PAGE_MASK);
    }

    /**
     * A plain store of the state of an id the calling thread holds and whose page exists (see {@link #addressOfHeld});
     * the caller publishes it with a later release store.
     */
    public void putPlainHeld(final int id, final byte state)
    {
        final int offset = id - minId;
        final int index = offset >>> PAGE_SHIFT;
        long page = addresses[index];
        if (0 == page)
        {
            page = pageForWrite(index);
        }
        UnsafeApi.putByte(null, page + (offset & PAGE_MASK), state);
    }

    /**
     * {@link #putRelease} of {@code state} for each of {@code ids[from & mask .. to & mask)}, ids the calling thread
     * holds (as {@link #putPlainHeld}): one release fence, then an opaque store per id, so every store the caller made
     * before this call (a batch's ring slots and tail) is seen by a thread that reads one of these states with an
     * acquire load ({@link #get}). For a batch (an owner's reclaim of its own retired ids): the page address is looked up
     * once per page, not per id, and nothing is reloaded between the stores.
     */
    public void putReleaseAllHeld(final int[] ids, final long from, final long to, final int mask, final byte state)
    {
        // NOTE: releaseFence then opaque stores: each store is ordered after every access before the fence, as a
        // release store of each would be; read by get() via getByteAcquire.
        VarHandle.releaseFence();
        final long[] addresses = this.addresses;
        final int minId = this.minId;
        int index = -1;
        long page = 0;
        for (int i = (int)from, end = i + (int)(to - from); i != end; i++)
        {
            final int offset = ids[i & mask] - minId;
            final int pageIndex = offset >>> PAGE_SHIFT;
            if (pageIndex != index)
            {
                index = pageIndex;
                page = addresses[pageIndex];
                if (0 == page)
                {
                    page = pageForWrite(pageIndex);
                }
            }
            UnsafeApi.putByteOpaque(null, page + (offset & PAGE_MASK), state);
        }
    }

    /** The only way to take an id another thread might also reach. Creates the page only to leave {@link #FREE}. */
    public boolean compareAndSet(final int id, final byte expected, final byte update)
    {
        final int offset = id - minId;
        final int index = offset >>> PAGE_SHIFT;
        long page = page(index);
        if (0 == page)
        {
            if (FREE != expected)
            {
                return false; // NOTE: a page not created yet is all FREE: the CAS fails as it would on the byte
            }
            page = createPage(index);
        }
        return UnsafeApi.compareAndSetByte(null, page + (offset & PAGE_MASK), expected, update);
    }

    /**
     * Counts every state in one pass over the created pages, 8 ids a step (allocation-free, O(range / 4096) for the
     * pages never used); ids of a page not created count as {@link #FREE}.
     *
     * @param counts receives the count of each state at its index; length at least {@link #STATE_COUNT}.
     */
    public void countStates(final long[] counts)
    {
        for (int s = 0; s < STATE_COUNT; s++)
        {
            counts[s] = 0;
        }
        for (int index = 0; index < addresses.length; index++)
        {
            final long page = page(index);
            if (0 == page)
            {
                counts[FREE] += Math.min(PAGE_IDS, range - ((long)index << PAGE_SHIFT));
                continue;
            }
            for (int offset = 0; offset < pageBytes; offset += 8)
            {
                final long word = UnsafeApi.getLongVolatile(null, page + offset);
                for (int s = 0; s < STATE_COUNT; s++)
                {
                    counts[s] += zeroBytes(word ^ (ONES * s));
                }
            }
        }
    }

    /**
     * Whether some id of {@code [lo, hi]} is {@link #RETIRED} or {@link #HELD} (acquire loads, O(hi - lo); pages not
     * created are skipped): the grace test of a sub-range's exhaustion scan.
     */
    public boolean anyInGrace(final int lo, final int hi)
    {
        for (long id = lo; id <= hi; id++)
        {
            final int offset = (int)(id - minId);
            if (0 == page(offset >>> PAGE_SHIFT))
            {
                id = (long)minId + (offset | PAGE_MASK); // NOTE: a page not created is all FREE: skip to its last id
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

    /** Native bytes of the pages created so far. */
    public long nativeBytes()
    {
        long bytes = 0;
        for (int index = 0; index < addresses.length; index++)
        {
            bytes += 0 == page(index) ? 0 : pageBytes;
        }
        return bytes;
    }

    /** Pages created so far (for tests and counts). */
    public int pagesCreated()
    {
        return (int)(nativeBytes() / pageBytes);
    }

    private long page(final int index)
    {
        return (long)ADDRESSES.getAcquire(addresses, index);
    }

    private long pageForWrite(final int index)
    {
        final long page = page(index);
        return 0 != page ? page : createPage(index);
    }

    /** Slow path, once per page: allocates a zeroed page and publishes it; a racing creator uses the winner's. */
    private long createPage(final int index)
    {
        final ByteBuffer fresh = BufferUtil.allocateDirectAligned(pageBytes, 64);
        final long freshAddress = BufferUtil.address(fresh);
        final long firstOffset = (long)index << PAGE_SHIFT;
        final long validBytes = Math.min(pageBytes, range - firstOffset);
        // padding: never an id, counted as no state (one call: Lincheck's model checker reads a long loop as a hang)
        UnsafeApi.setMemory(freshAddress + validBytes, pageBytes - validBytes, (byte)0xFF);
        final ByteBuffer page = PAGES.compareAndSet(pages, index, null, fresh) ?
            fresh : (ByteBuffer)PAGES.getAcquire(pages, index);
        final long address = BufferUtil.address(page);
        // NOTE: after the buffer's CAS (or the acquire load that saw the winner's): read by page() via getAcquire
        ADDRESSES.setRelease(addresses, index, address);
        return address;
    }
}
