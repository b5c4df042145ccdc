package org.pasidkit.tables.internal;

import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.pasidkit.tables.PasidEntryView;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * The two-level off-heap PASID table (layout: {@link PasidTableDescriptor}).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: one writer at a time (the caller serializes writers, e.g. {@code PasidSpace}'s control lock);
 *       any number of readers, never blocked by the writer.</li>
 *   <li>Progress: readers are lock-free ({@link #snapshot} retries only while a write to that very entry is in
 *       flight); writes are wait-free.</li>
 *   <li>Publication: a leaf is published by a release store of its directory entry, read by {@link #leaf} via
 *       {@code getLongAcquire}. An entry's state word is written last with a release store, read by
 *       {@link #stateWord} via {@code getLongAcquire}: a reader of the state word alone never sees a half-written
 *       entry as valid. {@link #snapshot} uses the entry's sequence word for a consistent copy of every field.</li>
 *   <li>Memory: the directory is allocated up front ({@code 8 * (max / 64 + 1)} bytes, 128 KiB for 20 bits); a
 *       4 KiB leaf is allocated the first time one of its 64 PASIDs is activated and is kept after.</li>
 * </ul>
 */
public final class PasidTable
{
    private final UnsafeBuffer directory;
    private final UnsafeBuffer[] leaves;
    private final int maxPasid;
    private int leafCount;

    public PasidTable(final int maxPasid)
    {
        this.maxPasid = maxPasid;
        final int length = directoryLength(maxPasid);
        this.directory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(length, 64));
        this.leaves = new UnsafeBuffer[length / DIRECTORY_ENTRY_LENGTH];
    }

    public int maxPasid()
    {
        return maxPasid;
    }

    /** The leaf holding {@code pasid}, or null if none was ever allocated (reader side). */
    public UnsafeBuffer leaf(final int pasid)
    {
        final int index = pasid >>> LEAF_SHIFT;
        if (0 == directory.getLongAcquire(index * DIRECTORY_ENTRY_LENGTH))
        {
            return null;
        }
        return leaves[index];
    }

    private UnsafeBuffer leafForWrite(final int pasid)
    {
        final int index = pasid >>> LEAF_SHIFT;
        UnsafeBuffer leaf = leaves[index];
        if (null == leaf)
        {
            leaf = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LEAF_LENGTH, 64));
            leaves[index] = leaf;
            leafCount++;
            // NOTE: release store, read by leaf() via getLongAcquire: the leaves[] store and the zeroed leaf happen
            // before any reader follows the directory entry.
            directory.putLongRelease(index * DIRECTORY_ENTRY_LENGTH, 1L);
        }
        return leaf;
    }

    /** State word of {@code pasid} (acquire), 0 (INVALID, generation 0) if its leaf does not exist. */
    public long stateWord(final int pasid)
    {
        final UnsafeBuffer leaf = leaf(pasid);
        return null == leaf ? 0 : leaf.getLongAcquire(entryOffset(pasid) + STATE_WORD_OFFSET);
    }

    /** Writer: one plain field of an entry whose leaf exists (inside {@link #begin}/{@link #publish}). */
    private static void beginWrite(final UnsafeBuffer leaf, final int offset)
    {
        final long seq = leaf.getLong(offset + SEQ_OFFSET);
        leaf.putLongOpaque(offset + SEQ_OFFSET, seq + 1);
        // NOTE: the odd seq must be visible before any field store: readers that see a new field also see odd seq.
        VarHandle.storeStoreFence();
    }

    private static void endWrite(final UnsafeBuffer leaf, final int offset, final long stateWord)
    {
        // NOTE: state word last, release: read by stateWord() via getLongAcquire.
        leaf.putLongRelease(offset + STATE_WORD_OFFSET, stateWord);
        // NOTE: release, read by snapshot()'s second getLongAcquire of seq.
        leaf.putLongRelease(offset + SEQ_OFFSET, leaf.getLong(offset + SEQ_OFFSET) + 1);
    }

    /**
     * Writer: makes {@code pasid} ACTIVE for a new life (generation + 1).
     *
     * @return the new generation.
     */
    public int activate(final int pasid, final long owner, final long root, final int flags)
    {
        final UnsafeBuffer leaf = leafForWrite(pasid);
        final int offset = entryOffset(pasid);
        final int generation = generation(leaf.getLong(offset + STATE_WORD_OFFSET)) + 1;
        beginWrite(leaf, offset);
        leaf.putLong(offset + OWNER_OFFSET, owner);
        leaf.putLong(offset + ROOT_OFFSET, root);
        leaf.putInt(offset + BOND_COUNT_OFFSET, 0);
        leaf.putInt(offset + FIRST_BOND_OFFSET, 0);
        leaf.putLong(offset + RETIRE_EPOCH_OFFSET, 0);
        endWrite(leaf, offset, PasidTableDescriptor.stateWord(generation, flags, STATE_ACTIVE));
        return generation;
    }

    /** Writer: updates the bond list head and count. */
    public void bonds(final int pasid, final int count, final int firstBond)
    {
        final UnsafeBuffer leaf = leaves[pasid >>> LEAF_SHIFT];
        final int offset = entryOffset(pasid);
        final long stateWord = leaf.getLong(offset + STATE_WORD_OFFSET);
        beginWrite(leaf, offset);
        leaf.putInt(offset + BOND_COUNT_OFFSET, count);
        leaf.putInt(offset + FIRST_BOND_OFFSET, firstBond);
        endWrite(leaf, offset, stateWord);
    }

    /** Writer: TEARDOWN: root becomes the dummy invalid root, fault reporting goes off. */
    public void teardown(final int pasid)
    {
        final UnsafeBuffer leaf = leaves[pasid >>> LEAF_SHIFT];
        final int offset = entryOffset(pasid);
        final long stateWord = leaf.getLong(offset + STATE_WORD_OFFSET);
        beginWrite(leaf, offset);
        leaf.putLong(offset + ROOT_OFFSET, DUMMY_ROOT);
        endWrite(leaf, offset, PasidTableDescriptor.stateWord(
            generation(stateWord), flags(stateWord) & ~FLAG_FAULTS_ON, STATE_TEARDOWN));
    }

    /** Writer: RETIRED: handed to the allocator's reclaim queue in {@code epoch}. */
    public void retire(final int pasid, final long epoch)
    {
        final UnsafeBuffer leaf = leaves[pasid >>> LEAF_SHIFT];
        final int offset = entryOffset(pasid);
        final long stateWord = leaf.getLong(offset + STATE_WORD_OFFSET);
        beginWrite(leaf, offset);
        leaf.putLong(offset + ROOT_OFFSET, DUMMY_ROOT);
        leaf.putLong(offset + RETIRE_EPOCH_OFFSET, epoch);
        endWrite(leaf, offset, PasidTableDescriptor.stateWord(generation(stateWord), 0, STATE_RETIRED));
    }

    /** Counts a fault that was suppressed because the entry is in teardown (any thread, atomic). */
    public void countSuppressedFault(final int pasid)
    {
        final UnsafeBuffer leaf = leaf(pasid);
        if (null != leaf)
        {
            leaf.getAndAddLong(entryOffset(pasid) + SUPPRESSED_FAULTS_OFFSET, 1);
        }
    }

    /**
     * Reader: a consistent copy of every field of the entry (lock-free; allocation-free).
     *
     * @return false if the PASID's leaf was never allocated (the view is then INVALID).
     */
    public boolean snapshot(final int pasid, final PasidEntryView into)
    {
        final UnsafeBuffer leaf = leaf(pasid);
        if (null == leaf)
        {
            into.clear(pasid);
            return false;
        }
        final int offset = entryOffset(pasid);
        while (true)
        {
            final long seq = leaf.getLongAcquire(offset + SEQ_OFFSET);
            if (0 == (seq & 1))
            {
                final long stateWord = leaf.getLongOpaque(offset + STATE_WORD_OFFSET);
                final long owner = leaf.getLongOpaque(offset + OWNER_OFFSET);
                final long root = leaf.getLongOpaque(offset + ROOT_OFFSET);
                final int bondCount = leaf.getIntOpaque(offset + BOND_COUNT_OFFSET);
                final int firstBond = leaf.getIntOpaque(offset + FIRST_BOND_OFFSET);
                final long retireEpoch = leaf.getLongOpaque(offset + RETIRE_EPOCH_OFFSET);
                // NOTE: the field loads must not move after the second seq load.
                VarHandle.loadLoadFence();
                if (leaf.getLongAcquire(offset + SEQ_OFFSET) == seq)
                {
                    into.set(pasid, state(stateWord), flags(stateWord), generation(stateWord), owner, root, bondCount,
                        firstBond, retireEpoch, leaf.getLongVolatile(offset + SUPPRESSED_FAULTS_OFFSET));
                    return true;
                }
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Reader: starts a seq-validated read of an entry: waits out a write in flight on that entry.
     *
     * @return the even seq to pass to {@link #readValidate}, or -1 if the entry's leaf does not exist.
     */
    public long readBegin(final int pasid)
    {
        final UnsafeBuffer leaf = leaf(pasid);
        if (null == leaf)
        {
            return -1;
        }
        final int offset = entryOffset(pasid) + SEQ_OFFSET;
        while (true)
        {
            final long seq = leaf.getLongAcquire(offset);
            if (0 == (seq & 1))
            {
                return seq;
            }
            Thread.onSpinWait();
        }
    }

    /** Reader: true if no write touched the entry since {@link #readBegin} returned {@code seq}. */
    public boolean readValidate(final int pasid, final long seq)
    {
        // NOTE: the reads being validated must not move after the seq load.
        VarHandle.loadLoadFence();
        return leaves[pasid >>> LEAF_SHIFT].getLongAcquire(entryOffset(pasid) + SEQ_OFFSET) == seq;
    }

    /** Reader field loads, valid only between {@link #readBegin} and a successful {@link #readValidate}. */
    public long stateWordPlain(final int pasid)
    {
        return leaves[pasid >>> LEAF_SHIFT].getLongOpaque(entryOffset(pasid) + STATE_WORD_OFFSET);
    }

    public long owner(final int pasid)
    {
        return leaves[pasid >>> LEAF_SHIFT].getLongOpaque(entryOffset(pasid) + OWNER_OFFSET);
    }

    public long root(final int pasid)
    {
        return leaves[pasid >>> LEAF_SHIFT].getLongOpaque(entryOffset(pasid) + ROOT_OFFSET);
    }

    public int firstBond(final int pasid)
    {
        return leaves[pasid >>> LEAF_SHIFT].getIntOpaque(entryOffset(pasid) + FIRST_BOND_OFFSET);
    }

    /** Leaves allocated so far. */
    public int leafCount()
    {
        return leafCount;
    }

    /** Native bytes: directory plus the leaves allocated so far. */
    public long nativeBytes()
    {
        return directory.capacity() + (long)leafCount * LEAF_LENGTH;
    }
}
