package org.pasidkit.tables.counters;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pasidkit.allocator.PasidAllocator;
import org.pasidkit.tables.AtcInvalidator;
import org.pasidkit.tables.PasidSpace;

import static org.junit.jupiter.api.Assertions.*;

class CountersFileTest
{
    @TempDir
    Path dir;

    @Test
    void aBareAllocatorsCountsAreReadBack()
    {
        final PasidAllocator allocator = PasidAllocator.builder().range(1, 4095).build();
        try (CountersPublisher publisher = CountersPublisher.forAllocator(allocator, dir, "bare"))
        {
            for (int i = 0; i < 10; i++)
            {
                assertTrue(allocator.allocate() > 0);
            }
            publisher.publishNow();
            try (CountersFile file = CountersFile.open(publisher.path()))
            {
                final Map<String, Long> values = read(file);
                assertEquals(10, values.get("allocator ids in use"));
                assertEquals(4095, values.get("allocator ids in range"));
                assertEquals(ProcessHandle.current().pid(), file.pid());
                assertEquals(ProcessHandle.current().pid(), values.get("process id"));
                assertEquals("bare", file.label());
                assertTrue(file.processAlive());
                assertFalse(file.closedByWriter());
                assertTrue(file.lastPublishMs() > 0);
                final Map<String, CounterKind> kinds = new HashMap<>();
                file.forEach((id, type, kind, label, value) -> kinds.put(label, kind));
                assertEquals(CounterKind.TOTAL, kinds.get("allocator reclaim passes"));
                assertEquals(CounterKind.GAUGE, kinds.get("allocator ids in use"));
            }
        }
    }

    @Test
    void aSpaceWithCountersPublishesItsCountsAndInvalidatorAndClosesItsFile() throws Exception
    {
        final PasidSpace space = PasidSpace.builder().maxPasid(1023).counters(dir, "space").build();
        final AtcInvalidator invalidator = new AtcInvalidator(space, 1 << 16, 64, 2L << 20, 1_000_000_000L, 2);
        space.counters().addInvalidator(invalidator);
        space.openOwner("o");
        space.counters().publishNow();
        final Path path = space.counters().path();
        assertEquals(ProcessHandle.current().pid() + ".dat", path.getFileName().toString());
        try (CountersFile file = CountersFile.open(path))
        {
            final Map<String, Long> values = read(file);
            assertEquals(1, values.get("space owners"));
            assertEquals(0, values.get("ATC invalidation commands"));
            assertEquals(0, values.get("space refusals foreign"));
            space.counters().close();
            assertTrue(file.closedByWriter());
            assertTrue(Files.exists(path), "the file stays, marked closed");
        }
        space.counters().close(); // idempotent
    }

    @Test
    void aSecondInstanceInOneProcessGetsItsOwnFileAndAGoneProcesssFileIsReplaced() throws Exception
    {
        final long pid = ProcessHandle.current().pid();
        // A file named for this pid, left by an earlier process with the same pid (another start time): replaced.
        try (PasidkitCounters first = PasidkitCounters.create(dir, "first"))
        {
            first.newCounter(PasidkitCounterTypes.APPLICATION, "x", CounterKind.TOTAL);
        }
        try (RandomAccessFile raf = new RandomAccessFile(dir.resolve(pid + ".dat").toFile(), "rw"))
        {
            raf.seek(CountersFileDescriptor.START_TIME_MS_OFFSET);
            raf.write(le(12345L));
        }
        try (CountersFile old = CountersFile.open(dir.resolve(pid + ".dat")))
        {
            assertFalse(old.processAlive(), "another start time: a reused pid, not this process");
        }
        try (PasidkitCounters a = PasidkitCounters.create(dir, "a");
            PasidkitCounters b = PasidkitCounters.create(dir, "b"))
        {
            assertEquals(pid + ".dat", a.path().getFileName().toString());
            assertEquals(pid + "-2.dat", b.path().getFileName().toString());
            try (CountersFile file = CountersFile.open(a.path()))
            {
                assertEquals("a", file.label());
                assertEquals(0, file.forEach((id, type, kind, label, value) -> { }));
            }
        }
    }

    @Test
    void aTornFileIsRefused() throws Exception
    {
        final Path path = written();
        patch(path, CountersFileDescriptor.MAGIC_OFFSET, le(0L));
        final CountersFileException ex = assertThrows(CountersFileException.class, () -> CountersFile.open(path));
        assertTrue(ex.getMessage().contains("torn: magic 0"), ex.getMessage());
    }

