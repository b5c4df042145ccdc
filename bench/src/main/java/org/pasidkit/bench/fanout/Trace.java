package org.pasidkit.bench.fanout;

import java.util.Arrays;

/**
 * Address-space events in columns (primitive arrays, so a synthetic trace of millions of events stays compact).
 * Validated on construction by {@link TraceReader} or {@link SyntheticWorkload}: every change and exit follows its
 * address space's start.
 */
public final class Trace
{
    /** Event kinds; every kind but START and EXIT changes an address range. */
    public enum Event
    {
        START, EXIT, MUNMAP, MPROTECT, MADVISE, MREMAP, BRK, MMAP_FIXED;

        static final Event[] VALUES = values();

        boolean isChange()
        {
            return this != START && this != EXIT;
        }
    }

    final String name;
    int size;
    long[] timeUs;
    long[] mm;
    byte[] event;
    long[] address;
    long[] length;

    Trace(final String name, final int capacity)
    {
        this.name = name;
        this.timeUs = new long[capacity];
        this.mm = new long[capacity];
        this.event = new byte[capacity];
        this.address = new long[capacity];
        this.length = new long[capacity];
    }

    void add(final long timeUs, final long mm, final Event event, final long address, final long length)
    {
        if (size == this.mm.length)
        {
            final int capacity = size * 2;
            this.timeUs = Arrays.copyOf(this.timeUs, capacity);
            this.mm = Arrays.copyOf(this.mm, capacity);
            this.event = Arrays.copyOf(this.event, capacity);
            this.address = Arrays.copyOf(this.address, capacity);
            this.length = Arrays.copyOf(this.length, capacity);
        }
        this.timeUs[size] = timeUs;
        this.mm[size] = mm;
        this.event[size] = (byte)event.ordinal();
        this.address[size] = address;
        this.length[size] = length;
        size++;
    }

    public String name()
    {
        return name;
    }

    public int size()
    {
        return size;
    }

    public Event event(final int i)
    {
        return Event.VALUES[event[i]];
    }

    public long mm(final int i)
    {
        return mm[i];
    }

    public long timeUs(final int i)
    {
        return timeUs[i];
    }

    public long address(final int i)
    {
        return address[i];
    }

    public long length(final int i)
    {
        return length[i];
    }
}
