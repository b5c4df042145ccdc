package org.pasidkit.tables.counters;

import org.agrona.concurrent.status.CountersReader;

/**
 * Layout of a pasidkit counters file: a 128-byte header, then an Agrona {@link CountersReader} metadata buffer, then
 * its values buffer (as Aeron's CnC file holds its counters).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "PASIDCTR" (written last)               |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |  8
 *  +---------------------------------------------------------------+
 *  |                     Header Length (128)                       | 12
 *  +---------------------------------------------------------------+
 *  |                        Process Id                             | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |              Process Start Time (epoch ms)                    | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Metadata Length                           | 32
 *  +---------------------------------------------------------------+
 *  |                      Values Length                            | 36
 *  +---------------------------------------------------------------+
 *  |                  Publish Interval (ms)                        | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |             Last Publish Time (epoch ms, heartbeat)           | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Status (1 running, 2 closed)                  | 56
 *  +---------------------------------------------------------------+
 *  |                        (unused)                               | 60
 *  +---------------------------------------------------------------+
 *  |                  Label Length (bytes, &lt;= 60)                  | 64
 *  +---------------------------------------------------------------+
 *  |                   Label (US-ASCII, 60 bytes)                 ...  68
 *  +---------------------------------------------------------------+
 *  |          Counters metadata (Values Length x 4)              ...  128
 *  +---------------------------------------------------------------+
 *  |          Counters values (Values Length)                    ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * The writer fills the header and the buffers with plain stores and publishes the file by writing the magic last
 * with a release store (read by {@link CountersFile#open} via {@code getLongAcquire}): a file whose magic is 0 is
 * torn (its writer has not finished creating it, or died doing so). The heartbeat and the status are release
 * stores, read with acquire loads.
 */
public final class CountersFileDescriptor
{
    /** "PASIDCTR" as a little-endian long. */
    public static final long MAGIC = 0x525443444953_4150L;
    /** The layout this code writes and the newest it reads. */
    public static final int LAYOUT_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int LAYOUT_VERSION_OFFSET;
    public static final int HEADER_LENGTH_OFFSET;
    public static final int PID_OFFSET;
    public static final int START_TIME_MS_OFFSET;
    public static final int METADATA_LENGTH_OFFSET;
    public static final int VALUES_LENGTH_OFFSET;
    public static final int PUBLISH_INTERVAL_MS_OFFSET;
    public static final int LAST_PUBLISH_MS_OFFSET;
    public static final int STATUS_OFFSET;
    public static final int LABEL_LENGTH_OFFSET;
    public static final int LABEL_OFFSET;
    public static final int MAX_LABEL_LENGTH = 60;
    public static final int HEADER_LENGTH = 128;

    public static final int STATUS_RUNNING = 1;
    public static final int STATUS_CLOSED = 2;

    /** Metadata bytes per value byte (Agrona: 512-byte metadata record per 128-byte counter). */
    public static final int METADATA_PER_VALUE = CountersReader.METADATA_LENGTH / CountersReader.COUNTER_LENGTH;

    static
    {
        int offset = MAGIC_OFFSET + Long.BYTES;
        LAYOUT_VERSION_OFFSET = offset;
        offset += Integer.BYTES;
        HEADER_LENGTH_OFFSET = offset;
        offset += Integer.BYTES;
        PID_OFFSET = offset;
        offset += Long.BYTES;
        START_TIME_MS_OFFSET = offset;
        offset += Long.BYTES;
        METADATA_LENGTH_OFFSET = offset;
        offset += Integer.BYTES;
        VALUES_LENGTH_OFFSET = offset;
        offset += Integer.BYTES;
        PUBLISH_INTERVAL_MS_OFFSET = offset;
        offset += Long.BYTES;
        LAST_PUBLISH_MS_OFFSET = offset;
        offset += Long.BYTES;
        STATUS_OFFSET = offset;
        offset += 2 * Integer.BYTES;
        LABEL_LENGTH_OFFSET = offset;
        offset += Integer.BYTES;
        LABEL_OFFSET = offset;
        offset += MAX_LABEL_LENGTH;
        if (offset != HEADER_LENGTH)
        {
            throw new AssertionError("header is " + offset + " bytes, not " + HEADER_LENGTH);
        }
    }

    private CountersFileDescriptor()
    {
    }

    /** Bytes of the values buffer for {@code maxCounters} counters. */
    public static int valuesLength(final int maxCounters)
    {
        checkCapacity(maxCounters);
        return maxCounters * CountersReader.COUNTER_LENGTH;
    }

    /** Bytes of the whole file for {@code maxCounters} counters. */
    public static long fileLength(final int maxCounters)
    {
        final int values = valuesLength(maxCounters);
        return (long)HEADER_LENGTH + (long)values * METADATA_PER_VALUE + values;
    }

    public static int metadataOffset()
    {
        return HEADER_LENGTH;
    }

    public static int valuesOffset(final int metadataLength)
    {
        return HEADER_LENGTH + metadataLength;
    }

    /** Capacity check: 1 to 4096 counters. */
    public static void checkCapacity(final int maxCounters)
    {
        if (maxCounters < 1 || maxCounters > 4096)
        {
            throw new IllegalArgumentException("counter capacity " + maxCounters + " must be in [1, 4096]");
        }
    }
}
