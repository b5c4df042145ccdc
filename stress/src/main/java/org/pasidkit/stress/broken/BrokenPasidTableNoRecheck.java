package org.pasidkit.stress.broken;

import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * BROKEN on purpose: {@code org.pasidkit.tables.internal.PasidTable} whose seqlock reader {@link #snapshot} checks
 * only that the sequence is even before it reads, and never re-reads it after (no {@code loadLoadFence}, no second
 * check). The writer is the production one, reduced to one leaf allocated up front. A snapshot that overlaps a write
 * mixes two lives of the entry.
 */
public final class BrokenPasidTableNoRecheck
{
    private final UnsafeBuffer leaf = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LEAF_LENGTH, 64));

    private void beginWrite(final int offset)
    {
        leaf.putLongOpaque(offset + SEQ_OFFSET, leaf.getLong(offset + SEQ_OFFSET) + 1);
        VarHandle.storeStoreFence();
    }

    private void endWrite(final int offset, final long stateWord)
    {
        leaf.putLongRelease(offset + STATE_WORD_OFFSET, stateWord);
        leaf.putLongRelease(offset + SEQ_OFFSET, leaf.getLong(offset + SEQ_OFFSET) + 1);
    }

    public int activate(final int pasid, final long owner, final long root, final int flags)
    {
        final int offset = entryOffset(pasid);
        final int generation = generation(leaf.getLong(offset + STATE_WORD_OFFSET)) + 1;
        beginWrite(offset);
        leaf.putLong(offset + OWNER_OFFSET, owner);
        leaf.putLong(offset + ROOT_OFFSET, root);
        leaf.putInt(offset + BOND_COUNT_OFFSET, 0);
        leaf.putInt(offset + FIRST_BOND_OFFSET, 0);
        leaf.putLong(offset + RETIRE_EPOCH_OFFSET, 0);
        endWrite(offset, stateWord(generation, flags, STATE_ACTIVE));
        return generation;
    }

    public void retire(final int pasid, final long epoch)
    {
        final int offset = entryOffset(pasid);
        final long stateWord = leaf.getLong(offset + STATE_WORD_OFFSET);
        beginWrite(offset);
        leaf.putLong(offset + ROOT_OFFSET, DUMMY_ROOT);
        leaf.putLong(offset + RETIRE_EPOCH_OFFSET, epoch);
        endWrite(offset, stateWord(generation(stateWord), 0, STATE_RETIRED));
    }

    /**
     * Fills {@code out} with state, generation, owner, root.
     */
    public void snapshot(final int pasid, final long[] out)
    {
        final int offset = entryOffset(pasid);
        while (true)
        {
            final long seq = leaf.getLongAcquire(offset + SEQ_OFFSET);
            if (0 == (seq & 1))
            {
                final long stateWord = leaf.getLongOpaque(offset + STATE_WORD_OFFSET);
                out[0] = state(stateWord);
                out[1] = generation(stateWord);
                out[2] = leaf.getLongOpaque(offset + OWNER_OFFSET);
                out[3] = leaf.getLongOpaque(offset + ROOT_OFFSET);
                // BROKEN: production fences here (loadLoadFence) and retries unless the seq is unchanged.
                return;
            }
            Thread.onSpinWait();
        }
    }
}
