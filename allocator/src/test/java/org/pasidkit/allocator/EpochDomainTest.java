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
}
