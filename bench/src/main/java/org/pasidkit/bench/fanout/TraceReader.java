package org.pasidkit.bench.fanout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Reads {@code time_us,mm,event,addr,length} traces. The whole file is validated before anything is replayed:
 * a bad header, a bad number, an unknown event, a change or exit of an address space that has not started (or has
 * exited), or a second start is rejected with the file, the line number and the reason.
 */
public final class TraceReader
{
    /** The expected header line. */
    public static final String HEADER = "time_us,mm,event,addr,length";
    /** Names of the traces bundled as resources. */
    public static final String[] BUNDLED = {"javac", "shell"};

    /** A malformed trace: the message names the file, the line and the reason. */
    public static final class MalformedTraceException extends IllegalArgumentException
    {
        private static final long serialVersionUID = 1L;

        MalformedTraceException(final String message)
        {
            super(message);
        }
    }

    private TraceReader()
    {
    }

    /** Reads a bundled trace ({@code javac}, {@code shell}) or a file path. */
    public static Trace read(final String nameOrPath) throws IOException
    {
        for (final String bundled : BUNDLED)
        {
            if (bundled.equals(nameOrPath))
            {
                final InputStream in = TraceReader.class.getResourceAsStream("/traces/" + bundled + ".csv");
                if (null == in)
                {
                    throw new IOException("bundled trace " + bundled + " is missing from the jar");
                }
                try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8))
                {
                    return parse(bundled + ".csv (bundled)", reader);
                }
            }
        }
        final Path path = Path.of(nameOrPath);
        if (!Files.isRegularFile(path))
        {
            throw new IllegalArgumentException("--trace '" + nameOrPath + "': no such file (expected a bundled " +
                "trace, " + String.join(" or ", BUNDLED) + ", or the path of a CSV file " + HEADER + ")");
        }
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8))
        {
            return parse(path.toString(), reader);
        }
    }

    /** Parses and validates a whole trace. */
    public static Trace parse(final String file, final Reader source) throws IOException
    {
        final BufferedReader in = source instanceof BufferedReader ? (BufferedReader)source : new BufferedReader(source);
        final Trace trace = new Trace(file, 1024);
        final Set<Long> live = new HashSet<>();
        final Set<Long> exited = new HashSet<>();
        String line = in.readLine();
        int lineNo = 1;
        if (null == line || !HEADER.equals(line.strip()))
        {
            throw new MalformedTraceException(file + ":1: bad header '" + line + "', expected '" + HEADER + "'");
        }
        long lastTime = Long.MIN_VALUE;
        while (null != (line = in.readLine()))
        {
            lineNo++;
            if (line.isBlank())
            {
                continue;
            }
            final String where = file + ":" + lineNo + ": ";
            final String[] f = line.split(",", -1);
            if (f.length != 5)
            {
                throw new MalformedTraceException(where + "expected 5 fields, found " + f.length + " in '" + line + "'");
            }
            final long time = number(where, "time_us", f[0], false);
            final long mm = number(where, "mm", f[1], false);
            if (time < lastTime)
            {
                throw new MalformedTraceException(where + "time_us " + time + " goes back (previous " + lastTime + ")");
            }
            lastTime = time;
            final Trace.Event event;
            try
            {
                event = Trace.Event.valueOf(f[2].strip().toUpperCase(Locale.ROOT));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new MalformedTraceException(where + "unknown event '" + f[2] + "' (expected start, exit, munmap, " +
                    "mprotect, madvise, mremap, brk, mmap_fixed)");
            }
            long address = 0;
            long length = 0;
            if (event.isChange())
            {
                address = number(where, "addr", f[3], true);
                length = number(where, "length", f[4], false);
                if (length <= 0)
                {
                    throw new MalformedTraceException(where + "length " + length + " must be > 0");
                }
            }
            switch (event)
            {
                case START:
                    if (live.contains(mm) || exited.contains(mm))
                    {
                        throw new MalformedTraceException(where + "address space " + mm + " starts twice");
                    }
                    live.add(mm);
                    break;
                case EXIT:
                    if (!live.remove(mm))
                    {
                        throw new MalformedTraceException(where + "exit of address space " + mm + " that " +
                            (exited.contains(mm) ? "already exited" : "never started"));
                    }
                    exited.add(mm);
                    break;
                default:
                    if (!live.contains(mm))
                    {
                        throw new MalformedTraceException(where + event.name().toLowerCase(Locale.ROOT) +
                            " of address space " + mm + " that " + (exited.contains(mm) ? "has exited" : "never started"));
                    }
            }
            trace.add(time, mm, event, address, length);
        }
        return trace;
    }

    private static long number(final String where, final String field, final String text, final boolean hex)
    {
        final String s = text.strip();
        try
        {
            if (hex)
            {
                if (!s.startsWith("0x") && !s.startsWith("0X"))
                {
                    throw new NumberFormatException();
                }
                return Long.parseUnsignedLong(s.substring(2), 16);
            }
            final long value = Long.parseLong(s);
            if (value < 0)
            {
                throw new MalformedTraceException(where + field + " " + value + " must be >= 0");
            }
            return value;
        }
        catch (final NumberFormatException ex)
        {
            throw new MalformedTraceException(where + "bad number '" + text + "' in field " + field +
                (hex ? " (expected hex 0x...)" : ""));
        }
    }
}
