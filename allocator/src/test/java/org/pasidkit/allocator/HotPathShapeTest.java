package org.pasidkit.allocator;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shape C2 needs to keep the allocation's cache hit short, read from {@link PasidAllocator}'s class file: the
 * cache hit ({@code allocate()}) small enough to inline into its callers, and the whole miss path ({@code
 * allocateScan}) above the size C2 inlines a hot callee at ({@code -XX:FreqInlineSize}, 325 bytes of bytecode by
 * default on HotSpot 17 through 25). When the refill was a method of its own (240 bytes), C2 inlined it into the cache
 * hit whenever the grace build's ring ran dry often, and the 50%-held set ran 25 ns instead of 17-19
 * (bench/results/miss-path-inline-20261205.txt). A later edit that shrinks the miss path below the cap would bring that
 * back with no other sign: this test fails first.
 */
class HotPathShapeTest
{
    /** HotSpot C2's default -XX:FreqInlineSize on x86-64 and AArch64 (JDK 17, 21, 25). */
    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void missPathIsAboveTheHotInliningCapAndTheHitBelowIt() throws IOException
    {
        final Map<String, Integer> codeLengths = codeLengths(PasidAllocator.class);
        final Integer miss = codeLengths.get("allocateScan(IIIZ)I");
        final Integer hit = codeLengths.get("allocate()I");
        assertNotNull(miss, "PasidAllocator.allocateScan(int, int, int, boolean) not found: " + codeLengths.keySet());
        assertNotNull(hit, "PasidAllocator.allocate() not found: " + codeLengths.keySet());
        assertTrue(miss > FREQ_INLINE_SIZE, "allocateScan is " + miss + " bytes of bytecode; it must stay above " +
            FREQ_INLINE_SIZE + " (FreqInlineSize) so that C2 never inlines the miss path into allocate()");
        assertTrue(hit <= FREQ_INLINE_SIZE, "allocate() is " + hit + " bytes of bytecode; it must stay at most " +
            FREQ_INLINE_SIZE + " so that it inlines into its callers");
    }

    /** Method name + descriptor -> length of its Code attribute, from the class file (JVMS 4.1, 4.4, 4.6, 4.7.3). */
    private static Map<String, Integer> codeLengths(final Class<?> type) throws IOException
    {
        final String resource = type.getSimpleName() + ".class";
        try (InputStream raw = type.getResourceAsStream(resource))
        {
            assertNotNull(raw, resource);
            // NOTE: the whole file in memory first: a ByteArrayInputStream skips exactly what skipBytes asks for.
            final DataInputStream in = new DataInputStream(new ByteArrayInputStream(raw.readAllBytes()));
            in.readInt(); // magic
            in.readUnsignedShort(); // minor
            in.readUnsignedShort(); // major
            final int constants = in.readUnsignedShort();
            final String[] utf8 = new String[constants];
            for (int i = 1; i < constants; i++)
            {
                final int tag = in.readUnsignedByte();
                switch (tag)
                {
                    case 1 -> utf8[i] = in.readUTF();
                    case 7, 8, 16, 19, 20 -> in.skipBytes(2);
                    case 15 -> in.skipBytes(3);
                    case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipBytes(4);
                    case 5, 6 ->
                    {
                        in.skipBytes(8);
                        i++; // NOTE: a long or a double takes two constant pool slots
                    }
                    default -> throw new IOException("constant pool tag " + tag + " at index " + i + " of " + resource);
                }
            }
            in.skipBytes(6); // access flags, this class, super class
            in.skipBytes(2 * in.readUnsignedShort()); // interfaces
            skipMembers(in);
            final Map<String, Integer> lengths = new HashMap<>();
            final int methods = in.readUnsignedShort();
            for (int m = 0; m < methods; m++)
            {
                in.skipBytes(2);
                final String name = utf8[in.readUnsignedShort()];
                final String descriptor = utf8[in.readUnsignedShort()];
                final int attributes = in.readUnsignedShort();
                for (int a = 0; a < attributes; a++)
                {
                    final String attribute = utf8[in.readUnsignedShort()];
                    final int length = in.readInt();
                    if ("Code".equals(attribute))
                    {
                        in.skipBytes(4); // max_stack, max_locals
                        final int codeLength = in.readInt();
                        lengths.put(name + descriptor, codeLength);
                        in.skipBytes(length - 8);
                    }
                    else
                    {
                        in.skipBytes(length);
                    }
                }
            }
            return lengths;
        }
    }

    private static void skipMembers(final DataInputStream in) throws IOException
    {
        final int members = in.readUnsignedShort();
        for (int f = 0; f < members; f++)
        {
            in.skipBytes(6); // access flags, name, descriptor
            final int attributes = in.readUnsignedShort();
            for (int a = 0; a < attributes; a++)
            {
                in.skipBytes(2);
                in.skipBytes(in.readInt());
            }
        }
    }
}
