package org.pasidkit.allocator.internal;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

/**
 * One state byte per id, off-heap: the arbiter of who owns an id.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: any thread may read; a transition out of {@link #CACHED}, {@link #IN_USE}, {@link #RETIRED} or
 *       {@link #HELD} is always a {@code compareAndSetByte}, so exactly one thread wins each id. A plain release
 *       store is used only by the thread that exclusively owns the id at that moment (it just claimed the id's
 *       bitmap bit, so no other thread can reach the id).</li>
 *   <li>Progress: wait-free (single CAS attempts; callers decide whether to retry).</li>
 *   <li>Invariant (at quiescence): bitmap bit clear &lt;=&gt; state {@link #FREE}.</li>
 * </ul>
 *
 * <pre>
 *   byte at (id - minId):   0 FREE | 1 CACHED | 2 IN_USE | 3 RETIRED | 4 HELD | 0xFF padding (never an id)
 * </pre>
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
    /** Number of states, for count arrays. */
    public static final int STATE_COUNT = 5;

    private static final long ONES = 0x0101010101010101L;
    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
    private static final long HIGH = 0x8080808080808080L;

    @SuppressWarnings("unused") // keeps the native memory reachable
    private final ByteBuffer memory;
    private final long address;
    private final int minId;
    private final int lengthBytes;

    public IdStateTable(final int minId, final int maxId)
    {
        final long range = (long)maxId - minId + 1;
        this.minId = minId;
        this.lengthBytes = (int)((range + 63) & -64L);
        this.memory = BufferUtil.allocateDirectAligned(lengthBytes, 64);
        this.address = BufferUtil.address(memory);
        for (long i = range; i < lengthBytes; i++)
        {
            UnsafeApi.putByte(address + i, (byte)0xFF);
        }
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
            default: return "UNKNOWN(" + state + ")";
        }
    }

    /** State of {@code id}, acquire load (pairs with {@link #putRelease} and the CASes). */
    public byte get(final int id)
    {
        return UnsafeApi.getByteAcquire(null, address + (id - minId));
    }

    /** State of {@code id}, opaque load: a cheap pre-check before a CAS. */
    public byte getOpaque(final int id)
    {
        return UnsafeApi.getByteOpaque(null, address + (id - minId));
    }

    /** Release store by the exclusive owner of {@code id}; read by {@link #get} via {@code getByteAcquire}. */
    public void putRelease(final int id, final byte state)
    {
        UnsafeApi.putByteRelease(null, address + (id - minId), state);
    }

    /** The only way to take an id another thread might also reach. */
    public boolean compareAndSet(final int id, final byte expected, final byte update)
    {
        return UnsafeApi.compareAndSetByte(null, address + (id - minId), expected, update);
    }

    /**
     * Counts every state in one pass over the table, 8 ids a step (allocation-free, O(range)).
     *
     * @param counts receives the count of each state at its index; length at least {@link #STATE_COUNT}.
     */
    public void countStates(final long[] counts)
    {
        for (int s = 0; s < STATE_COUNT; s++)
        {
            counts[s] = 0;
        }
        for (int offset = 0; offset < lengthBytes; offset += 8)
        {
            final long word = UnsafeApi.getLongVolatile(null, address + offset);
            for (int s = 0; s < STATE_COUNT; s++)
            {
                counts[s] += zeroBytes(word ^ (ONES * s));
            }
        }
    }

    private static int zeroBytes(final long x)
    {
        final long y = ((x & LOW7) + LOW7) | x;
        return Long.bitCount(~y & HIGH);
    }

    public long nativeBytes()
    {
        return lengthBytes;
    }
}
