package io.tripletflow.deploy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Samples of the Prometheus text exposition format (what a scrape or a Pushgateway push carries),
 * and the metric and label names that PromQL expressions use, for checking dashboards and alert
 * rules against what the job really exposes.
 */
final class PrometheusText {
    /** One sample line: {@code name{label="value",...} value}. */
    record Sample(String name, Map<String, String> labels, double value) {}

    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)\\}");
    private static final Pattern MATCHER_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!=|!~|=)");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
    private static final Pattern RANGE = Pattern.compile("\\[[^\\]]*\\]");

    private PrometheusText() {}

    static List<Sample> parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name;
            Map<String, String> labels = new TreeMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                int close = line.lastIndexOf('}');
                Matcher m = LABEL.matcher(line.substring(brace + 1, close));
                while (m.find()) {
                    labels.put(m.group(1), m.group(2));
                }
                space = line.indexOf(' ', close);
            } else {
                name = line.substring(0, line.indexOf(' '));
                space = line.indexOf(' ');
            }
            String[] rest = line.substring(space + 1).strip().split("\\s+");
            samples.add(new Sample(name, labels, parseValue(rest[0])));
        }
        return samples;
    }

    private static double parseValue(String v) {
        switch (v) {
            case "+Inf": return Double.POSITIVE_INFINITY;
            case "-Inf": return Double.NEGATIVE_INFINITY;
            case "NaN": return Double.NaN;
            default: return Double.parseDouble(v);
        }
    }

    /** Label names seen per metric name. */
    static Map<String, Set<String>> labelsByMetric(Collection<Sample> samples) {
        Map<String, Set<String>> out = new TreeMap<>();
        for (Sample s : samples) {
            out.computeIfAbsent(s.name(), k -> new LinkedHashSet<>()).addAll(s.labels().keySet());
        }
        return out;
    }

    /** Metric names in a PromQL expression: identifiers with one of the prefixes. */
    static Set<String> metricNames(String expr, String... prefixes) {
        String code = STRING.matcher(expr).replaceAll("\"\"");
        code = RANGE.matcher(code).replaceAll("");
        Set<String> names = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(code);
        while (m.find()) {
            for (String p : prefixes) {
                if (m.group().startsWith(p)) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    /** For each metric in a selector {@code name{...}}, the label names its matchers use. */
    static Map<String, Set<String>> selectorLabels(String expr) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        Matcher m = SELECTOR.matcher(expr);
        while (m.find()) {
            Set<String> labels = out.computeIfAbsent(m.group(1), k -> new LinkedHashSet<>());
            String body = STRING.matcher(m.group(2)).replaceAll("\"\"");
            Matcher l = MATCHER_LABEL.matcher(body);
            while (l.find()) {
                labels.add(l.group(1));
            }
        }
        return out;
    }

    /** Label names in {@code by (...)}, {@code without (...)}, {@code on (...)} ... clauses. */
    static Set<String> groupingLabels(String expr) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = GROUPING.matcher(expr);
        while (m.find()) {
            for (String l : m.group(1).split(",")) {
                if (!l.isBlank()) {
                    out.add(l.strip());
                }
            }
        }
        return out;
    }
}
