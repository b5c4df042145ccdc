package org.pasidkit.tables.counters;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import static org.pasidkit.tables.counters.CountersFileDescriptor.*;

/**
 * Another process's counters file, read while that process runs ({@code ./pasidkit stat}). Opening validates the
 * file and refuses, with a {@link CountersFileException} naming the file, the value and the rule, one that is missing,
 * not a counters file, torn (its magic not yet written), of a newer layout version or truncated.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one reader thread per instance; any number of processes may read one file.</li>
 *   <li>Progress: {@link #open} blocks (file I/O); the reads are wait-free loads of the mapping.</li>
 *   <li>Ordering: the magic by {@code getLongAcquire} (pairs with the writer's {@code putLongRelease}, written last);
 *       each counter's record state by Agrona's volatile read in {@link CountersReader#forEach}; each value by
 *       {@code getLongVolatile} ({@link CountersReader#getCounterValue}); heartbeat and status by acquire loads. A
 *       value is exact for the instant it was published; values of different counters may be from different
 *       publishes.</li>
 * </ul>
 */
public final class CountersFile implements AutoCloseable
{
    /** What {@link #forEach} hands out for each counter. */
    @FunctionalInterface
    public interface CounterVisitor
    {
        void accept(int counterId, int typeId, CounterKind kind, String label, long value);
    }

    private final Path path;
    private final UnsafeBuffer header;
    private final CountersReader reader;
    private final long pid;
    private final long startTimeMs;
    private final long publishIntervalMs;
    private final String label;

    private CountersFile(final Path path, final MappedByteBuffer mapped, final int metadataLength,
        final int valuesLength)
    {
        this.path = path;
        this.header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        this.reader = new CountersReader(new UnsafeBuffer(mapped, metadataOffset(), metadataLength),
            new UnsafeBuffer(mapped, valuesOffset(metadataLength), valuesLength), StandardCharsets.US_ASCII);
        this.pid = header.getLong(PID_OFFSET);
        this.startTimeMs = header.getLong(START_TIME_MS_OFFSET);
        this.publishIntervalMs = header.getLong(PUBLISH_INTERVAL_MS_OFFSET);
        final int labelLength = Math.max(0, Math.min(MAX_LABEL_LENGTH, header.getInt(LABEL_LENGTH_OFFSET)));
        final byte[] bytes = new byte[labelLength];
        header.getBytes(LABEL_OFFSET, bytes);
        this.label = new String(bytes, StandardCharsets.US_ASCII);
    }

