package org.pasidkit.stress.tool;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./pasidkit stress}: randomized concurrent life-cycle operations with invariant checks. */
@Command(name = "stress", mixinStandardHelpOptions = true,
    description = "Randomized concurrent PASID life cycles against the real PasidSpace, with invariant checks.")
public final class StressCommand implements Callable<Integer>
{
    @Option(names = "--threads", defaultValue = "4", description = "Worker threads (default 4).")
    int threads;

    @Option(names = "--seconds", defaultValue = "10", description = "Run time (default 10 s).")
    long seconds;

    @Option(names = "--operations", defaultValue = "0", description = "Stop after this many operations instead.")
    long operations;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of each worker's choice of operations.")
    long seed;

    @Option(names = "--stall-readers", description = "A reader parks inside its critical section 50 ms of every 100.")
    boolean stallReaders;

    @Option(names = "--slow-drivers",
        description = "Drivers unbind 1-100 ms late; one in ten (up to 1/16 of the range) only at the very end.")
    boolean slowDrivers;

    @Option(names = "--exhaust", description = "Run at 99%%+ of a 1023-PASID range.")
    boolean exhaust;

    @Option(names = "--hostile", description = "Workers also try foreign, forged and stale capabilities: each must be " +
        "refused with its kind and counted.")
    boolean hostile;

    @Option(names = "--deadline-ms", defaultValue = "0",
        description = "Unbind deadline after an exit, in ms (default 0: off); past it a bond is revoked.")
    long deadlineMs;

    @Option(names = "--json", description = "Print one JSON object on stdout (no progress bar).")
    boolean json;

    @Option(names = "--verbose", description = "On an error, print the stack trace too.")
    boolean verbose;
    @Option(names = "--counters", description = "Publish live counters into a file in this directory (read them " +
        "with ./pasidkit stat --dir DIR); created if missing.")
    java.nio.file.Path countersDir;

    @Override
    public Integer call() throws Exception
    {
        if (threads < 1 || threads > 64)
        {
            throw new IllegalArgumentException("--threads " + threads + " must be in [1, 64]");
        }
        if (operations < 0)
        {
            throw new IllegalArgumentException("--operations " + operations + " must be >= 0 (0: run for --seconds)");
        }
        if (0 == operations && (seconds < 1 || seconds > 86_400))
        {
            throw new IllegalArgumentException("--seconds " + seconds + " must be in [1, 86400]");
        }
        if (deadlineMs < 0)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--deadline-ms " + deadlineMs +
                " must be >= 0 (0: off)");
        }
        final StressRun.Config config = new StressRun.Config();
        config.hostile = hostile;
        config.deadlineMs = deadlineMs;
        config.threads = threads;
        config.seconds = seconds;
        config.operations = operations;
        config.seed = seed;
        config.stallReaders = stallReaders;
        config.slowDrivers = slowDrivers;
        config.exhaust = exhaust;
        config.countersDir = countersDir;
        final StressRun run = new StressRun(config);
        if (null != run.countersPath())
        {
            System.err.println("pasidkit stress: counters in " + run.countersPath() + " (./pasidkit stat --dir " +
                countersDir + ")");
        }
        final Thread bar = json ? null : progress(run);
        final StressResult result = run.run();
        if (null != bar)
        {
            bar.interrupt();
            bar.join();
        }
        System.out.println(json ? result.json() : result.summary());
        return 0 == result.violations ? 0 : 1;
    }

    private Thread progress(final StressRun run)
    {
        final Thread bar = new Thread(() ->
        {
            final long startNs = System.nanoTime();
            try
            {
                while (true)
                {
                    Thread.sleep(250); // NOTE: progress display thread only
                    final double elapsed = (System.nanoTime() - startNs) / 1e9;
                    final int width = 40;
                    final double fraction = operations > 0 ?
                        Math.min(1, run.opsDone() / (double)operations) : Math.min(1, elapsed / seconds);
                    final int filled = (int)(width * fraction);
                    System.err.printf("\r[%s%s] %,d ops, %.0f s", "#".repeat(filled), " ".repeat(width - filled),
                        run.opsDone(), elapsed);
                }
            }
            catch (final InterruptedException ignore)
            {
                System.err.println();
            }
        }, "progress");
        bar.setDaemon(true);
        bar.start();
        return bar;
    }

    /**
     * The command line with its bad-input handlers: one line naming the value and the rule on stderr, exit code 2, the
     * stack trace only with {@code --verbose} (as {@code org.pasidkit.bench.CliErrors} does for the other subcommands;
     * this module does not depend on bench).
     */
    public static CommandLine commandLine()
    {
        final CommandLine commandLine = new CommandLine(new StressCommand());
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            cmd.getErr().println(cmd.getCommandName() + ": " + oneLine(ex));
            if (parseResult.originalArgs().contains("--verbose"))
            {
                ex.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return 2;
        });
        commandLine.setParameterExceptionHandler((ex, args) ->
        {
            final CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println(cmd.getCommandName() + ": " + oneLine(ex) + " (see " + cmd.getCommandName() +
                " --help)");
            if (java.util.Arrays.asList(args).contains("--verbose"))
            {
                ex.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return 2;
        });
        return commandLine;
    }

    static String oneLine(final Throwable ex)
    {
        final String message = null == ex.getMessage() ? ex.getClass().getSimpleName() : ex.getMessage();
        final int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    public static void main(final String[] args)
    {
        System.exit(commandLine().execute(args));
    }
}
