package org.pasidkit.tables.counters;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import static org.pasidkit.tables.counters.CountersFileDescriptor.*;

/**
 * A process's counters in a memory-mapped file that another process reads while this one runs (with
 * {@link CountersFile}, or {@code ./pasidkit stat}), as Aeron's CnC file and {@code AeronStat} do: a header
 * ({@link CountersFileDescriptor}) and an Agrona {@link CountersManager} over the mapped metadata and values buffers,
 * one labelled, typed counter per figure.
 *
 * <p>One file per instance, named {@code <pid>.dat} in its directory ({@code <pid>-2.dat}, ... for further instances
 * in the same process). A file left by a process that has gone (same pid reused later) is replaced. The file stays
 * after {@link #close} (status closed) and after a crash (status running, process gone): {@code ./pasidkit stat}
 * shows both as gone and {@code --clean} removes them.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: {@link #newCounter} and {@link #close} are synchronized (the {@link CountersManager} has one
 *       writer at a time); a counter's value is written by whoever holds the {@link AtomicCounter} (normally one
 *       publisher thread, see {@link CountersPublisher}).</li>
 *   <li>Progress: creation and {@link #newCounter} block (file I/O, the monitor); counter writes are wait-free
 *       ({@code setRelease}, read by another process with {@code getLongVolatile} through {@link CountersFile}).</li>
 *   <li>Publication: the header and the counter records are plain stores; the magic word is written last with a
 *       release store (read by {@link CountersFile#open} via {@code getLongAcquire}), as Agrona's
 *       {@code CountersManager.allocate} publishes a record by its state word.</li>
 *   <li>Bad input (a directory that is a file, a label too long, a capacity out of range) throws
 *       {@link IllegalArgumentException} naming the value and the rule, and creates nothing.</li>
 * </ul>
 */
public final class PasidkitCounters implements AutoCloseable
{
    /** Counters a file holds by default. */
    public static final int DEFAULT_MAX_COUNTERS = 256;
    /** Publish interval recorded in the header by default (what the publisher uses). */
    public static final long DEFAULT_PUBLISH_INTERVAL_MS = 100;

    private final Path path;
    private final long pid;
    private final long startTimeMs;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final CountersManager manager;
    private boolean closed;

