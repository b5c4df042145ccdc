package org.pasidkit.stress.broken;

import java.lang.invoke.VarHandle;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import org.pasidkit.tables.internal.PasidTableDescriptor;

import static org.pasidkit.tables.internal.PasidTableDescriptor.*;

/**
 * BROKEN on purpose: {@code org.pasidkit.tables.internal.PasidTable}'s writer with the state word published FIRST
 * ("mark valid, then fill in"), before the body it vouches for. Everything else is the production code, reduced to
 * one leaf allocated up front (the race is inside one entry). A reader of the state word can see ACTIVE with the
 * previous life's owner, or TEARDOWN with the live root.
 */
public final class BrokenPasidTableStateFirst
{
    private final UnsafeBuffer leaf = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LEAF_LENGTH, 64));

    public long stateWord(final int pasid)
    {
        return leaf.getLongAcquire(entryOffset(pasid) + STATE_WORD_OFFSET);
    }

    public long owner(final int pasid)
    {
        return leaf.getLongOpaque(entryOffset(pasid) + OWNER_OFFSET);
    }

    public long root(final int pasid)
    {
        return leaf.getLongOpaque(entryOffset(pasid) + ROOT_OFFSET);
    }

    private void beginWrite(final int offset, final long stateWord)
    {
        leaf.putLongOpaque(offset + SEQ_OFFSET, leaf.getLong(offset + SEQ_OFFSET) + 1);
        VarHandle.storeStoreFence();
        // BROKEN: the state word goes out before the body (production writes it last, in endWrite).
        leaf.putLongRelease(offset + STATE_WORD_OFFSET, stateWord);
    }

    private void endWrite(final int offset)
    {
        leaf.putLongRelease(offset + SEQ_OFFSET, leaf.getLong(offset + SEQ_OFFSET) + 1);
    }

    public int activate(final int pasid, final long owner, final long root, final int flags)
    {
        final int offset = entryOffset(pasid);
        final int generation = generation(leaf.getLong(offset + STATE_WORD_OFFSET)) + 1;
        beginWrite(offset, PasidTableDescriptor.stateWord(generation, flags, STATE_ACTIVE));
        leaf.putLong(offset + OWNER_OFFSET, owner);
        leaf.putLong(offset + ROOT_OFFSET, root);
        leaf.putInt(offset + BOND_COUNT_OFFSET, 0);
        leaf.putInt(offset + FIRST_BOND_OFFSET, 0);
        leaf.putLong(offset + RETIRE_EPOCH_OFFSET, 0);
        endWrite(offset);
        return generation;
    }

    public void teardown(final int pasid)
    {
        final int offset = entryOffset(pasid);
        final long stateWord = leaf.getLong(offset + STATE_WORD_OFFSET);
        beginWrite(offset, PasidTableDescriptor.stateWord(
            generation(stateWord), flags(stateWord) & ~FLAG_FAULTS_ON, STATE_TEARDOWN));
        leaf.putLong(offset + ROOT_OFFSET, DUMMY_ROOT);
        endWrite(offset);
    }

    public void retire(final int pasid, final long epoch)
    {
        final int offset = entryOffset(pasid);
        final long stateWord = leaf.getLong(offset + STATE_WORD_OFFSET);
        beginWrite(offset, PasidTableDescriptor.stateWord(generation(stateWord), 0, STATE_RETIRED));
        leaf.putLong(offset + ROOT_OFFSET, DUMMY_ROOT);
        leaf.putLong(offset + RETIRE_EPOCH_OFFSET, epoch);
        endWrite(offset);
    }
}
