package org.pasidkit.allocator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sequential behaviour of {@link EpochDomain#tryAdvance} and what it pays: no heavy barrier without a registered
 * reader, none when a visible pin holds the epoch back, exactly one for an advance a registered reader could block.
 * (The races are jcstress's: EpochDomainTests, AsymmetricFenceTests.) Runs in both fence modes (surefire executions
 * default-test and fenced): {@link AsymmetricFence#heavy} is counted in both.
 */
class EpochDomainTest
{
    @Test
    void advanceWithoutRegisteredReadersPaysNoHeavyBarrier()
    {
        final EpochDomain domain = new EpochDomain(4);
        final long before = AsymmetricFence.heavyBarriers();
        for (int i = 0; i < 10; i++)
        {
            assertTrue(domain.tryAdvance());
        }
        assertEquals(10, domain.epoch());
        assertEquals(before, AsymmetricFence.heavyBarriers(), "no reader registered: a full fence, no heavy barrier");
    }

    @Test
    void closedReaderCountsAsNone()
    {
        final EpochDomain domain = new EpochDomain(4);
        final EpochDomain.Reader reader = domain.register();
        reader.enter();
        reader.exit();
        reader.close();
        final long before = AsymmetricFence.heavyBarriers();
        assertTrue(domain.tryAdvance());
        assertEquals(before, AsymmetricFence.heavyBarriers());
        assertEquals(0, domain.registeredReaders());
    }

    @Test
    void registeredReaderMakesAnAdvancePayOneHeavyBarrier()
    {
        final EpochDomain domain = new EpochDomain(4);
        final EpochDomain.Reader reader = domain.register();
        final long before = AsymmetricFence.heavyBarriers();
        assertTrue(domain.tryAdvance());
        assertTrue(domain.tryAdvance());
        assertEquals(2, domain.epoch());
        assertEquals(before + 2, AsymmetricFence.heavyBarriers(), "one heavy barrier per advance");
        reader.close();
    }

    @Test
    void visiblePinHoldsTheEpochBackWithoutAHeavyBarrier()
    {
        final EpochDomain domain = new EpochDomain(4);
        final EpochDomain.Reader reader = domain.register();
        final EpochDomain.Reader idle = domain.register();
        reader.enter(); // pins 0
        final long before = AsymmetricFence.heavyBarriers();
        assertTrue(domain.tryAdvance(), "0 -> 1: the reader pinned the current epoch");
        assertEquals(before + 1, AsymmetricFence.heavyBarriers());
        for (int i = 0; i < 5; i++)
        {
            assertFalse(domain.tryAdvance(), "1 -> 2 refused: the reader pinned 0");
        }
        assertEquals(1, domain.epoch());
        assertEquals(1, domain.readersHoldingBack());
        assertEquals(before + 1, AsymmetricFence.heavyBarriers(), "a visible pin refuses after loads only");
        reader.enter(); // nested: no new pin
        reader.exit();
        assertFalse(domain.tryAdvance());
        reader.exit();
        assertTrue(domain.tryAdvance());
        assertEquals(2, domain.epoch());
        assertEquals(0, domain.readersHoldingBack());
        assertEquals(before + 2, AsymmetricFence.heavyBarriers());
        reader.close();
        idle.close();
    }

    @Test
    void exitWithoutEnterIsRejectedAndChangesNothing()
    {
        final EpochDomain domain = new EpochDomain(2);
        final EpochDomain.Reader reader = domain.register();
        final IllegalStateException ex = assertThrows(IllegalStateException.class, reader::exit);
        assertTrue(ex.getMessage().contains("depth 0"), ex.getMessage());
        assertFalse(reader.isInside());
        assertTrue(domain.tryAdvance());
        reader.close();
    }

    @Test
    void nestedSectionsUnpinOnTheOutermostExitAndCloseInsideIsRejected()
    {
        final EpochDomain domain = new EpochDomain(2);
        final EpochDomain.Reader reader = domain.register();
        reader.enter();
        reader.enter();
        reader.enter();
        assertTrue(reader.isInside());
        final IllegalStateException ex = assertThrows(IllegalStateException.class, reader::close);
        assertTrue(ex.getMessage().contains("depth 3"), ex.getMessage());
        reader.exit();
        reader.exit();
        assertTrue(reader.isInside(), "still inside the outermost section");
        assertTrue(domain.tryAdvance());
        assertFalse(domain.tryAdvance(), "still pinned at the first epoch");
        reader.exit();
        assertFalse(reader.isInside());
        assertTrue(domain.tryAdvance());
        assertThrows(IllegalStateException.class, reader::exit);
        reader.close();
        assertEquals(0, domain.registeredReaders());
        final IllegalStateException closed = assertThrows(IllegalStateException.class, reader::enter);
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    /**
     * The epochs' start times (a monitoring aid, one kept every EPOCH_TIME_STRIDE epochs): an epoch's age grows with
     * time; an epoch whose recorded successor has not begun has no age yet (0, a lower bound); one older than the table
     * reports the oldest start it still holds (a lower bound too).
     */
    @Test
    void epochAgeIsALowerBoundOnTheTimeSinceTheEpochBegan() throws InterruptedException
    {
        final EpochDomain domain = new EpochDomain(2);
        Thread.sleep(20);
        final long ageOfFirst = domain.epochAgeNs(0);
        assertTrue(ageOfFirst >= 20_000_000L, "epoch 0 began at construction, 20 ms ago: " + ageOfFirst + " ns");
        assertTrue(domain.tryAdvance());
        assertEquals(0, domain.epochAgeNs(1), "epoch 1's age is recorded with epoch " + EpochDomain.EPOCH_TIME_STRIDE);
        assertEquals(0, domain.epochAgeNs(5), "a future epoch has no age");
        for (int i = 1; i < EpochDomain.EPOCH_TIME_STRIDE; i++)
        {
            assertTrue(domain.tryAdvance());
        }
        final long ageOfStride = domain.epochAgeNs(1);
        assertTrue(ageOfStride < ageOfFirst && ageOfStride < 20_000_000L,
            "epoch 1 is bounded by epoch " + EpochDomain.EPOCH_TIME_STRIDE + ", which began just now: " + ageOfStride +
            " ns (epoch 0: " + ageOfFirst + " ns)");
        for (int i = 0; i < EpochDomain.EPOCH_TIMES * EpochDomain.EPOCH_TIME_STRIDE; i++)
        {
            assertTrue(domain.tryAdvance());
        }
        final long current = domain.epoch();
        final long ageOfEvicted = domain.epochAgeNs(0);
        final long oldestKept = (current & -EpochDomain.EPOCH_TIME_STRIDE) -
            (long)(EpochDomain.EPOCH_TIMES - 1) * EpochDomain.EPOCH_TIME_STRIDE;
        final long ageOfOldestKept = domain.epochAgeNs(oldestKept);
        assertTrue(ageOfEvicted <= ageOfOldestKept && ageOfEvicted < ageOfFirst,
            "epoch 0 is past the table: the oldest start kept (epoch " + oldestKept + ", " + ageOfOldestKept +
            " ns) bounds it, got " + ageOfEvicted + " ns");
    }
}
