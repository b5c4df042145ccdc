package org.pasidkit.bench;

import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Bad input on the command line: one line on stderr naming the value and the rule, exit code 2, and the stack trace
 * only with {@code --verbose} (picocli's execution- and parameter-exception handlers). Every subcommand mixes in
 * {@link Verbose}.
 */
public final class CliErrors
{
    /** Exit code of bad input (picocli's own for usage errors). */
    public static final int BAD_INPUT = 2;

    /** The {@code --verbose} option every subcommand carries. */
    public static final class Verbose
    {
        @Option(names = "--verbose", description = "On an error, print the stack trace too.")
        boolean verbose;
    }

    private CliErrors()
    {
    }

    /** Installs the handlers on {@code commandLine} (and its subcommands). */
    public static CommandLine install(final CommandLine commandLine)
    {
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            final PrintWriter err = cmd.getErr();
            err.println(cmd.getCommandName() + ": " + oneLine(ex));
            if (Arrays.asList(parseResult.originalArgs().toArray(new String[0])).contains("--verbose"))
            {
                ex.printStackTrace(err);
            }
            err.flush();
            return BAD_INPUT;
        });
        commandLine.setParameterExceptionHandler((ex, args) ->
        {
            final CommandLine cmd = ex.getCommandLine();
            final PrintWriter err = cmd.getErr();
            err.println(cmd.getCommandName() + ": " + oneLine(ex) + " (see " + cmd.getCommandName() + " --help)");
            if (Arrays.asList(args).contains("--verbose"))
            {
                ex.printStackTrace(err);
            }
            err.flush();
            return BAD_INPUT;
        });
        return commandLine;
    }

    /** The exception's message on one line; the class name where it has none; the cause's where it wraps one. */
    public static String oneLine(final Throwable ex)
    {
        Throwable t = ex;
        if (null == t.getMessage() && null != t.getCause())
        {
            t = t.getCause();
        }
        String message;
        if (t instanceof NoSuchFileException)
        {
            message = t.getMessage() + ": no such file";
        }
        else
        {
            message = null == t.getMessage() ? t.getClass().getSimpleName() : t.getMessage();
        }
        final int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
