package org.pasidkit.stress.mutants;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One mutant of {@code stress/mutants.txt}: a production source file with one named change (one or more snippet
 * replacements), the production jcstress test(s) it must fail, and for each the FORBIDDEN outcome id it must show.
 * The file format is described at the top of {@code stress/mutants.txt}.
 *
 * <p>A snippet is matched with every run of whitespace collapsed to one space (so re-indenting or re-wrapping the
 * production code does not break it), and must occur exactly once in the unmodified source: a refactor that moves or
 * rewrites the broken line makes {@link #apply} fail with the mutant's name, so a mutant can never drift from the code
 * it claims to break.</p>
 */
public final class MutantSpec
{
    /**
     * A production test and the FORBIDDEN outcome ids (each an {@code @Outcome} id of that test, declared FORBIDDEN)
     * it must show: samples matching any of them count as hits (a race that two symmetric actors can lose either way
     * names both ids of its row).
     */
    public static final class Expectation
    {
        public final String test;
        public final List<String> outcomeIds;

        Expectation(final String test, final List<String> outcomeIds)
        {
            this.test = test;
            this.outcomeIds = List.copyOf(outcomeIds);
        }

        @Override
        public String toString()
        {
            return test + " => " + String.join(" | ", outcomeIds.stream().map((id) -> "\"" + id + "\"")
                .toArray(String[]::new));
        }
    }

    /** One replacement: {@code find} must occur exactly once in the production source. */
    public static final class Edit
    {
        public final String find;
        public final String replace;

        Edit(final String find, final String replace)
        {
            this.find = find;
            this.replace = replace;
        }
    }

    public final String name;
    public final String file;
    public final String bug;
    /** jcstress options of this mutant's run (mutants with equal options share one jcstress invocation). */
    public final String run;
    /**
     * True when the mutant's bug shows only on the asymmetric fence path ({@code needs: membarrier}): on a machine
     * where {@code AsymmetricFence} falls back to fences the mutated branch never runs, so the harness skips it and
     * says so.
     */
    public final boolean needsMembarrier;
    public final List<Expectation> expectations;
    public final List<Edit> edits;

    private MutantSpec(final String name, final String file, final String bug, final String run,
        final boolean needsMembarrier, final List<Expectation> expectations, final List<Edit> edits)
    {
        this.name = name;
        this.file = file;
        this.bug = bug;
        this.run = run;
        this.needsMembarrier = needsMembarrier;
        this.expectations = List.copyOf(expectations);
        this.edits = List.copyOf(edits);
    }

    @Override
    public String toString()
    {
        return name;
    }

    /** The fully qualified name of the class the file declares (package + file name). */
    public String className()
    {
        final int java = file.indexOf("/java/");
        return file.substring(java + "/java/".length(), file.length() - ".java".length()).replace('/', '.');
    }

    /** Parses the mutants file; throws with the line number on any malformed entry. */
    public static List<MutantSpec> parse(final Path specFile) throws IOException
    {
        final List<String> lines = Files.readAllLines(specFile, StandardCharsets.UTF_8);
        final List<MutantSpec> mutants = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        int i = 0;
        while (i < lines.size())
        {
            final String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#"))
            {
                i++;
                continue;
            }
            if (!line.startsWith("== "))
            {
                throw malformed(specFile, i, "expected '== <mutant name>'");
            }
            final String name = line.substring(3).trim();
            if (!name.matches("[A-Za-z0-9_.]+") || !names.add(name))
            {
                throw malformed(specFile, i, "bad or duplicate mutant name '" + name + "'");
            }
            i++;
            String file = null;
            String bug = null;
            String run = "-m quick";
            boolean needsMembarrier = false;
            final List<Expectation> expectations = new ArrayList<>();
            final List<Edit> edits = new ArrayList<>();
            String find = null;
            while (i < lines.size() && !lines.get(i).startsWith("== "))
            {
                final String l = lines.get(i);
                if (l.isBlank() || l.startsWith("#"))
                {
                    i++;
                }
                else if (l.startsWith("file:"))
                {
                    file = l.substring(5).trim();
                    i++;
                }
                else if (l.startsWith("bug:"))
                {
                    bug = l.substring(4).trim();
                    i++;
                }
                else if (l.startsWith("run:"))
                {
                    run = l.substring(4).trim();
                    i++;
                }
                else if (l.startsWith("needs:"))
                {
                    if (!"membarrier".equals(l.substring(6).trim()))
                    {
                        throw malformed(specFile, i, "expected 'needs: membarrier'");
                    }
                    needsMembarrier = true;
                    i++;
                }
                else if (l.startsWith("test:"))
                {
                    final String[] parts = l.substring(5).split("=>", 2);
                    final String ids = 2 == parts.length ? parts[1].trim() : "";
                    if (!ids.matches("\"[^\"]+\"( \\| \"[^\"]+\")*"))
                    {
                        throw malformed(specFile, i, "expected 'test: <Class.Test> => \"<outcome id>\" [| \"<id>\"]'");
                    }
                    final List<String> list = new ArrayList<>();
                    for (final String id : ids.split(" \\| "))
                    {
                        list.add(id.substring(1, id.length() - 1));
                    }
                    expectations.add(new Expectation(parts[0].trim(), list));
                    i++;
                }
                else if (l.startsWith("find:") || l.startsWith("replace:"))
                {
                    final boolean isFind = l.startsWith("find:");
                    final StringBuilder block = new StringBuilder();
                    i++;
                    while (i < lines.size() && (lines.get(i).isEmpty() || Character.isWhitespace(lines.get(i).charAt(0))))
                    {
                        block.append(lines.get(i)).append('\n');
                        i++;
                    }
                    if (isFind)
                    {
                        if (null != find)
                        {
                            throw malformed(specFile, i, "find: without its replace:");
                        }
                        find = block.toString();
                        if (find.isBlank())
                        {
                            throw malformed(specFile, i, "empty find: block");
                        }
                    }
                    else
                    {
                        if (null == find)
                        {
                            throw malformed(specFile, i, "replace: without a find:");
                        }
                        edits.add(new Edit(find, block.toString()));
                        find = null;
                    }
                }
                else
                {
                    throw malformed(specFile, i, "unknown line (code lines must be indented)");
                }
            }
            if (null == file || null == bug || expectations.isEmpty() || edits.isEmpty() || null != find)
            {
                throw new IllegalArgumentException(specFile + ": mutant " + name +
                    " needs file:, bug:, at least one test: and find:/replace: pairs");
            }
            mutants.add(new MutantSpec(name, file, bug, run, needsMembarrier, expectations, edits));
        }
        return mutants;
    }

    private static IllegalArgumentException malformed(final Path file, final int index, final String what)
    {
        return new IllegalArgumentException(file + ":" + (index + 1) + ": " + what);
    }

    /**
     * The production source with every edit applied.
     *
     * @throws IllegalStateException naming the mutant if a snippet does not occur exactly once, or two overlap.
     */
    public String apply(final String source)
    {
        final StringBuilder normalized = new StringBuilder(source.length());
        final int[] origin = new int[source.length() + 1];
        boolean space = false;
        for (int k = 0; k < source.length(); k++)
        {
            final char c = source.charAt(k);
            if (Character.isWhitespace(c))
            {
                if (!space)
                {
                    origin[normalized.length()] = k;
                    normalized.append(' ');
                    space = true;
                }
            }
            else
            {
                origin[normalized.length()] = k;
                normalized.append(c);
                space = false;
            }
        }
        final String text = normalized.toString();
        final int[][] ranges = new int[edits.size()][];
        for (int e = 0; e < edits.size(); e++)
        {
            final String needle = normalize(edits.get(e).find);
            final int at = text.indexOf(needle);
            if (at < 0)
            {
                throw new IllegalStateException("mutant " + name + ": snippet " + (e + 1) + " not found in " + file +
                    " (the production code changed: update the mutant in stress/mutants.txt):\n" + needle);
            }
            if (text.indexOf(needle, at + 1) >= 0)
            {
                throw new IllegalStateException("mutant " + name + ": snippet " + (e + 1) + " occurs more than once " +
                    "in " + file + " (make it longer so that it names one place):\n" + needle);
            }
            final int start = origin[at];
            final int end = origin[at + needle.length() - 1] + 1;
            for (int p = 0; p < e; p++)
            {
                if (start < ranges[p][1] && ranges[p][0] < end)
                {
                    throw new IllegalStateException("mutant " + name + ": snippets " + (p + 1) + " and " + (e + 1) +
                        " overlap in " + file);
                }
            }
            ranges[e] = new int[] {start, end, e};
        }
        final List<int[]> order = new ArrayList<>(List.of(ranges));
        order.sort((a, b) -> Integer.compare(b[0], a[0]));
        final StringBuilder out = new StringBuilder(source);
        for (final int[] r : order)
        {
            out.replace(r[0], r[1], "/* MUTANT " + name + " */ " + edits.get(r[2]).replace.strip());
        }
        return out.toString();
    }

    static String normalize(final String code)
    {
        return code.strip().replaceAll("\\s+", " ");
    }
}
