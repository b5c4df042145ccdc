package org.pasidkit.tables.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AtcWaysTest
{
    @Test
    void validBitsFollowTheWays()
    {
        final int base = AtcWays.STRIDE;
        final long[] chunk = new long[3 * AtcWays.STRIDE];
        assertEquals(0, AtcWays.invalidate(chunk, base, true, 0, 0), "an empty ATC");
        for (long page = 0; page < AtcWays.WAYS + 3; page++)
        {
            AtcWays.fill(chunk, base, 0x100 + page);
        }
        assertEquals(AtcWays.WAYS, AtcWays.cached(chunk, base), "round-robin: the ways are full");
        assertEquals(AtcWays.WAYS, AtcWays.countIn(chunk, base, 0x100, 0x200));
        assertEquals(1, AtcWays.countIn(chunk, base, 0x104, 0x104));
        assertEquals(0, AtcWays.countIn(chunk, base, 0x100, 0x102), "replaced by the last three fills");
        // span of 4 pages (size shift 2) holding 0x104..0x107
        assertEquals(4, AtcWays.invalidate(chunk, base, false, 2, 0x104 >>> 2));
        assertEquals(AtcWays.WAYS - 4, AtcWays.cached(chunk, base));
        assertEquals(0, AtcWays.countIn(chunk, base, 0x104, 0x107));
        assertEquals(0, AtcWays.hiddenPages(chunk, base));
        assertEquals(AtcWays.WAYS - 4, AtcWays.invalidate(chunk, base, true, 0, 0));
        assertEquals(0, AtcWays.cached(chunk, base));
        assertEquals(0, AtcWays.hiddenPages(chunk, base));
        assertEquals(0, chunk[AtcWays.VALID] | chunk[2 * AtcWays.STRIDE + AtcWays.VALID], "neighbours untouched");
    }
}
