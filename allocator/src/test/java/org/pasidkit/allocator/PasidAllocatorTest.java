package org.pasidkit.allocator;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pasidkit.allocator.internal.IdBitmap;
import org.pasidkit.allocator.internal.IdStateTable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PasidAllocatorTest
{
    private static PasidAllocator small(final int max, final boolean grace)
    {
        final PasidAllocator.Builder b = PasidAllocator.builder().range(1, max).stripes(2).cacheCapacity(16)
            .refillBatch(8);
        return (grace ? b : b.immediateReuse()).build();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void handsOutEveryIdOnceThenReportsExhausted(final boolean grace)
    {
        final PasidAllocator a = small(200, grace);
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++)
        {
            final int id = a.allocate();
            assertTrue(id >= 1 && id <= 200, "id " + id);
            assertTrue(seen.add(id), "id handed out twice: " + id);
        }
        assertEquals(IdAllocator.EXHAUSTED, a.allocate());
        final IdsExhaustedException ex = assertThrows(IdsExhaustedException.class, a::allocateOrThrow);
        assertFalse(ex.inGrace());
        assertEquals(200, a.counts(new AllocatorCounts()).inUse());
    }

    @Test
    void zeroIsNeverHandedOutAndDefaultRangeIs20Bits()
    {
        final PasidAllocator a = PasidAllocator.builder().immediateReuse().build();
        assertEquals(1, a.minId());
        assertEquals((1 << 20) - 1, a.maxId());
        for (int i = 0; i < 1000; i++)
        {
            assertTrue(a.allocate() > 0);
        }
    }

    @Test
    void rejectsBadRangesWithTheRuleInTheMessage()
    {
        final IllegalArgumentException zero =
            assertThrows(IllegalArgumentException.class, () -> PasidAllocator.builder().range(0, 10));
        assertTrue(zero.getMessage().contains("[0, 10]"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PasidAllocator.builder().range(10, 9));
        assertThrows(IllegalArgumentException.class, () -> PasidAllocator.builder().stripes(3));
        final PasidAllocator wide = PasidAllocator.builder().range(Integer.MAX_VALUE - 100, Integer.MAX_VALUE)
            .immediateReuse().build();
        assertTrue(wide.allocate() >= Integer.MAX_VALUE - 100);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void badFreesThrowNameTheIdAndChangeNothing(final boolean grace)
    {
        final PasidAllocator a = small(100, grace);
        final int id = a.allocate();
        final int other = a.allocate();
        final String before = countsWithoutTime(a);

        final IllegalArgumentException outOfRange = assertThrows(IllegalArgumentException.class, () -> a.free(101));
        assertTrue(outOfRange.getMessage().contains("id 101") && outOfRange.getMessage().contains("[1, 100]"),
            outOfRange.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.free(0));
        assertThrows(IllegalArgumentException.class, () -> a.free(-5));

        final int neverAllocated = 77 == id || 77 == other ? 78 : 77;
        final IllegalArgumentException never =
            assertThrows(IllegalArgumentException.class, () -> a.free(neverAllocated));
        assertTrue(never.getMessage().contains("id " + neverAllocated), never.getMessage());
        assertEquals(before, countsWithoutTime(a));

        a.free(id);
        final String afterFree = countsWithoutTime(a);
        final IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> a.free(id));
        assertTrue(twice.getMessage().contains("double free"), twice.getMessage());
        assertEquals(afterFree, countsWithoutTime(a));
        assertEquals(IdState.IN_USE, a.stateOf(other));
    }

    @Test
    void subRangeAllocationStaysInsideAndRejectsBadSubRanges()
    {
        final PasidAllocator a = PasidAllocator.builder().range(1, (1 << 20) - 1).immediateReuse().build();
        for (int i = 0; i < 1000; i++)
        {
            final int id = a.allocate(1, (1 << 16) - 1);
            assertTrue(id >= 1 && id < (1 << 16), "16-bit device got " + id);
        }
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> a.allocate(5, 1 << 21));
        assertTrue(ex.getMessage().contains("[5, " + (1 << 21) + "]"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.allocate(9, 8));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void subRangeAllocationTakesTheOldestIdOfTheThreadsRingOnlyWhenItLiesInTheSubRange(final boolean grace)
    {
        final PasidAllocator.Builder builder = PasidAllocator.builder().range(1, (1 << 20) - 1);
        final PasidAllocator a = grace ? builder.build() : builder.immediateReuse().build();
        assertTrue(a.hasPerCpuCaches());
        final int narrow = a.allocate(1, 1000);
        assertTrue(narrow >= 1 && narrow <= 1000, "id " + narrow);
        a.free(narrow);
        if (grace)
        {
            // NOTE: past its grace period (no reader: two advances), into this thread's ring
            assertEquals(1, a.reclaim());
        }
        assertEquals(IdState.CACHED, a.stateOf(narrow), "the free went to this thread's ring");
        final int other = a.allocate(2000, 3000);
        assertTrue(other >= 2000 && other <= 3000, "the oldest cached id " + narrow + " lies outside: id " + other);
        assertEquals(IdState.CACHED, a.stateOf(narrow), "left in the ring");
        assertEquals(narrow, a.allocate(1, 1000), "the oldest id of the ring, inside the sub-range");
        assertEquals(IdState.IN_USE, a.stateOf(narrow));
        final AllocatorCounts counts = a.counts(new AllocatorCounts());
        assertEquals(2, counts.inUse());
        assertEquals(a.capacity(), counts.inUse() + counts.free() + counts.cached() + counts.inGrace(),
            "nothing lost: " + counts);
    }

    @Test
    void subRangeTakesCachedIdsWhenTheBitmapHasNone()
    {
        final PasidAllocator a = small(64, false);
        final int[] ids = new int[64];
        for (int i = 0; i < 64; i++)
        {
            ids[i] = a.allocate();
        }
        for (final int id : ids)
        {
            a.free(id);
        }
        int got = 0;
        while (a.allocate(10, 20) > 0)
        {
            got++;
        }
        assertEquals(11, got);
        assertEquals(IdAllocator.EXHAUSTED, a.allocate(10, 20));
    }

    @Test
    void reserveClaimsExactlyThatIdOnce()
    {
        final PasidAllocator a = small(100, false);
        assertTrue(a.reserve(42));
        assertFalse(a.reserve(42));
        assertEquals(IdState.IN_USE, a.stateOf(42));
        for (int i = 0; i < 99; i++)
        {
            final int id = a.allocate();
            assertTrue(id != 42 && id > 0, "got " + id);
        }
        assertEquals(IdAllocator.EXHAUSTED, a.allocate());
        a.free(42);
        assertTrue(a.reserve(42), "a cached id can be reserved");
        assertThrows(IllegalArgumentException.class, () -> a.reserve(101));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void oneThreadGetsEveryIdWhileOtherThreadsCachesHoldIds(final boolean grace) throws Exception
    {
        final PasidAllocator a = PasidAllocator.builder().stripes(4).build();
        final PasidAllocator allocator = grace ? a : PasidAllocator.builder().stripes(4).immediateReuse().build();
        final int holders = 3;
        final CountDownLatch cached = new CountDownLatch(holders);
        final CountDownLatch done = new CountDownLatch(1);
        final Thread[] threads = new Thread[holders];
        for (int t = 0; t < holders; t++)
        {
            threads[t] = new Thread(() ->
            {
                final int[] ids = new int[200];
                for (int i = 0; i < ids.length; i++)
                {
                    ids[i] = allocator.allocate();
                }
                for (final int id : ids)
                {
                    allocator.free(id);
                }
                cached.countDown();
                try
                {
                    done.await();
                }
                catch (final InterruptedException ignore)
                {
                    Thread.currentThread().interrupt();
                }
            });
            threads[t].start();
        }
        cached.await();
        final AllocatorCounts counts = allocator.counts(new AllocatorCounts());
        if (!grace)
        {
            assertTrue(counts.cached() > 0, "other threads' caches hold ids: " + counts);
        }
        final boolean[] seen = new boolean[allocator.maxId() + 1];
        int n = 0;
        int id;
        while ((id = allocator.allocate()) > 0)
        {
            assertFalse(seen[id], "handed out twice: " + id);
            seen[id] = true;
            n++;
        }
        done.countDown();
        for (final Thread t : threads)
        {
            t.join();
        }
        assertEquals(IdAllocator.EXHAUSTED, id);
        assertEquals((1 << 20) - 1, n, "one thread must get all 2^20-1 ids");
    }

    /**
     * The owner/thief handshake under churn: two threads on 96 ids, each holding up to 64, allocate and free at random
     * (most allocations find their own ring empty and the bitmap empty, so they steal from the other thread's ring
     * while it pops and pushes). Every id handed out is marked in a shared array with a CAS, which fails if the id is
     * already held: an id handed out twice fails the test. At the end every id is accounted for.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void twoThreadsChurningOnAScarceRangeNeverShareAnId(final boolean grace) throws Exception
    {
        final int max = 96;
        final PasidAllocator allocator = small(max, grace);
        final AtomicIntegerArray holder = new AtomicIntegerArray(max + 1);
        final AtomicReference<String> failure = new AtomicReference<>();
        final Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++)
        {
            final int me = t + 1;
            threads[t] = new Thread(() ->
            {
                final SplittableRandom random = new SplittableRandom(me);
                final int[] held = new int[64];
                int n = 0;
                for (int op = 0; op < 200_000 && null == failure.get(); op++)
                {
                    if (n == held.length || (n > 0 && random.nextInt(4) == 0))
                    {
                        final int k = random.nextInt(n);
                        final int id = held[k];
                        held[k] = held[--n];
                        holder.set(id, 0);
                        allocator.free(id);
                    }
                    else
                    {
                        final int id = allocator.allocate();
                        if (id > 0)
                        {
                            if (!holder.compareAndSet(id, 0, me))
                            {
                                failure.compareAndSet(null, "id " + id + " handed to thread " + me +
                                    " while thread " + holder.get(id) + " holds it (op " + op + ")");
                                return;
                            }
                            held[n++] = id;
                        }
                        else if (grace)
                        {
                            allocator.reclaim();
                        }
                    }
                }
                for (int k = 0; k < n; k++)
                {
                    holder.set(held[k], 0);
                    allocator.free(held[k]);
                }
            });
            threads[t].start();
        }
        for (final Thread t : threads)
        {
            t.join(TimeUnit.MINUTES.toMillis(2));
            assertFalse(t.isAlive(), "churn thread still running after 2 minutes");
        }
        assertEquals(null, failure.get());
        final AllocatorCounts counts = allocator.counts(new AllocatorCounts());
        assertEquals(0, counts.inUse(), counts::toString);
        assertEquals(max, counts.free() + counts.cached() + counts.retired() + counts.held(), counts::toString);
    }

    @Test
    void graceKeepsAnIdFromReuseWhileAReaderIsInside()
    {
        final PasidAllocator a = small(4, true);
        final EpochDomain.Reader reader = a.epochDomain().register();
        final int[] ids = {a.allocate(), a.allocate(), a.allocate(), a.allocate()};
        reader.enter();
        a.free(ids[2]);
        for (int i = 0; i < 10; i++)
        {
            assertEquals(IdAllocator.ALL_IN_GRACE, a.allocate(), "reused while a reader could still see it");
            a.reclaim();
        }
        assertTrue(a.counts(new AllocatorCounts()).readersHoldingBack() >= 1);
        assertTrue(assertThrows(IdsExhaustedException.class, a::allocateOrThrow).inGrace());
        reader.exit();
        assertEquals(ids[2], a.allocate());
    }

    @Test
    void anIdNeedsTwoEpochAdvances()
    {
        final PasidAllocator a = small(8, true);
        final EpochDomain domain = a.epochDomain();
        final EpochDomain.Reader reader = domain.register();
        final int id = a.allocate();
        final long e0 = domain.epoch();
        reader.enter(); // pins e0: the epoch may reach e0 + 1 (the reader is current there), not e0 + 2
        a.free(id);
        assertEquals(IdState.RETIRED, a.stateOf(id));
        for (int i = 0; i < 5; i++)
        {
            a.reclaim();
        }
        assertEquals(e0 + 1, domain.epoch());
        assertEquals(IdState.RETIRED, a.stateOf(id), "reusable one epoch advance after its retirement");
        reader.exit();
        a.reclaim(); // e0 + 2: eligible, into this thread's ring
        assertTrue(domain.epoch() >= e0 + 2);
        assertEquals(IdState.CACHED, a.stateOf(id));
    }

    @Test
    void heldIdWaitsForEveryHolderAndReleaseBelowZeroIsRefused()
    {
        final PasidAllocator a = small(2, true);
        final int id = a.allocate();
        final int other = a.allocate();
        a.retire(id, 2);
        assertEquals(IdState.HELD, a.stateOf(id));
        assertEquals(2, a.holders(id));
        assertEquals(IdAllocator.ALL_IN_GRACE, a.allocate());
        assertEquals(1, a.release(id));
        assertEquals(IdAllocator.ALL_IN_GRACE, a.allocate());
        assertEquals(0, a.release(id));
        final IllegalArgumentException below = assertThrows(IllegalArgumentException.class, () -> a.release(id));
        assertTrue(below.getMessage().contains("below zero") && below.getMessage().contains("id " + id),
            below.getMessage());
        assertEquals(IdState.RETIRED, a.stateOf(id));
        assertThrows(IllegalArgumentException.class, () -> a.retire(other, -1));
        assertEquals(id, a.allocate());
    }

    @Test
    void quarantineDelaysReuseByTime()
    {
        final long[] now = {1_000};
        final PasidAllocator a = PasidAllocator.builder().range(1, 1).quarantine(1, TimeUnit.MILLISECONDS)
            .clock(() -> now[0]).build();
        final int id = a.allocate();
        a.free(id);
        assertEquals(IdAllocator.ALL_IN_GRACE, a.allocate());
        now[0] += 999_999;
        assertEquals(IdAllocator.ALL_IN_GRACE, a.allocate());
        now[0] += 1;
        assertEquals(id, a.allocate());
    }

    @Test
    void reuseIsFifo()
    {
        final PasidAllocator a = small(16, true);
        final int[] ids = new int[16];
        for (int i = 0; i < 16; i++)
        {
            ids[i] = a.allocate();
        }
        final int[] order = {ids[5], ids[1], ids[9], ids[3]};
        for (final int id : order)
        {
            a.free(id);
        }
        for (final int id : order)
        {
            assertEquals(id, a.allocate());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFreeThatMeetsAClaimInFlightWaitsItOutInsteadOfRefusing(final boolean grace) throws Exception
    {
        // NOTE: a claim from the bitmap (claimDirect, a refill) claims the bit, then stores the state: in between the
        // id is no longer free but still reads FREE. A free of it must wait the claim out, not call it "not in use"
        // (Lincheck found EXHAUSTED, then free(1) refused, while 1 was being claimed). The claim is done in two halves
        // by hand here. The same wait, when the bit is cleared instead (a free to the bitmap in flight), ends in the
        // refusal: the id was free.
        final PasidAllocator a = small(64, grace);
        final IdBitmap bitmap = field(a, "bitmap");
        final IdStateTable states = field(a, "states");

        assertTrue(bitmap.tryClaim(7)); // the claim's first half: the id is taken, its state still FREE
        final AtomicReference<Throwable> first = new AtomicReference<>();
        final CountDownLatch firstDone = freeOnAnotherThread(a, 7, first);
        assertFalse(firstDone.await(100, TimeUnit.MILLISECONDS), "the free ended before the claim did: " + first.get());
        states.putRelease(7, IdStateTable.IN_USE); // the claim's second half
        assertTrue(firstDone.await(10, TimeUnit.SECONDS), "the free did not end once the claim did");
        assertEquals(null, first.get());
        assertEquals(grace ? IdState.RETIRED : IdState.CACHED, a.stateOf(7));

        assertTrue(bitmap.tryClaim(9)); // FREE with its bit set: now a free to the bitmap between its CAS and its clear
        final AtomicReference<Throwable> second = new AtomicReference<>();
        final CountDownLatch secondDone = freeOnAnotherThread(a, 9, second);
        assertFalse(secondDone.await(100, TimeUnit.MILLISECONDS), "the free ended while the bit was set: " +
            second.get());
        bitmap.clear(9);
        assertTrue(secondDone.await(10, TimeUnit.SECONDS), "the free did not end once the bit was clear");
        assertTrue(second.get() instanceof IllegalArgumentException, "expected a refusal: " + second.get());
        assertTrue(second.get().getMessage().contains("id 9 is not in use (state FREE)"), second.get().getMessage());
        assertEquals(IdState.FREE, a.stateOf(9));
    }

    private static CountDownLatch freeOnAnotherThread(
        final PasidAllocator a, final int id, final AtomicReference<Throwable> failure)
    {
        final CountDownLatch done = new CountDownLatch(1);
        final Thread freer = new Thread(() ->
        {
            try
            {
                a.free(id);
            }
            catch (final Throwable ex)
            {
                failure.set(ex);
            }
            finally
            {
                done.countDown();
            }
        }, "freer-" + id);
        freer.setDaemon(true);
        freer.start();
        return done;
    }

    @SuppressWarnings("unchecked")
    private static <T> T field(final PasidAllocator a, final String name) throws ReflectiveOperationException
    {
        final java.lang.reflect.Field field = PasidAllocator.class.getDeclaredField(name);
        field.setAccessible(true);
        return (T)field.get(a);
    }

    @Test
    void whileScarceAGraceAllocationTakesOneReclaimedIdAndCachesNone()
    {
        // NOTE: an id CACHED in a ring while ids are scarce is what another thread's exhaustion scan steals (a heavy
        // barrier each). The scarce grace path hands the oldest reclaimed id over (RETIRED -> IN_USE) and leaves the
        // rest RETIRED in retire order; the path before moved all four into the ring (3 CACHED after the first).
        final PasidAllocator a = small(16, true);
        final int[] ids = new int[16];
        for (int i = 0; i < 16; i++)
        {
            ids[i] = a.allocate();
        }
        assertEquals(IdAllocator.EXHAUSTED, a.allocate()); // the whole bitmap empty: ids are scarce from here
        final int[] order = {ids[5], ids[1], ids[9], ids[3]};
        for (final int id : order)
        {
            a.free(id);
        }
        final AllocatorCounts counts = new AllocatorCounts();
        for (int k = 0; k < order.length; k++)
        {
            assertEquals(order[k], a.allocate(), "reuse out of retire order at " + k);
            a.counts(counts);
            assertEquals(0, counts.cached(), "ids left CACHED in a ring after allocation " + k + ": " + counts);
            assertEquals(order.length - 1 - k, counts.retired(), "retired after allocation " + k + ": " + counts);
            assertEquals(16 - (order.length - 1 - k), counts.inUse(), "in use after allocation " + k + ": " + counts);
        }
        assertEquals(IdAllocator.EXHAUSTED, a.allocate());
    }

    @Test
    void exitWithoutEnterIsRefused()
    {
        final EpochDomain domain = new EpochDomain(2);
        final EpochDomain.Reader reader = domain.register();
        final IllegalStateException ex = assertThrows(IllegalStateException.class, reader::exit);
        assertTrue(ex.getMessage().contains("without a matching enter"), ex.getMessage());
        reader.enter();
        reader.enter();
        reader.exit();
        assertTrue(reader.isInside());
        reader.exit();
        assertFalse(reader.isInside());
        domain.register();
        assertThrows(IllegalStateException.class, domain::register);
        reader.close();
        domain.register();
    }

    @Test
    void blockingAllocateTimesOutThenSucceedsOnceReleased() throws Exception
    {
        final PasidAllocator a = small(1, true);
        final int id = a.allocate();
        a.retire(id, 1);
        final long start = System.nanoTime();
        assertEquals(IdAllocator.ALL_IN_GRACE, a.allocate(20, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(20));
        final Thread releaser = new Thread(() -> a.release(id));
        releaser.start();
        assertEquals(id, a.allocate(5, TimeUnit.SECONDS));
        releaser.join();
    }

    @Test
    void reclaimAgentBringsIdsBackOnItsOwnThread() throws Exception
    {
        final PasidAllocator a = small(64, true);
        final int[] ids = new int[64];
        for (int i = 0; i < 64; i++)
        {
            ids[i] = a.allocate();
        }
        for (final int id : ids)
        {
            a.free(id);
        }
        final org.agrona.concurrent.AgentRunner runner = new org.agrona.concurrent.AgentRunner(
            new org.agrona.concurrent.BackoffIdleStrategy(), Throwable::printStackTrace, null, new ReclaimAgent(a));
        org.agrona.concurrent.AgentRunner.startOnThread(runner);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        final AllocatorCounts counts = new AllocatorCounts();
        while (a.counts(counts).retired() > 0 && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
        }
        runner.close();
        assertEquals(0, counts.retired(), counts.toString());
        assertEquals(64, counts.free() + counts.cached());
    }

    @ParameterizedTest(name = "stripes {0}")
    @ValueSource(ints = {1, 2, 4})
    void graceBacklogStaysBoundedWithTwoAllocatingThreads(final int stripes) throws Exception
    {
        final PasidAllocator allocator = PasidAllocator.builder().stripes(stripes).build();
        // NOTE: the design bound is backlogBound() (each stripe's limbo (EpochReclaimQueue.limboCapacity) +
        // BACKLOG_BOUND_PER_STRIPE) while a reclaimer runs. The allocation path insists only above the bound, so a busy
        // backlog hovers around it: the median may pass it by one insisting pass (at most 4 x RECLAIM_PASS_LIMIT). A
        // reclaimer descheduled mid-pass holds the single-consumer try-lock, and the other thread, after a bounded
        // wait, takes fresh ids, so the backlog bursts until the reclaimer runs again. A burst's height is the length
        // of the stall times the retire rate (CI once saw a max of 102K ids at 2 stripes with its median at 9298:
        // 2.4 ms of that run's 42M pairs/s), so the maximum is printed, not asserted: the test asserts that bursts are
        // rare, the 90th percentile within twice the bound. That separates the fix from the bug it guards against (no
        // wait for a busy reclaimer, BUSY_WAIT_LIMIT = 0): 1 stripe, 90th percentile 8.3K-8.8K ids with the wait (eight
        // runs), 38.7K and 41.9K without (the bound 13,312; 2026-12-05).
        final long bound = allocator.backlogBound() + 4L * PasidAllocator.RECLAIM_PASS_LIMIT;
        final long deadlineNs = System.nanoTime() + 2_000_000_000L;
        final java.util.Queue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final Thread[] workers = new Thread[2];
        final long[] pairs = new long[2 * 16];
        for (int t = 0; t < workers.length; t++)
        {
            final int index = t * 16;
            workers[t] = new Thread(() ->
            {
                long n = 0;
                while (System.nanoTime() - deadlineNs < 0 && failures.isEmpty())
                {
                    final int id = allocator.allocate();
                    if (id > 0)
                    {
                        allocator.free(id);
                        n++;
                    }
                    else
                    {
                        failures.add("allocate returned " + id + " with " + allocator.counts(new AllocatorCounts()));
                    }
                }
                pairs[index] = n;
            });
            workers[t].start();
        }
        long maxBacklog = 0;
        final long[] samples = new long[1024];
        int sampled = 0;
        final AllocatorCounts counts = new AllocatorCounts();
        while (System.nanoTime() - deadlineNs < 0 && failures.isEmpty())
        {
            final long backlog = allocator.counts(counts).reclaimBacklog();
            maxBacklog = Math.max(maxBacklog, backlog);
            if (sampled < samples.length)
            {
                samples[sampled++] = backlog;
            }
            Thread.sleep(2);
        }
        java.util.Arrays.sort(samples, 0, sampled);
        final long median = samples[sampled / 2];
        final long p90 = samples[sampled * 9 / 10];
        for (final Thread worker : workers)
        {
            worker.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
        System.out.println("stripes " + stripes + ": reclaim backlog median " + median + ", p90 " + p90 + ", max " +
            maxBacklog + " ids over " + sampled + " samples, " + (pairs[0] + pairs[16]) + " pairs (bound " + bound +
            ")");
        assertTrue(pairs[0] + pairs[16] > 10_000, "too few pairs to say anything: " + (pairs[0] + pairs[16]));
        assertTrue(sampled >= 20, "too few samples: " + sampled);
        assertTrue(median <= bound && p90 <= 2 * bound, "reclaim backlog median " + median + " ids (bound " + bound +
            "), 90th percentile " + p90 + " (limit " + 2 * bound + "), max " + maxBacklog + " over " + sampled +
            " samples, " + (pairs[0] + pairs[16]) + " pairs");
    }

    /**
     * Ids that sit in an owner's retire ring while the shared queue is empty (the owner freed them and stopped: an idle
     * or dead thread) count in the oldest wait: it once looked at the queue's head only and read 0 while they waited.
     */
    @Test
    void idsInAnIdleOwnersRetireRingShowInTheOldestWait() throws InterruptedException
    {
        final PasidAllocator allocator = PasidAllocator.builder().build();
        final int count = 100;
        final Thread owner = new Thread(() ->
        {
            final int[] ids = new int[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = allocator.allocate();
            }
            for (int i = 0; i < count; i++)
            {
                allocator.free(ids[i]);
            }
        });
        owner.start();
        owner.join();
        Thread.sleep(30);
        final AllocatorCounts counts = allocator.counts(new AllocatorCounts());
        assertEquals(count, counts.retired(), counts.toString());
        assertTrue(counts.oldestWaitNs() >= 30_000_000L, "ids retired at least 30 ms ago: " + counts);
    }

    /** The counts as text without the oldest wait, a time (it grows while retired ids wait): the state to compare. */
    private static String countsWithoutTime(final PasidAllocator a)
    {
        return a.counts(new AllocatorCounts()).toString().replaceAll("oldestWaitNs=\\d+", "");
    }
}
