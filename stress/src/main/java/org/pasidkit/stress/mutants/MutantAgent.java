package org.pasidkit.stress.mutants;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.ProtectionDomain;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Java agent of the jcstress forks of a mutant run ({@code -javaagent:jcstress.jar=<map file>}): makes one jcstress
 * fork run its test against one mutant, so that one jcstress invocation (whose VM probing costs about 15 s here) runs
 * many mutants, each against its own test, and the test class exists once.
 *
 * <p>Each jcstress fork runs one test: it loads the test's generated runner class ({@code <Test>_jcstress}) before
 * any production class the test uses. The map file has one line per test of the run, {@code <runner class>\t<mutant
 * classes dir>}. When the fork loads a runner named in the map, the agent selects that mutant; from then on, every
 * class whose compiled mutant exists in the selected directory is defined from the mutant's bytes instead of the
 * production ones (the mutant has the same package and name, so package-private access is unchanged). A fork that
 * loads two mapped runners halts (exit 3): it could mix mutants. Each substitution is logged, one line per class and
 * fork, to {@code <map file>.log}, which the harness checks.</p>
 */
public final class MutantAgent
{
    private MutantAgent()
    {
    }

    public static void premain(final String mapFile, final Instrumentation instrumentation) throws IOException
    {
        final Map<String, Path> runners = new HashMap<>();
        for (final String line : Files.readAllLines(Path.of(mapFile), StandardCharsets.UTF_8))
        {
            final String[] parts = line.split("\t");
            if (2 == parts.length)
            {
                runners.put(parts[0].replace('.', '/'), Path.of(parts[1]));
            }
        }
        final Substitution substitution = new Substitution(runners, Path.of(mapFile + ".log"));
        // NOTE: warm the logging path up before any transform: its first use loads JDK classes.
        substitution.log(new StringBuilder().append(ProcessHandle.current().pid()).append("\tagent started\n"));
        Files.isRegularFile(Path.of(mapFile).resolve(new StringBuilder("x").append(".class").toString()));
        Files.readAllBytes(Path.of(mapFile));
        instrumentation.addTransformer(substitution);
    }

    /**
     * NOTE: no lock and no indy string concatenation or lambda in transform: a first string concatenation there
     * bootstraps StringConcatFactory, which defines classes; with a monitor held across it, a jcstress fork deadlocked
     * (another thread held a class-loading lock and waited for the monitor). The fork's test is selected once, by a
     * CAS of the selection.
     */
    static final class Substitution implements ClassFileTransformer
    {
        private final Map<String, Path> runners;
        private final Path log;
        private final AtomicReference<String> runner = new AtomicReference<>();

        Substitution(final Map<String, Path> runners, final Path log)
        {
            this.runners = runners;
            this.log = log;
        }

        @Override
        public byte[] transform(final ClassLoader loader, final String className,
            final Class<?> classBeingRedefined, final ProtectionDomain domain, final byte[] bytes)
        {
            if (null == className || null != classBeingRedefined)
            {
                return null;
            }
            if (runners.containsKey(className))
            {
                if (!runner.compareAndSet(null, className) && !className.equals(runner.get()))
                {
                    System.err.println(new StringBuilder().append("MutantAgent: fork loads runners ")
                        .append(runner.get()).append(" and ").append(className)
                        .append(": cannot tell which mutant applies").toString());
                    Runtime.getRuntime().halt(3);
                }
                return null;
            }
            final String selected = runner.get();
            if (null == selected)
            {
                return null;
            }
            final Path dir = runners.get(selected);
            final Path file = dir.resolve(new StringBuilder(className).append(".class").toString());
            if (!Files.isRegularFile(file))
            {
                return null;
            }
            try
            {
                final byte[] mutated = Files.readAllBytes(file);
                log(new StringBuilder().append(ProcessHandle.current().pid()).append('\t')
                    .append(selected.replace('/', '.')).append('\t').append(className.replace('/', '.')).append('\t')
                    .append(dir).append('\n'));
                return mutated;
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }

        void log(final StringBuilder line)
        {
            try
            {
                Files.writeString(log, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }
}
