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
        instrumentation.addTransformer(new Substitution(runners, Path.of(mapFile + ".log")));
    }

    static final class Substitution implements ClassFileTransformer
    {
        private final Map<String, Path> runners;
        private final Path log;
        private String runner;
        private Path selected;

        Substitution(final Map<String, Path> runners, final Path log)
        {
            this.runners = runners;
            this.log = log;
        }

        @Override
        public synchronized byte[] transform(final ClassLoader loader, final String className,
            final Class<?> classBeingRedefined, final ProtectionDomain domain, final byte[] bytes)
        {
            if (null == className || null != classBeingRedefined)
            {
                return null;
            }
            final Path mutant = runners.get(className);
            if (null != mutant)
            {
                if (null != selected && !selected.equals(mutant))
                {
                    System.err.println("MutantAgent: fork loads runners " + runner + " and " + className +
                        ": cannot tell which mutant applies");
                    Runtime.getRuntime().halt(3);
                }
                runner = className;
                selected = mutant;
                return null;
            }
            if (null == selected)
            {
                return null;
            }
            final Path file = selected.resolve(className + ".class");
            if (!Files.isRegularFile(file))
            {
                return null;
            }
            try
            {
                final byte[] mutated = Files.readAllBytes(file);
                Files.writeString(log, ProcessHandle.current().pid() + "\t" + runner.replace('/', '.') + "\t" +
                    className.replace('/', '.') + "\t" + selected + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
                return mutated;
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }
}