    @Test
    void aForeignFileIsRefused() throws Exception
    {
        final Path path = dir.resolve("foreign.dat");
        final byte[] bytes = new byte[4096];
        new Random(7).nextBytes(bytes);
        Files.write(path, bytes);
        final CountersFileException ex = assertThrows(CountersFileException.class, () -> CountersFile.open(path));
        assertTrue(ex.getMessage().contains("not a pasidkit counters file: magic 0x"), ex.getMessage());
    }

    @Test
    void aNewerLayoutIsRefused() throws Exception
    {
        final Path path = written();
        patch(path, CountersFileDescriptor.LAYOUT_VERSION_OFFSET, le(2));
        final CountersFileException ex = assertThrows(CountersFileException.class, () -> CountersFile.open(path));
        assertTrue(ex.getMessage().contains("layout version 2 is newer than this reader's 1"), ex.getMessage());
    }

    @Test
    void aTruncatedFileIsRefused() throws Exception
    {
        final Path path = written();
        final long full = Files.size(path);
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.setLength(full - 1);
        }
        CountersFileException ex = assertThrows(CountersFileException.class, () -> CountersFile.open(path));
        assertTrue(ex.getMessage().contains("truncated: " + (full - 1) + " bytes, the header says"),
            ex.getMessage());
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.setLength(100);
        }
        ex = assertThrows(CountersFileException.class, () -> CountersFile.open(path));
        assertTrue(ex.getMessage().contains("truncated: 100 bytes, shorter than the 128-byte header"),
            ex.getMessage());
    }

    @Test
    void aCorruptHeaderIsRefused() throws Exception
    {
        final Path path = written();
        patch(path, CountersFileDescriptor.METADATA_LENGTH_OFFSET, le(12));
        final CountersFileException ex = assertThrows(CountersFileException.class, () -> CountersFile.open(path));
        assertTrue(ex.getMessage().contains("metadata length 12 must be 4 x the values length"), ex.getMessage());
    }

    @Test
    void aMissingFileIsRefused()
    {
        final CountersFileException ex = assertThrows(CountersFileException.class,
            () -> CountersFile.open(dir.resolve("nope.dat")));
        assertTrue(ex.getMessage().contains("no such file"), ex.getMessage());
    }

    @Test
    void badInputToCreateChangesNothing() throws Exception
    {
        final Path notADirectory = dir.resolve("plain-file");
        Files.write(notADirectory, new byte[1]);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> PasidkitCounters.create(notADirectory, "x"));
        assertTrue(ex.getMessage().contains("must be a directory"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> PasidkitCounters.create(dir, "x", 0, 100));
        assertTrue(ex.getMessage().contains("counter capacity 0 must be in [1, 4096]"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> PasidkitCounters.create(dir, "\u00e9t\u00e9"));
        assertTrue(ex.getMessage().contains("must be US-ASCII"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> PasidSpace.builder().counters(dir, ""));
        assertTrue(ex.getMessage().contains("must be 1 to 60 US-ASCII characters"), ex.getMessage());
        try (var files = Files.list(dir))
        {
            assertEquals(1, files.count(), "nothing created beside the plain file");
        }
    }

    @Test
    void aFullFileSaysSo()
    {
        try (PasidkitCounters file = PasidkitCounters.create(dir, "tiny", 1, 100))
        {
            file.newCounter(PasidkitCounterTypes.APPLICATION, "one", CounterKind.TOTAL);
            final IllegalStateException ex = assertThrows(IllegalStateException.class,
                () -> file.newCounter(PasidkitCounterTypes.APPLICATION, "two", CounterKind.TOTAL));
            assertTrue(ex.getMessage().contains("is full (1 counters)"), ex.getMessage());
        }
    }

    private Path written()
    {
        final Path path;
        try (PasidkitCounters file = PasidkitCounters.create(dir, "x"))
        {
            file.newCounter(PasidkitCounterTypes.APPLICATION, "x", CounterKind.TOTAL).setRelease(5);
            path = file.path();
        }
        try (CountersFile file = CountersFile.open(path))
        {
            assertEquals(5, read(file).get("x"));
        }
        return path;
    }

    private static void patch(final Path path, final int offset, final byte[] bytes) throws Exception
    {
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.seek(offset);
            raf.write(bytes);
        }
    }

    private static byte[] le(final long value)
    {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static byte[] le(final int value)
    {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    static Map<String, Long> read(final CountersFile counters)
    {
        final Map<String, Long> values = new HashMap<>();
        counters.forEach((id, type, kind, label, value) -> values.put(label, value));
        return values;
    }
}
