package org.pasidkit.tables.counters;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.pasidkit.tables.PasidOwner;
import org.pasidkit.tables.PasidSpace;
import org.pasidkit.tables.PasidSpaceCounts;

/**
 * The first process of {@link CountersTwoProcessTest}: a {@link PasidSpace} with counters on, allocating and freeing
 * standalone PASIDs (holding up to 1000 at a time) until a line arrives on stdin; then it stops, publishes once more
 * and prints its own counts on stdout; it exits when stdin closes.
 */
public final class CountersChild
{
    private CountersChild()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final PasidSpace space = PasidSpace.builder().maxPasid(65535).counters(Paths.get(args[0]), "counters-child")
            .build();
        final AtomicLong operations = new AtomicLong();
        space.counters().addTotal(PasidkitCounterTypes.APPLICATION, "child operations", operations::get);
        System.out.println("file " + space.counters().path());
        System.out.flush();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread worker = new Thread(() ->
        {
            final PasidOwner owner = space.openOwner("child", 1 << 16);
            final long[] held = new long[1000];
            int n = 0;
            int next = 0;
            while (!stop.get())
            {
                if (n == held.length)
                {
                    space.free(owner, held[next]);
                    n--;
                }
                held[next] = space.allocate(owner);
                next = (next + 1) % held.length;
                n++;
                operations.incrementAndGet();
            }
        }, "child-worker");
        worker.start();
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        in.readLine();
        stop.set(true);
        worker.join();
        space.counters().publishNow();
        final PasidSpaceCounts counts = space.counts(new PasidSpaceCounts());
        System.out.println("counts operations=" + operations.get() + " inUse=" + counts.allocator().inUse() +
            " free=" + counts.allocator().free() + " cached=" + counts.allocator().cached() + " retired=" +
            counts.allocator().retired() + " held=" + counts.allocator().held() + " epoch=" +
            counts.allocator().epoch() + " reclaimPasses=" + counts.allocator().reclaimPasses() + " active=" +
            counts.activePasids() + " owners=" + counts.owners());
        System.out.flush();
        while (null != in.readLine())
        {
            // wait for stdin to close
        }
        space.counters().close();
    }
}
