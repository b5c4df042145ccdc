package org.pasidkit.stress;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.pasidkit.stress.mutants.MutantSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jcstress gate of the build, both directions (phase {@code verify}, after {@code package} built
 * {@code jcstress.jar} and {@code MutantBuilder} compiled the mutants of {@code stress/mutants.txt} into
 * {@code target/mutants/<name>/classes}):
 * <ol>
 *   <li><b>Production</b>: one jcstress run of every production test (build options: {@code -m quick -sc false
 *       -strideSize 1}); it must show no FORBIDDEN outcome and no error, and the number of tests that ran must equal
 *       the number of {@code @JCStressTest} classes compiled into {@code org.pasidkit.stress} (jcstress itself exits
 *       0 when its regex matches nothing).</li>
 *   <li><b>Mutants</b>: each mutant is the production source with one named change; its jcstress fork runs the
 *       production test with the mutant class defined in place of the real one ({@code MutantAgent}). The test must
 *       show the specific FORBIDDEN outcome the mutant names (an {@code @Outcome} id declared FORBIDDEN by that test,
 *       never its catch-all row), and the agent's log must show the substitution happened.</li>
 * </ol>
 * Fence modes ({@code AsymmetricFence}): the production run and the mutants use the forks' default (membarrier where
 * the kernel allows it); a second production run forces the fenced path ({@code -Dpasidkit.fence=fenced} in
 * {@code -jvmArgs}) and must pass too. Before each, a probe JVM with the forks' class path and flags prints the mode
 * it chooses ({@link FenceModeProbe}), so the log says which path each run tested. On a machine that falls back to
 * fences the default run tests the fenced path as well: one line says the asymmetric path was not tested, and the
 * mutants marked {@code needs: membarrier} are skipped with a line each.
 * Mutants with the same run options share one jcstress invocation in rounds (a test appears once a round). Counts per
 * mutant are written to {@code target/mutants-report.txt}; {@code stress/BROKEN-VARIANTS.md} records them.
 */
class BrokenVariantsTest
{
    static final String PRODUCTION = "org.pasidkit.stress.";
    static final String AGRONA_EXPORTS = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";
    /** Options of every run, unless a mutant's run: line sets the option itself. */
    static final List<String> BUILD_OPTIONS = List.of("-sc", "false", "-strideSize", "1");
    static final long TIMEOUT_MINUTES = 12;

    /** Production tests with no mutant, each with the reason (and what else proves it). */
    static final Map<String, String> WITHOUT_MUTANT = Map.of();

    static Path target;
    static Path jar;
    static List<MutantSpec> mutants;
    /** Production test name (without the package) -> generated runner class. */
    static final Map<String, String> runners = new TreeMap<>();
    static final TreeSet<String> annotatedTests = new TreeSet<>();
    static Run production;
    static Run productionFenced;
    /** The fence mode probed with the default forks' flags: MEMBARRIER or FENCED. */
    static String defaultMode;
    static final String FENCED_JVM_ARGS = "-Dpasidkit.fence=fenced";
    static final Map<String, Run> mutantRuns = new LinkedHashMap<>();
    static final Map<String, List<String>> applied = new TreeMap<>();

    /** One jcstress invocation: its exit code, its output, and the samples per test and observed state. */
    static final class Run
    {
        int exitCode = -1;
        String output = "";
        final Map<String, Map<String, Long>> samples = new TreeMap<>();
        final Map<String, Status> status = new TreeMap<>();
    }

