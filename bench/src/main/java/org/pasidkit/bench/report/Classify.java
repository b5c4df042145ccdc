package org.pasidkit.bench.report;

/** Names a JMH result for the report: subject (what is measured), implementation, workload. */
final class Classify
{
    private Classify()
    {
    }

    static void classify(final BenchRow row)
    {
        final String name = row.benchmark;
        final int lastDot = name.lastIndexOf('.');
        final String method = name.substring(lastDot + 1);
        final String cls = name.substring(name.lastIndexOf('.', lastDot - 1) + 1, lastDot);
        row.subject = subjectOf(cls);
        String impl = row.params.getOrDefault("impl", row.params.getOrDefault("implementation", null));
        if (null == impl)
        {
            // NOTE: a floor measures no allocator (AllocFreeFloorBenchmark): never a pasidkit row.
            impl = cls.endsWith("FloorBenchmark") ? "floor" : "pasidkit";
        }
        row.implementation = impl;
        // NOTE: pairT1 / pairT2 / pairT4 are one workload at 1, 2 and 4 threads: one table with a column per thread
        // count and one chart against threads (the JMH names, which the goals look up, keep the suffix).
        final String base = method.matches(".+T\\d+$") ? method.replaceAll("T\\d+$", "") : method;
        final StringBuilder workload = new StringBuilder(cls.replace("Benchmark", "")).append('.').append(base);
        for (final java.util.Map.Entry<String, String> e : row.params.entrySet())
        {
            if (!"impl".equals(e.getKey()) && !"implementation".equals(e.getKey()))
            {
                workload.append(' ').append(e.getKey()).append('=').append(e.getValue());
            }
        }
        row.workload = workload.toString();
    }

    static String subjectOf(final String cls)
    {
        if (cls.startsWith("PasidAllocator") || cls.startsWith("AllocFreeFloor"))
        {
            return "allocator";
        }
        if (cls.startsWith("EpochDomain"))
        {
            return "epoch";
        }
        if (cls.startsWith("EpochReclaim") || cls.startsWith("Grace"))
        {
            return "reclaim";
        }
        if (cls.contains("Lookup"))
        {
            return "lookup";
        }
        if (cls.contains("Bind"))
        {
            return "bind";
        }
        if (cls.contains("Fault"))
        {
            return "fault";
        }
        if (cls.contains("Fanout") || cls.contains("Invalidat"))
        {
            return "fanout";
        }
        return cls.replace("Benchmark", "").toLowerCase(java.util.Locale.ROOT);
    }
}
