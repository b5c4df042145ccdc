package org.pasidkit.tables.internal;

/**
 * Layout of the PASID table: a directory of 8-byte entries, each pointing to a lazily allocated leaf of
 * {@link #LEAF_ENTRIES} 64-byte PASID entries (the VT-d scalable-mode shape: PASID[19:6] indexes the directory,
 * PASID[5:0] the leaf).
 * <pre>
 *   directory (one buffer, 8 bytes an entry)          leaf (one buffer, 64 entries x 64 bytes = 4 KiB)
 *   +-----------------------------+                   +------------------------------------------------+
 *   | leaf index + 1 (0 = absent) | ---------------&gt;  | entry 0 | entry 1 | ...          | entry 63     |
 *   +-----------------------------+                   +------------------------------------------------+
 *
 *   PASID entry, 64 bytes:
 *   0        8                 16        24        32         36          40            48             56   64
 *   +--------+-----------------+---------+---------+----------+-----------+-------------+--------------+----+
 *   | seq    | state word      | owner   | root    | bonds    | first     | retire      | suppressed   |    |
 *   | long   | gen:32|flags:8  | long    | long    | int      | bond slot | epoch long  | faults long  |pad |
 *   |        | |state:8        |         |         |          | int       |             |              |    |
 *   +--------+-----------------+---------+---------+----------+-----------+-------------+--------------+----+
 *   seq: odd while the (single) writer rewrites the entry; readers retry on odd or changed seq.
 *   state word: written last with a release store (a half-written entry never looks ACTIVE).
 *   suppressed faults: counted atomically by fault reports, outside the seq protocol.
 * </pre>
 */
public final class PasidTableDescriptor
{
    public static final int DIRECTORY_ENTRY_LENGTH = 8;
    public static final int LEAF_SHIFT = 6;
    public static final int LEAF_ENTRIES = 1 << LEAF_SHIFT;
    public static final int ENTRY_LENGTH = 64;
    public static final int LEAF_LENGTH = LEAF_ENTRIES * ENTRY_LENGTH;

    public static final int SEQ_OFFSET = 0;
    public static final int STATE_WORD_OFFSET = 8;
    public static final int OWNER_OFFSET = 16;
    public static final int ROOT_OFFSET = 24;
    public static final int BOND_COUNT_OFFSET = 32;
    public static final int FIRST_BOND_OFFSET = 36;
    public static final int RETIRE_EPOCH_OFFSET = 40;
    public static final int SUPPRESSED_FAULTS_OFFSET = 48;

    /** Entry never used, or back in the allocator. */
    public static final int STATE_INVALID = 0;
    /** Live: translations through {@code root}, faults reported. */
    public static final int STATE_ACTIVE = 1;
    /** Owner gone: root is the dummy invalid root, faults suppressed, waiting for drivers to unbind. */
    public static final int STATE_TEARDOWN = 2;
    /** Given back to the allocator's reclaim queue. */
    public static final int STATE_RETIRED = 3;

    public static final int FLAG_FAULTS_ON = 1;
    public static final int FLAG_PRIVATE = 2;
    public static final int FLAG_STANDALONE = 4;

    /** Root of an entry in teardown: a table with only invalid entries. */
    public static final long DUMMY_ROOT = Long.MIN_VALUE;
    /** Root of a standalone PASID (no address space behind it). */
    public static final long NO_ROOT = Long.MIN_VALUE + 1;

    private PasidTableDescriptor()
    {
    }

    public static long stateWord(final int generation, final int flags, final int state)
    {
        return ((long)generation << 32) | ((flags & 0xFFL) << 8) | (state & 0xFFL);
    }

    public static int state(final long stateWord)
    {
        return (int)(stateWord & 0xFF);
    }

    public static int flags(final long stateWord)
    {
        return (int)((stateWord >>> 8) & 0xFF);
    }

    public static int generation(final long stateWord)
    {
        return (int)(stateWord >>> 32);
    }

    public static int directoryLength(final int maxPasid)
    {
        return ((maxPasid >>> LEAF_SHIFT) + 1) * DIRECTORY_ENTRY_LENGTH;
    }

    public static int entryOffset(final int pasid)
    {
        return (pasid & (LEAF_ENTRIES - 1)) * ENTRY_LENGTH;
    }

    public static String stateName(final int state)
    {
        switch (state)
        {
            case STATE_INVALID: return "INVALID";
            case STATE_ACTIVE: return "ACTIVE";
            case STATE_TEARDOWN: return "TEARDOWN";
            case STATE_RETIRED: return "RETIRED";
            default: return "UNKNOWN(" + state + ")";
        }
    }
}
