package org.pasidkit.tables.internal;

import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StripedCounterTest
{
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 64})
    void incrementsFromManyThreadsAllCount(final int stripes) throws InterruptedException
    {
        final StripedCounter counter = new StripedCounter(stripes);
        final int threads = 4;
        final int each = 250_000;
        final CountDownLatch start = new CountDownLatch(1);
        final Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() ->
            {
                try
                {
                    start.await();
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < each; i++)
                {
                    counter.increment();
                }
            });
            workers[t].start();
        }
        start.countDown();
        for (final Thread worker : workers)
        {
            worker.join();
        }
        assertEquals((long)threads * each, counter.sum());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 2048, -4})
    void badStripeCountsAreRefused(final int stripes)
    {
        assertThrows(IllegalArgumentException.class, () -> new StripedCounter(stripes));
    }
}