    /** Opens and validates {@code path}; see the class comment for what is refused. */
    public static CountersFile open(final Path path)
    {
        if (!Files.isRegularFile(path))
        {
            throw new CountersFileException("counters file " + path + ": no such file (must be a regular file)");
        }
        final long size;
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ))
        {
            size = channel.size();
            if (size < HEADER_LENGTH)
            {
                throw new CountersFileException("counters file " + path + ": truncated: " + size +
                    " bytes, shorter than the " + HEADER_LENGTH + "-byte header");
            }
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, Integer.MAX_VALUE));
        }
        catch (final IOException ex)
        {
            throw new CountersFileException("counters file " + path + ": cannot be read: " + ex, ex);
        }
        mapped.order(ByteOrder.LITTLE_ENDIAN);
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        // NOTE: acquire: pairs with the writer's putLongRelease of the magic, written after everything else.
        final long magic = header.getLongAcquire(MAGIC_OFFSET);
        if (0 == magic)
        {
            throw new CountersFileException("counters file " + path + ": torn: magic 0 (must be 0x" +
                Long.toHexString(MAGIC) + " \"PASIDCTR\", written last: its writer has not finished creating it, " +
                "or died doing so)");
        }
        if (MAGIC != magic)
        {
            throw new CountersFileException("counters file " + path + ": not a pasidkit counters file: magic 0x" +
                Long.toHexString(magic) + " must be 0x" + Long.toHexString(MAGIC) + " (\"PASIDCTR\")");
        }
        final int version = header.getInt(LAYOUT_VERSION_OFFSET);
        if (version > LAYOUT_VERSION)
        {
            throw new CountersFileException("counters file " + path + ": layout version " + version +
                " is newer than this reader's " + LAYOUT_VERSION + " (read it with a newer pasidkit)");
        }
        if (version < 1)
        {
            throw new CountersFileException("counters file " + path + ": layout version " + version +
                " must be in [1, " + LAYOUT_VERSION + "]");
        }
        final int headerLength = header.getInt(HEADER_LENGTH_OFFSET);
        if (HEADER_LENGTH != headerLength)
        {
            throw new CountersFileException("counters file " + path + ": header length " + headerLength +
                " must be " + HEADER_LENGTH + " in layout version " + version);
        }
        final int values = header.getInt(VALUES_LENGTH_OFFSET);
        final int metadata = header.getInt(METADATA_LENGTH_OFFSET);
        if (values < CountersReader.COUNTER_LENGTH || 0 != values % CountersReader.COUNTER_LENGTH ||
            values > CountersFileDescriptor.valuesLength(4096))
        {
            throw new CountersFileException("counters file " + path + ": values length " + values +
                " must be a positive multiple of " + CountersReader.COUNTER_LENGTH + " of at most " +
                CountersFileDescriptor.valuesLength(4096));
        }
        if ((long)values * METADATA_PER_VALUE != metadata)
        {
            throw new CountersFileException("counters file " + path + ": metadata length " + metadata +
                " must be " + METADATA_PER_VALUE + " x the values length " + values);
        }
        final long expected = (long)HEADER_LENGTH + metadata + values;
        if (size < expected)
        {
            throw new CountersFileException("counters file " + path + ": truncated: " + size + " bytes, the header " +
                "says " + HEADER_LENGTH + " + " + metadata + " + " + values + " = " + expected);
        }
        return new CountersFile(path, mapped, metadata, values);
    }

    /** Visits every allocated counter, in id order; returns how many. */
    public int forEach(final CounterVisitor visitor)
    {
        final int[] count = new int[1];
        reader.forEach((CountersReader.MetaData)(counterId, typeId, key, label) ->
        {
            count[0]++;
            visitor.accept(counterId, typeId, CounterKind.of(key.getInt(0)), label,
                reader.getCounterValue(counterId));
        });
        return count[0];
    }

    /** The value of one counter (volatile read). */
    public long value(final int counterId)
    {
        return reader.getCounterValue(counterId);
    }

    /**
     * Whether the writing process still runs: its pid is alive and (where the OS says) it started when the header
     * says, so a reused pid is not taken for the writer.
     */
    public boolean processAlive()
    {
        return ProcessHandle.of(pid).map((handle) -> handle.isAlive() && handle.info().startInstant()
            .map((start) -> Math.abs(start.toEpochMilli() - startTimeMs) <= 1_000).orElse(true)).orElse(false);
    }

    /** The writer closed the file (its counters are final). */
    public boolean closedByWriter()
    {
        return STATUS_CLOSED == header.getIntAcquire(STATUS_OFFSET);
    }

    /** Time of the writer's latest publish, epoch ms (acquire; pairs with {@link PasidkitCounters#heartbeat}). */
    public long lastPublishMs()
    {
        return header.getLongAcquire(LAST_PUBLISH_MS_OFFSET);
    }

    public Path path()
    {
        return path;
    }

    public long pid()
    {
        return pid;
    }

    public long startTimeMs()
    {
        return startTimeMs;
    }

    public long publishIntervalMs()
    {
        return publishIntervalMs;
    }

    public String label()
    {
        return label;
    }

    /** Nothing to release by hand: the read-only mapping goes when this object is collected. */
    @Override
    public void close()
    {
    }
}