    @BeforeAll
    static void runEverything() throws Exception
    {
        jar = Path.of(System.getProperty("jcstress.jar", "target/jcstress.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "jcstress.jar not found at " + jar + ": run `mvn -pl stress -am verify`");
        target = jar.getParent();
        mutants = MutantSpec.parse(Path.of(System.getProperty("mutants.spec", "mutants.txt")));
        // NOTE: `run: manual ...` mutants are built and checked for drift at every build, but run only when asked
        // (-Dmutants.manual=true): their outcome depends on the hardware (BROKEN-VARIANTS.md has their last result).
        final boolean manual = Boolean.getBoolean("mutants.manual");
        mutants = mutants.stream().filter((m) -> manual || !m.run.startsWith("manual"))
            .collect(Collectors.toList());
        final String only = System.getProperty("mutants.only", "");
        if (!only.isEmpty())
        {
            // NOTE: for working on one mutant (-Dmutants.only=REGEX): the production run is skipped, so its test fails.
            mutants = mutants.stream().filter((m) -> m.name.matches(only)).collect(Collectors.toList());
        }
        readTestList();
        findAnnotatedTests();
        validateSpecs();

        final String[] probed = probeFenceMode("").split("\t", 2);
        defaultMode = probed[0];
        System.out.println("[pasidkit.fence] jcstress production run and mutants, forks' fence mode: " + probed[1]);
        if (!"MEMBARRIER".equals(defaultMode))
        {
            System.out.println("[pasidkit.fence] the asymmetric (membarrier) path was NOT tested by jcstress on this " +
                "machine: " + probed[1]);
            for (final MutantSpec m : mutants)
            {
                if (m.needsMembarrier)
                {
                    System.out.println("[pasidkit.fence] mutant " + m.name + " skipped: it needs the membarrier path");
                }
            }
            mutants = mutants.stream().filter((m) -> !m.needsMembarrier).collect(Collectors.toList());
        }
        production = only.isEmpty() ? jcstress("production",
            List.of("-m", System.getProperty("jcstress.mode", "quick")), runners.keySet(), null, "") : new Run();
        System.out.println("production jcstress run: exit " + production.exitCode + ", " + production.samples.size() +
            " tests");
        if (only.isEmpty())
        {
            System.out.println("[pasidkit.fence] jcstress production run (fenced forced), forks' fence mode: " +
                probeFenceMode(FENCED_JVM_ARGS).split("\t", 2)[1]);
            productionFenced = jcstress("production-fenced", List.of("-m", System.getProperty("jcstress.mode",
                "quick")), runners.keySet(), null, FENCED_JVM_ARGS);
            System.out.println("production jcstress run (fenced forced): exit " + productionFenced.exitCode + ", " +
                productionFenced.samples.size() + " tests");
        }
        else
        {
            productionFenced = new Run();
        }

        final Map<String, List<MutantSpec>> byOptions = new LinkedHashMap<>();
        for (final MutantSpec m : mutants)
        {
            byOptions.computeIfAbsent(m.run.replaceFirst("^manual\\s*", ""), (k) -> new ArrayList<>()).add(m);
        }
        int round = 0;
        for (final Map.Entry<String, List<MutantSpec>> group : byOptions.entrySet())
        {
            final List<MutantSpec> left = new ArrayList<>(group.getValue());
            while (!left.isEmpty())
            {
                final List<MutantSpec> these = new ArrayList<>();
                final TreeSet<String> tests = new TreeSet<>();
                for (final MutantSpec m : List.copyOf(left))
                {
                    final List<String> own = m.expectations.stream().map((e) -> e.test).collect(Collectors.toList());
                    if (own.stream().noneMatch(tests::contains))
                    {
                        tests.addAll(own);
                        these.add(m);
                        left.remove(m);
                    }
                }
                final Path map = target.resolve("mutants-run-" + round + ".map");
                final StringBuilder lines = new StringBuilder();
                for (final MutantSpec m : these)
                {
                    for (final MutantSpec.Expectation e : m.expectations)
                    {
                        lines.append(PRODUCTION).append(runners.get(e.test)).append('\t')
                            .append(target.resolve("mutants").resolve(m.name).resolve("classes")).append('\n');
                    }
                }
                Files.writeString(map, lines.toString(), StandardCharsets.UTF_8);
                Files.deleteIfExists(Path.of(map + ".log"));
                final Run run = jcstress("mutants-" + round, List.of(group.getKey().split("\\s+")), tests, map, "");
                System.out.println("mutant run " + round + " (" + group.getKey() + "): exit " + run.exitCode + ", " +
                    these.size() + " mutants");
                if (Files.exists(Path.of(map + ".log")))
                {
                    for (final String line : Files.readAllLines(Path.of(map + ".log"), StandardCharsets.UTF_8))
                    {
                        final String[] f = line.split("\t");
                        if (4 != f.length)
                        {
                            continue; // "agent started" lines
                        }
                        applied.computeIfAbsent(f[3], (k) -> new ArrayList<>()).add(f[1] + " " + f[2]);
                    }
                }
                for (final MutantSpec m : these)
                {
                    mutantRuns.put(m.name, run);
                }
                round++;
            }
        }
        writeReport();
    }

    @Test
    void productionPassesAndEveryTestRan()
    {
        checkProduction(production, "");
    }

    @Test
    void productionPassesOnTheFencedPath()
    {
        checkProduction(productionFenced, " (-Dpasidkit.fence=fenced)");
    }

    /** The probe with the fenced flag reports FENCED: the forced run really tested the fenced path. */
    @Test
    void fencedFlagForcesTheFencedPath() throws Exception
    {
        final String probed = probeFenceMode(FENCED_JVM_ARGS);
        assertTrue(probed.startsWith("FENCED\t"), () -> "-Dpasidkit.fence=fenced did not force the fenced path: " +
            probed);
    }

    static void checkProduction(final Run run, final String label)
    {
        assertTrue(run.output.contains("RUN RESULTS"), () -> "jcstress" + label + " did not run:\n" + tail(run.output));
        final TreeSet<String> ran = new TreeSet<>(run.samples.keySet());
        assertEquals(annotatedTests, ran, "the production tests that ran" + label +
            " differ from the @JCStressTest classes");
        assertTrue(ran.size() >= 20, "only " + ran.size() + " production tests ran" + label);
        final List<String> bad = new ArrayList<>();
        for (final String test : ran)
        {
            if (Status.NORMAL != run.status.get(test))
            {
                bad.add(test + ": " + run.status.get(test));
            }
            for (final Map.Entry<String, Long> s : run.samples.get(test).entrySet())
            {
                if (Expect.FORBIDDEN == grade(test, s.getKey()) && s.getValue() > 0)
                {
                    bad.add(test + ": FORBIDDEN \"" + s.getKey() + "\" " + s.getValue() + " times");
                }
            }
        }
        assertEquals(List.of(), bad, () -> "the production code failed its jcstress tests" + label + ":\n" +
            tail(run.output));
        assertEquals(0, run.exitCode, () -> "jcstress" + label + " exited non-zero:\n" + tail(run.output));
    }

    /**
     * The fence mode a JVM with the jcstress forks' class path and flags (plus {@code extraJvmArgs}) chooses:
     * {@code MODE<TAB>description}, from {@link FenceModeProbe}.
     */
    static String probeFenceMode(final String extraJvmArgs) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(AGRONA_EXPORTS.split(" ")));
        if (!extraJvmArgs.isEmpty())
        {
            command.addAll(List.of(extraJvmArgs.split(" ")));
        }
        command.addAll(List.of("-cp", jar.toString(), FenceModeProbe.class.getName()));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(process.waitFor(1, TimeUnit.MINUTES), "fence mode probe hung: " + command);
        assertEquals(0, process.exitValue(), () -> "fence mode probe failed: " + command + "\n" + out);
        final String last = out.lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.matches("(MEMBARRIER|FENCED)\t.*"), () -> "fence mode probe printed: " + out);
        return last;
    }

    static Stream<MutantSpec> mutants()
    {
        return mutants.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mutants")
    void mutantShowsItsForbiddenOutcome(final MutantSpec m)
    {
        final Run run = mutantRuns.get(m.name);
        final String dir = target.resolve("mutants").resolve(m.name).resolve("classes").toString();
        final List<String> uses = applied.getOrDefault(dir, List.of());
        for (final MutantSpec.Expectation e : m.expectations)
        {
            assertTrue(uses.stream().anyMatch((u) -> u.startsWith(PRODUCTION + runners.get(e.test) + " " +
                m.className())), () -> m + ": the agent never defined " + m.className() + " from the mutant in the " +
                "forks of " + e.test + " (log: " + uses + ")\n" + tail(run.output));
            final long hits = hits(run, e);
            assertTrue(hits > 0, () -> m + " (" + m.bug + "): " + e + " not shown in " + total(run, e.test) +
                " samples; observed " + run.samples.get(e.test) +
                ": the production test cannot catch this bug\n" + tail(run.output));
        }
    }

    /** Every production test is the target of some mutant, or named in WITHOUT_MUTANT with its reason. */
    @Test
    void everyProductionTestHasAMutant()
    {
        final TreeSet<String> covered = mutants.stream().flatMap((m) -> m.expectations.stream())
            .map((e) -> e.test).collect(Collectors.toCollection(TreeSet::new));
        covered.addAll(WITHOUT_MUTANT.keySet());
        assertEquals(new TreeSet<>(runners.keySet()), covered, "production tests and the mutants' targets differ");
    }

    static long hits(final Run run, final MutantSpec.Expectation e)
    {
        final List<Pattern> ids = e.outcomeIds.stream().map(Pattern::compile).collect(Collectors.toList());
        return run.samples.getOrDefault(e.test, Map.of()).entrySet().stream()
            .filter((s) -> ids.stream().anyMatch((id) -> id.matcher(s.getKey()).matches()) &&
                Expect.FORBIDDEN == grade(e.test, s.getKey()))
            .mapToLong(Map.Entry::getValue).sum();
    }

    static long total(final Run run, final String test)
    {
        return run.samples.getOrDefault(test, Map.of()).values().stream().mapToLong(Long::longValue).sum();
    }

    /** The expectation jcstress gives an observed state: the first declared outcome whose id matches, else the default. */
    static Expect grade(final String test, final String state)
    {
        Outcome fallback = null;
        for (final Outcome o : outcomes(test))
        {
            // NOTE: the catch-all row's id is the annotation's default, {""}, which matches no state.
            if (Stream.of(o.id()).allMatch(String::isEmpty))
            {
                fallback = o;
                continue;
            }
            for (final String id : o.id())
            {
                if (state.matches(id))
                {
                    return o.expect();
                }
            }
        }
        return null == fallback ? Expect.UNKNOWN : fallback.expect();
    }

    static Outcome[] outcomes(final String test)
    {
        try
        {
            final int dot = test.indexOf('.');
            final Class<?> c = Class.forName(PRODUCTION + test.substring(0, dot) + "$" + test.substring(dot + 1));
            return c.getAnnotationsByType(Outcome.class);
        }
        catch (final ClassNotFoundException ex)
        {
            throw new AssertionError("no test class for " + test, ex);
        }
    }

    /** Every expectation names a production test and an outcome id that test declares FORBIDDEN. */
    static void validateSpecs()
    {
        final List<String> bad = new ArrayList<>();
        for (final MutantSpec m : mutants)
        {
            for (final MutantSpec.Expectation e : m.expectations)
            {
                if (!runners.containsKey(e.test))
                {
                    bad.add(m + ": no production jcstress test " + e.test);
                    continue;
                }
                for (final String id : e.outcomeIds)
                {
                    if (Stream.of(outcomes(e.test))
                        .noneMatch((o) -> Expect.FORBIDDEN == o.expect() && List.of(o.id()).contains(id)))
                    {
                        bad.add(m + ": \"" + id + "\" is not an id of a FORBIDDEN @Outcome of " + e.test);
                    }
                }
            }
            if (!Files.isRegularFile(target.resolve("mutants").resolve(m.name).resolve("classes")
                .resolve(m.className().replace('.', '/') + ".class")))
            {
                bad.add(m + ": not built (MutantBuilder runs in process-classes)");
            }
        }
        assertEquals(List.of(), bad, "stress/mutants.txt");
    }

    /** Production tests and their runner classes, from the generated META-INF/TestList of the stress classes. */
    static void readTestList() throws IOException
    {
        final Enumeration<URL> lists = BrokenVariantsTest.class.getClassLoader().getResources("META-INF/TestList");
        while (lists.hasMoreElements())
        {
            try (InputStream in = lists.nextElement().openStream())
            {
                for (final String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                {
                    final List<String> fields = fields(line);
                    if (fields.size() >= 3 && fields.get(0).startsWith(PRODUCTION))
                    {
                        runners.put(fields.get(0).substring(PRODUCTION.length()),
                            fields.get(2).substring(PRODUCTION.length()));
                    }
                }
            }
        }
    }

    /** The nested classes annotated {@code @JCStressTest} in the compiled package org.pasidkit.stress. */
    static void findAnnotatedTests() throws IOException, ClassNotFoundException
    {
        final Path classes = target.resolve("classes").resolve("org/pasidkit/stress");
        try (Stream<Path> files = Files.list(classes))
        {
            for (final Path f : (Iterable<Path>)files::iterator)
            {
                final String name = f.getFileName().toString();
                if (name.endsWith(".class") && name.contains("$") && !name.contains("_jcstress"))
                {
                    final Class<?> c = Class.forName(PRODUCTION + name.substring(0, name.length() - 6), false,
                        BrokenVariantsTest.class.getClassLoader());
                    if (c.isAnnotationPresent(JCStressTest.class))
                    {
                        annotatedTests.add(c.getName().substring(PRODUCTION.length()).replace('$', '.'));
                    }
                }
            }
        }
    }

    /** Length-prefixed string fields of a TestList line ("JCTEST56Sorg....56Sorg...$...65S..._jcstress..."). */
    static List<String> fields(final String line)
    {
        final List<String> out = new ArrayList<>();
        if (!line.startsWith("JCTEST"))
        {
            return out;
        }
        int i = "JCTEST".length();
        while (out.size() < 3 && i < line.length())
        {
            int length = 0;
            while (i < line.length() && Character.isDigit(line.charAt(i)))
            {
                length = length * 10 + (line.charAt(i++) - '0');
            }
            if (i >= line.length() || 'S' != line.charAt(i) || i + 1 + length > line.length())
            {
                break;
            }
            out.add(line.substring(i + 1, i + 1 + length));
            i += 1 + length;
        }
        return out;
    }

    static Run jcstress(final String label, final List<String> options, final java.util.Collection<String> tests,
        final Path agentMap, final String extraJvmArgs) throws IOException, InterruptedException, ClassNotFoundException
    {
        final Path dir = target.resolve("jcstress-" + label);
        deleteRecursively(dir);
        Files.createDirectories(dir);
        final String regex = "^" + tests.stream().map((t) -> Pattern.quote(PRODUCTION + t))
            .collect(Collectors.joining("|", "(?:", ")")) + "$";
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(AGRONA_EXPORTS.split(" ")));
        command.addAll(List.of("-cp", jar.toString(), "org.openjdk.jcstress.Main", "-t", regex));
        command.addAll(options);
        for (int i = 0; i < BUILD_OPTIONS.size(); i += 2)
        {
            if (!options.contains(BUILD_OPTIONS.get(i)))
            {
                command.addAll(BUILD_OPTIONS.subList(i, i + 2));
            }
        }
        command.addAll(List.of("-jvmArgs", AGRONA_EXPORTS + (extraJvmArgs.isEmpty() ? "" : " " + extraJvmArgs) +
            (null == agentMap ? "" : " -javaagent:" + jar + "=" + agentMap), "-r", dir.resolve("report").toString()));
        final Path log = dir.resolve("output.txt");
        final Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES))
        {
            // NOTE: jcstress forks a JVM per test: stop this process's own descendants first, then the host.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("jcstress " + label + " did not finish within " + TIMEOUT_MINUTES + " min: " +
                command + "\n" + tail(Files.readString(log, StandardCharsets.UTF_8)));
        }
        final Run run = new Run();
        run.exitCode = process.exitValue();
        run.output = Files.readString(log, StandardCharsets.UTF_8);
        final List<Path> blobs;
        try (Stream<Path> files = Files.list(dir))
        {
            blobs = files.filter((p) -> p.getFileName().toString().endsWith(".bin.gz")).collect(Collectors.toList());
        }
        assertEquals(1, blobs.size(), () -> "jcstress " + label + " left no result file in " + dir + ":\n" +
            tail(run.output));
        final DiskReadCollector reader = new DiskReadCollector(blobs.get(0).toString(), (TestResult r) ->
        {
            final String test = r.getName().substring(PRODUCTION.length());
            final Map<String, Long> counts = run.samples.computeIfAbsent(test, (k) -> new TreeMap<>());
            for (final String state : r.getStateKeys())
            {
                counts.merge(state, r.getCount(state), Long::sum);
            }
            run.status.merge(test, r.status(), Status::combine);
        });
        try
        {
            reader.dump();
        }
        finally
        {
            reader.close();
        }
        return run;
    }

    static void writeReport() throws IOException
    {
        final StringBuilder out = new StringBuilder();
        out.append("mutant\ttest\texpected outcome\thits\tsamples\n");
        for (final MutantSpec m : mutants)
        {
            for (final MutantSpec.Expectation e : m.expectations)
            {
                final Run run = mutantRuns.get(m.name);
                out.append(m.name).append('\t').append(e.test).append('\t').append(String.join(" | ", e.outcomeIds))
                    .append('\t')
                    .append(hits(run, e)).append('\t').append(total(run, e.test)).append('\n');
            }
        }
        Files.writeString(target.resolve("mutants-report.txt"), out.toString(), StandardCharsets.UTF_8);
        System.out.print(out);
    }

    static void deleteRecursively(final Path dir) throws IOException
    {
        if (Files.exists(dir))
        {
            try (Stream<Path> paths = Files.walk(dir))
            {
                for (final Path p : (Iterable<Path>)paths.sorted(java.util.Comparator.reverseOrder())::iterator)
                {
                    Files.delete(p);
                }
            }
        }
    }

    static String tail(final String text)
    {
        final List<String> lines = text.lines().collect(Collectors.toList());
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