    private PasidkitCounters(final Path path, final MappedByteBuffer mapped, final int maxCounters,
        final String label, final long publishIntervalMs)
    {
        this.path = path;
        this.mapped = mapped;
        this.pid = ProcessHandle.current().pid();
        this.startTimeMs = currentProcessStartMs();
        final int values = valuesLength(maxCounters);
        final int metadata = values * METADATA_PER_VALUE;
        this.header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        final UnsafeBuffer metaBuffer = new UnsafeBuffer(mapped, metadataOffset(), metadata);
        final UnsafeBuffer valuesBuffer = new UnsafeBuffer(mapped, valuesOffset(metadata), values);
        header.putInt(LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
        header.putInt(HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        header.putLong(PID_OFFSET, pid);
        header.putLong(START_TIME_MS_OFFSET, startTimeMs);
        header.putInt(METADATA_LENGTH_OFFSET, metadata);
        header.putInt(VALUES_LENGTH_OFFSET, values);
        header.putLong(PUBLISH_INTERVAL_MS_OFFSET, publishIntervalMs);
        header.putLong(LAST_PUBLISH_MS_OFFSET, System.currentTimeMillis());
        header.putInt(STATUS_OFFSET, STATUS_RUNNING);
        final byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
        header.putInt(LABEL_LENGTH_OFFSET, bytes.length);
        header.putBytes(LABEL_OFFSET, bytes);
        this.manager = new CountersManager(metaBuffer, valuesBuffer, StandardCharsets.US_ASCII);
        // NOTE: last, release: read by CountersFile.open via getLongAcquire; before it the file is torn.
        header.putLongRelease(MAGIC_OFFSET, MAGIC);
    }

    /** The default directory: {@code <java.io.tmpdir>/pasidkit-counters}. */
    public static Path defaultDirectory()
    {
        return Paths.get(System.getProperty("java.io.tmpdir"), "pasidkit-counters");
    }

    /** Creates this process's counters file in {@code directory} (created if missing), with the defaults. */
    public static PasidkitCounters create(final Path directory, final String label)
    {
        return create(directory, label, DEFAULT_MAX_COUNTERS, DEFAULT_PUBLISH_INTERVAL_MS);
    }

    /**
     * Creates this process's counters file in {@code directory} (created if missing).
     *
     * @param label what the process is (US-ASCII, at most 60 bytes), e.g. {@code "stress"}.
     */
    public static PasidkitCounters create(final Path directory, final String label, final int maxCounters,
        final long publishIntervalMs)
    {
        checkCapacity(maxCounters);
        if (null == label || !StandardCharsets.US_ASCII.newEncoder().canEncode(label) ||
            label.length() > MAX_LABEL_LENGTH)
        {
            throw new IllegalArgumentException("counters label " + label + " must be US-ASCII of at most " +
                MAX_LABEL_LENGTH + " characters");
        }
        if (publishIntervalMs < 1)
        {
            throw new IllegalArgumentException("publish interval " + publishIntervalMs + " ms must be >= 1");
        }
        if (null == directory)
        {
            throw new IllegalArgumentException("counters directory null must be a directory path");
        }
        if (Files.exists(directory) && !Files.isDirectory(directory))
        {
            throw new IllegalArgumentException("counters directory " + directory + " must be a directory (it is a file)");
        }
        try
        {
            Files.createDirectories(directory);
            final Path path = claimPath(directory);
            final long length = fileLength(maxCounters);
            final MappedByteBuffer mapped;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE))
            {
                mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, length); // grows the file, zero-filled
            }
            mapped.order(ByteOrder.LITTLE_ENDIAN);
            return new PasidkitCounters(path, mapped, maxCounters, label, publishIntervalMs);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("counters directory " + directory + " must be writable: " + ex, ex);
        }
    }

    /**
     * {@code <pid>.dat}, or the first {@code <pid>-N.dat} not held by a live process: a file of a process that has
     * gone (its pid reused) is deleted; a file of a live process (this one: a second instance) or one that is not a
     * counters file is left alone.
     */
    private static Path claimPath(final Path directory) throws IOException
    {
        final long pid = ProcessHandle.current().pid();
        for (int n = 1; ; n++)
        {
            final Path candidate = directory.resolve(1 == n ? pid + ".dat" : pid + "-" + n + ".dat");
            if (!Files.exists(candidate))
            {
                return candidate;
            }
            boolean gone = false;
            try (CountersFile old = CountersFile.open(candidate))
            {
                gone = !old.processAlive();
            }
            catch (final CountersFileException notOurs)
            {
                // NOTE: not a (readable) counters file: not ours to delete, try the next name.
            }
            if (gone)
            {
                Files.deleteIfExists(candidate);
                return candidate;
            }
        }
    }

    /** This process's start time in epoch ms, as {@link CountersFile#processAlive} compares it. */
    static long currentProcessStartMs()
    {
        return ProcessHandle.current().info().startInstant().map(java.time.Instant::toEpochMilli)
            .orElseGet(() -> ManagementFactory.getRuntimeMXBean().getStartTime());
    }

    /**
     * A new counter (allocated in the file; its record is published by Agrona with a release store).
     *
     * @param typeId the counter's type (see {@link PasidkitCounterTypes}).
     * @throws IllegalStateException if the file is full or closed.
     */
    public synchronized AtomicCounter newCounter(final int typeId, final String label, final CounterKind kind)
    {
        if (closed)
        {
            throw new IllegalStateException("counters file " + path + " is closed");
        }
        if (manager.available() < 1)
        {
            throw new IllegalStateException("counters file " + path + " is full (" + manager.capacity() +
                " counters)");
        }
        return manager.newCounter(label, typeId, (key) -> key.putInt(0, kind.ordinal()));
    }

    /** The heartbeat: the time of the latest publish (release; read by {@link CountersFile#lastPublishMs}). */
    public void heartbeat(final long nowMs)
    {
        if (!closed)
        {
            header.putLongRelease(LAST_PUBLISH_MS_OFFSET, nowMs);
        }
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

    /**
     * Marks the file closed (it stays, with its last values, until {@code ./pasidkit stat --clean}). The mapping is
     * not unmapped by hand: a counter still held somewhere would then write to unmapped memory; it goes when the
     * buffers are collected.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        header.putLongRelease(LAST_PUBLISH_MS_OFFSET, System.currentTimeMillis());
        header.putIntRelease(STATUS_OFFSET, STATUS_CLOSED);
        mapped.force();
    }
}
