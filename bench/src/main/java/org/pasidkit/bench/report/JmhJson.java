package org.pasidkit.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads JMH's JSON result format back into rows (for {@code --report-only}); a small JSON reader, no library. */
final class JmhJson
{
    private final String text;
    private int at;

    private JmhJson(final String text)
    {
        this.text = text;
    }

    @SuppressWarnings("unchecked")
    static List<BenchRow> read(final Path file) throws IOException
    {
        final Object root = new JmhJson(Files.readString(file, StandardCharsets.UTF_8)).value();
        final List<BenchRow> rows = new ArrayList<>();
        for (final Object o : (List<Object>)root)
        {
            final Map<String, Object> r = (Map<String, Object>)o;
            final BenchRow row = new BenchRow();
            row.benchmark = (String)r.get("benchmark");
            row.mode = (String)r.get("mode");
            row.threads = ((Number)r.get("threads")).intValue();
            final Map<String, Object> params = (Map<String, Object>)r.get("params");
            if (null != params)
            {
                params.forEach((k, v) -> row.params.put(k, String.valueOf(v)));
            }
            final Map<String, Object> primary = (Map<String, Object>)r.get("primaryMetric");
            row.score = number(primary.get("score"));
            row.scoreError = number(primary.get("scoreError"));
            row.unit = (String)primary.get("scoreUnit");
            final Map<String, Object> percentiles = (Map<String, Object>)primary.get("scorePercentiles");
            if (null != percentiles && null != percentiles.get("50.0"))
            {
                row.median = number(percentiles.get("50.0"));
            }
            if ("sample".equals(row.mode) && null != percentiles)
            {
                final String[] keys = {"50.0", "90.0", "99.0", "99.9", "99.99", "100.0"};
                for (final String key : keys)
                {
                    final Object v = percentiles.get(key);
                    if (null != v)
                    {
                        row.percentiles.put(BenchCommand.pct(Double.parseDouble(key)), number(v));
                    }
                }
            }
            final Map<String, Object> secondary = (Map<String, Object>)r.get("secondaryMetrics");
            if (null != secondary)
            {
                for (final Map.Entry<String, Object> e : secondary.entrySet())
                {
                    final String key = e.getKey().replace("\u00b7", "");
                    final double score = number(((Map<String, Object>)e.getValue()).get("score"));
                    if ("gc.alloc.rate.norm".equals(key))
                    {
                        row.allocBytesPerOp = score;
                    }
                    else if (!key.startsWith("gc."))
                    {
                        row.secondary.put(key, score);
                    }
                }
            }
            Classify.classify(row);
            rows.add(row);
        }
        return rows;
    }

    private static double number(final Object o)
    {
        return o instanceof Number ? ((Number)o).doubleValue() : Double.NaN;
    }

    private Object value()
    {
        skip();
        final char c = text.charAt(at);
        if (c == '{')
        {
            at++;
            final Map<String, Object> map = new LinkedHashMap<>();
            skip();
            if (text.charAt(at) == '}')
            {
                at++;
                return map;
            }
            while (true)
            {
                skip();
                final String key = string();
                skip();
                at++; // ':'
                map.put(key, value());
                skip();
                if (text.charAt(at++) == '}')
                {
                    return map;
                }
            }
        }
        if (c == '[')
        {
            at++;
            final List<Object> list = new ArrayList<>();
            skip();
            if (text.charAt(at) == ']')
            {
                at++;
                return list;
            }
            while (true)
            {
                list.add(value());
                skip();
                if (text.charAt(at++) == ']')
                {
                    return list;
                }
            }
        }
        if (c == '"')
        {
            return string();
        }
        final int start = at;
        while (at < text.length() && ",}] \n\r\t".indexOf(text.charAt(at)) < 0)
        {
            at++;
        }
        final String word = text.substring(start, at);
        switch (word)
        {
            case "true": return Boolean.TRUE;
            case "false": return Boolean.FALSE;
            case "null": return null;
            case "NaN": return Double.NaN;
            default: return Double.parseDouble(word);
        }
    }

    private String string()
    {
        final StringBuilder sb = new StringBuilder();
        at++; // opening quote
        while (true)
        {
            final char c = text.charAt(at++);
            if (c == '"')
            {
                return sb.toString();
            }
            if (c == '\\')
            {
                final char e = text.charAt(at++);
                if (e == 'u')
                {
                    sb.append((char)Integer.parseInt(text.substring(at, at + 4), 16));
                    at += 4;
                }
                else
                {
                    sb.append(e == 'n' ? '\n' : e == 't' ? '\t' : e);
                }
            }
            else
            {
                sb.append(c);
            }
        }
    }

    private void skip()
    {
        while (at < text.length() && Character.isWhitespace(text.charAt(at)))
        {
            at++;
        }
    }
}
