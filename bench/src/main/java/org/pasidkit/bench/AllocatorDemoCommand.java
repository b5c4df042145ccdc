package org.pasidkit.bench;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.pasidkit.allocator.AllocatorCounts;
import org.pasidkit.allocator.AsymmetricFence;
import org.pasidkit.allocator.EpochDomain;
import org.pasidkit.allocator.IdAllocator;
import org.pasidkit.allocator.PasidAllocator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./pasidkit demo}: walks through what the allocator promises, on the real allocator, and checks each promise
 * as it goes (exit code 1 if one does not hold).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Allocator walk-through: per-CPU caches, no stranding, grace periods, holders, bad input.")
public final class AllocatorDemoCommand implements Callable<Integer>
{
    @Mixin
    org.pasidkit.bench.CliErrors.Verbose verbose;

    @Option(names = "--threads", defaultValue = "3", description = "Threads that park ids in their caches (default 3).")
    int threads;

    @Option(names = "--max", defaultValue = "1048575", description = "Highest PASID (default 2^20-1).")
    int max;

    private int failures;

    @Override
    public Integer call() throws Exception
    {
        if (threads < 1 || threads > 64)
        {
            throw new IllegalArgumentException("--threads " + threads + " must be in [1, 64]");
        }
        System.out.println("fence: " + AsymmetricFence.description());
        final PasidAllocator allocator = PasidAllocator.builder().range(1, max).build();
        System.out.printf("PasidAllocator [1, %d], %d stripes, grace period on, %d KiB native memory%n",
            max, allocator.stripes(), allocator.nativeBytes() / 1024);

        noStranding(allocator);
        graceAndHolders();
        badInput(allocator);

        System.out.println("\nheavy barriers (AsymmetricFence.heavy) paid by this run: " +
            AsymmetricFence.heavyBarriers());
        System.out.println(failures == 0 ? "\nall promises held" : "\n" + failures + " promise(s) broken");
        return failures == 0 ? 0 : 1;
    }

    private void noStranding(final PasidAllocator allocator) throws InterruptedException
    {
        System.out.printf("%n1. No stranding: %d threads allocate and free 500 ids each, then stay alive holding " +
            "them in their caches.%n", threads);
        final CountDownLatch parked = new CountDownLatch(threads);
        final CountDownLatch release = new CountDownLatch(1);
        for (int t = 0; t < threads; t++)
        {
            final Thread thread = new Thread(() ->
            {
                final int[] ids = new int[500];
                for (int i = 0; i < ids.length; i++)
                {
                    ids[i] = allocator.allocate();
                }
                for (final int id : ids)
                {
                    allocator.free(id);
                }
                allocator.reclaim();
                parked.countDown();
                await(release);
            }, "holder-" + t);
            thread.setDaemon(true);
            thread.start();
        }
        parked.await();
        final AllocatorCounts counts = allocator.counts(new AllocatorCounts());
        System.out.println("   counts: " + counts);
        final long start = System.nanoTime();
        long n = 0;
        int id;
        while ((id = allocator.allocate()) > 0)
        {
            n++;
        }
        final long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("   the main thread then allocated %d ids (of %d) in %d ms and got %s%n",
            n, allocator.capacity(), ms, id == IdAllocator.EXHAUSTED ? "EXHAUSTED" : String.valueOf(id));
        check(n == allocator.capacity(), "one thread gets every id while other threads' caches hold ids");
        release.countDown();
    }

    private void graceAndHolders()
    {
        System.out.println("\n2. Grace period: a reader inside its critical section keeps a freed PASID from reuse.");
        final PasidAllocator small = PasidAllocator.builder().range(1, 4).build();
        final EpochDomain.Reader reader = small.epochDomain().register();
        final int[] ids = {small.allocate(), small.allocate(), small.allocate(), small.allocate()};
        reader.enter();
        small.free(ids[1]);
        final int whileInside = small.allocate();
        System.out.printf("   freed %d while a reader is inside; allocate() -> %s%n", ids[1],
            whileInside == IdAllocator.ALL_IN_GRACE ? "ALL_IN_GRACE" : String.valueOf(whileInside));
        check(whileInside == IdAllocator.ALL_IN_GRACE, "no reuse while a reader may still see the id");
        reader.exit();
        final int after = small.allocate();
        System.out.printf("   reader left; allocate() -> %d (epoch now %d)%n", after, small.epochDomain().epoch());
        check(after == ids[1], "reuse once the grace period passed");

        System.out.println("   retire(id, 2 holders): the id waits for both drivers to release it.");
        small.retire(after, 2);
        final int held = small.allocate();
        small.release(after);
        final int stillHeld = small.allocate();
        small.release(after);
        final int released = small.allocate();
        System.out.printf("   allocate() with 2 holders -> %d, with 1 -> %d, with 0 -> %d%n", held, stillHeld, released);
        check(held < 0 && stillHeld < 0 && released == after, "no reuse while a holder is outstanding");
    }

    private void badInput(final PasidAllocator allocator)
    {
        System.out.println("\n3. Bad input is refused and changes nothing:");
        expectRefusal(() -> allocator.free(0), "free(0)");
        expectRefusal(() -> allocator.free(max + 1), "free(max + 1)");
        final int id = 12345 <= max ? 12345 : 1;
        expectRefusal(() -> allocator.free(id), "free of an id the main thread holds twice");
        expectRefusal(() -> allocator.allocate(1, max + 1), "allocate(1, max + 1)");
    }

    private void expectRefusal(final Runnable call, final String what)
    {
        try
        {
            call.run();
            if (!what.startsWith("free of an id"))
            {
                check(false, what + " must be refused");
                return;
            }
            call.run();
            check(false, what + " must be refused");
        }
        catch (final IllegalArgumentException ex)
        {
            System.out.println("   " + what + ": " + ex.getMessage());
        }
    }

    private void check(final boolean ok, final String promise)
    {
        System.out.println("   " + (ok ? "OK   " : "FAIL ") + promise);
        if (!ok)
        {
            failures++;
        }
    }

    private static void await(final CountDownLatch latch)
    {
        try
        {
            latch.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
