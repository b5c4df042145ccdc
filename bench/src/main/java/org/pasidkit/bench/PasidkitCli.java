package org.pasidkit.bench;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./pasidkit} command line. Subcommands: {@code demo} (the allocator walk-through). The launcher script
 * runs {@code jcstress} and {@code jmh} itself.
 */
@Command(
    name = "pasidkit",
    mixinStandardHelpOptions = true,
    version = "pasidkit 0.1.0",
    description = "PCIe PASID management the way an IOMMU driver core does it.",
    subcommands = {org.pasidkit.bench.fanout.FanoutCommand.class, org.pasidkit.bench.report.BenchCommand.class,
        AllocatorDemoCommand.class, org.pasidkit.bench.stat.StatCommand.class})
public final class PasidkitCli implements Callable<Integer>
{
    @Override
    public Integer call()
    {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /** The command line with its bad-input handlers (see {@link CliErrors}). */
    public static CommandLine commandLine()
    {
        return CliErrors.install(new CommandLine(new PasidkitCli()));
    }

    public static void main(final String[] args)
    {
        System.exit(commandLine().execute(args));
    }
}
