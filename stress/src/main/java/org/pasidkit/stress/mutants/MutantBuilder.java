package org.pasidkit.stress.mutants;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Build step of module {@code stress} (phase {@code process-classes}): for every mutant of {@code stress/mutants.txt},
 * copies the production source, applies the mutant's edits and compiles the result, with the same package and class
 * name, into {@code target/mutants/<name>/classes} against the production classes (this JVM's class path). Fails
 * (exit 1) naming the mutant if a snippet does not occur exactly once or the mutated source does not compile.
 *
 * <p>Usage: {@code java -cp <stress class path> org.pasidkit.stress.mutants.MutantBuilder <mutants.txt> <repository
 * root> <output dir>}.</p>
 */
public final class MutantBuilder
{
    private MutantBuilder()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        if (3 != args.length)
        {
            System.err.println("usage: MutantBuilder <mutants.txt> <repository root> <output dir>");
            System.exit(2);
        }
        final Path root = Path.of(args[1]);
        final Path out = Path.of(args[2]);
        final List<MutantSpec> mutants = MutantSpec.parse(Path.of(args[0]));
        deleteRecursively(out);
        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int failures = 0;
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8))
        {
            for (final MutantSpec m : mutants)
            {
                try
                {
                    build(javac, files, m, root, out);
                }
                catch (final IllegalStateException ex)
                {
                    failures++;
                    System.err.println("[MUTANT FAILED] " + ex.getMessage());
                }
            }
        }
        if (failures > 0)
        {
            System.err.println(failures + " of " + mutants.size() + " mutants could not be built (see above)");
            System.exit(1);
        }
        System.out.println("built " + mutants.size() + " mutants into " + out);
    }

    private static void build(final JavaCompiler javac, final StandardJavaFileManager files, final MutantSpec m,
        final Path root, final Path out) throws IOException
    {
        final Path production = root.resolve(m.file);
        if (!Files.isRegularFile(production))
        {
            throw new IllegalStateException("mutant " + m.name + ": production file " + m.file + " not found");
        }
        final String mutated = m.apply(Files.readString(production, StandardCharsets.UTF_8));
        final Path dir = out.resolve(m.name);
        final Path source = dir.resolve("src").resolve(m.file.substring(m.file.indexOf("/java/") + "/java/".length()));
        Files.createDirectories(source.getParent());
        Files.writeString(source, mutated, StandardCharsets.UTF_8);
        final Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        final Iterable<? extends JavaFileObject> units = files.getJavaFileObjects(source.toFile());
        final StringWriter diagnostics = new StringWriter();
        final boolean ok = javac.getTask(diagnostics, files, null, List.of("--release", "17", "-proc:none", "-nowarn",
            "-encoding", "UTF-8", "-cp", System.getProperty("java.class.path"), "-d", classes.toString()), null, units)
            .call();
        if (!ok)
        {
            throw new IllegalStateException("mutant " + m.name + ": the mutated " + m.file + " does not compile:\n" +
                diagnostics);
        }
        final Path main = classes.resolve(m.className().replace('.', '/') + ".class");
        if (!Files.isRegularFile(main))
        {
            throw new IllegalStateException("mutant " + m.name + ": no class " + m.className() + " compiled");
        }
    }

    private static void deleteRecursively(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path p : (Iterable<Path>)paths.sorted(Comparator.reverseOrder())::iterator)
            {
                Files.delete(p);
            }
        }
    }
}
