package io.tripletflow.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the deployment's logs say: every WARN and ERROR, grouped by logger and message (numbers and
 * ids masked) and counted, and the lines an operator watches during a failover. For the test's
 * output and the operations notes.
 */
final class ClusterLogs {
    /** Flink's layout: {@code date time LEVEL logger [] - message}. */
    private static final Pattern FLINK = Pattern.compile("^\\S+ \\S+ (WARN|ERROR)\\s+(\\S+)\\s+\\[.*?] - (.*)$");
    /** Kafka's layout: {@code [date] LEVEL message (logger)}. */
    private static final Pattern KAFKA = Pattern.compile("^\\[[^]]+] (WARN|ERROR) (.*) \\(([^)]+)\\)$");
    private static final Pattern NUMBERS = Pattern.compile("[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f-]{27}|\\d+");

    private ClusterLogs() {}

    /** "LEVEL logger: message" (masked, cut at 160 characters) to how often it occurs, over {@code logs}. */
    static Map<String, Integer> warningsAndErrors(List<Path> logs) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        for (Path log : logs) {
            for (String line : lines(log)) {
                Matcher f = FLINK.matcher(line);
                Matcher k = KAFKA.matcher(line);
                String entry;
                if (f.matches()) {
                    entry = f.group(1) + " " + shortName(f.group(2)) + ": " + mask(f.group(3));
                } else if (k.matches()) {
                    entry = k.group(1) + " " + shortName(k.group(3)) + ": " + mask(k.group(2));
                } else {
                    continue;
                }
                counts.merge(log.getFileName().toString().replaceAll("-\\d+|-tm-\\d+", "") + " | " + entry, 1,
                        Integer::sum);
            }
        }
        return counts;
    }

    /** Every {@code *.log} under {@code dir}. */
    static List<Path> logsUnder(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
        }
    }

    private static List<String> lines(Path log) throws IOException {
        if (!Files.exists(log)) {
            return List.of();
        }
        return Files.readAllLines(log, StandardCharsets.ISO_8859_1);
    }

    private static String mask(String message) {
        String m = NUMBERS.matcher(message).replaceAll("#");
        return m.length() > 160 ? m.substring(0, 160) + "..." : m;
    }

    private static String shortName(String logger) {
        int dot = logger.lastIndexOf('.');
        return dot < 0 ? logger : logger.substring(dot + 1);
    }
}
