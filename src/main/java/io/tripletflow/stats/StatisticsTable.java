package io.tripletflow.stats;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders per-stream-key statistics (the statistics topic's JSON objects) as a table or a JSON document. */
public final class StatisticsTable {
    /** Column headers of {@link #table}. */
    public static final List<String> HEADERS = List.of(
            "STREAM KEY", "BATCHES", "ROWS", "TRIPLETS", "NONZERO", "LOSS", "MEAN LOSS", "HARD",
            "LATENCY MS", "STALENESS", "STALE", "DEAD", "ALL EASY", "LAST BATCH (UTC)", "TOP LABEL PAIR");

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

    private StatisticsTable() {}

    /** {@code {"savepoint": PATH, "operator_uid": UID, "streams": [...]}}, one stream per line. */
    public static String json(String path, String uid, List<Map<String, Object>> streams) {
        StringBuilder b = new StringBuilder();
        b.append("{\"savepoint\":").append(Json.quote(path))
                .append(",\"operator_uid\":").append(Json.quote(uid))
                .append(",\"streams\":[");
        for (int i = 0; i < streams.size(); i++) {
            b.append(i == 0 ? "\n  " : ",\n  ").append(write(streams.get(i)));
        }
        return b.append(streams.isEmpty() ? "]}" : "\n]}").toString();
    }

    /**
     * A fixed-width table, one line per stream key: cumulative counts, the share of non-zero hinge
     * terms so far, the decayed loss, hard share, latency and staleness, and the collapse flag.
     */
    public static String table(List<Map<String, Object>> streams) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(HEADERS);
        for (Map<String, Object> s : streams) {
            double terms = Json.number(s, "terms");
            double nonZero = Json.number(s, "nonzero_hinge_terms");
            rows.add(List.of(
                    String.valueOf(s.get("stream_key")),
                    integer(s, "batches"),
                    integer(s, "rows"),
                    integer(s, "triplets"),
                    terms > 0 ? percent(nonZero / terms) : "-",
                    decimal(Json.number(s, "decayed.loss")),
                    decimal(Json.number(s, "mean_loss")),
                    percent(Json.number(s, "decayed.hard_share")),
                    String.format(Locale.ROOT, "%.0f", Json.number(s, "decayed.latency_ms")),
                    String.format(Locale.ROOT, "%.1f", Json.number(s, "decayed.staleness")),
                    integer(s, "stale_batches"),
                    integer(s, "dead_letters"),
                    Boolean.TRUE.equals(s.get("all_easy")) ? "YES" : "no",
                    time(Json.number(s, "last_batch_ms")),
                    topPair(s)));
        }
        int[] widths = new int[HEADERS.size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                boolean left = i == 0 || i >= row.size() - 2;
                String pad = " ".repeat(widths[i] - cell.length());
                b.append(i == 0 ? "" : "  ").append(left ? cell + (i == row.size() - 1 ? "" : pad) : pad + cell);
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String integer(Map<String, Object> s, String path) {
        double v = Json.number(s, path);
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%d", (long) v);
    }

    private static String decimal(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    private static String time(double millis) {
        return Double.isNaN(millis) || millis <= 0 ? "-" : TIME.format(Instant.ofEpochMilli((long) millis));
    }

    @SuppressWarnings("unchecked")
    private static String topPair(Map<String, Object> s) {
        Object pairs = s.get("hardest_label_pairs");
        if (pairs instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
            Map<String, Object> p = (Map<String, Object>) first;
            return p.get("pair") + " (" + p.get("count") + ")";
        }
        return "-";
    }

    /** Writes a parsed JSON value back as JSON (numbers as parsed). */
    @SuppressWarnings("unchecked")
    static String write(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            return Json.quote(s);
        }
        if (v instanceof Double d) {
            return Double.isFinite(d) ? (d == Math.rint(d) && Math.abs(d) < 1e15
                    ? String.format(Locale.ROOT, "%.1f", d) : Double.toString(d)) : "null";
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        StringBuilder b = new StringBuilder();
        if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                b.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':').append(write(e.getValue()));
                first = false;
            }
            return b.append('}').toString();
        }
        if (v instanceof List<?> list) {
            b.append('[');
            for (int i = 0; i < list.size(); i++) {
                b.append(i == 0 ? "" : ",").append(write(list.get(i)));
            }
            return b.append(']').toString();
        }
        throw new IllegalArgumentException("not a JSON value: " + v.getClass());
    }
}
