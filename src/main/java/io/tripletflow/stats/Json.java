package io.tripletflow.stats;

import java.util.Map;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonProcessingException;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The statistics reports ({@code StreamStatistics.toJson}) as maps, read with the Jackson that
 * Flink ships (shaded, on every class path where Flink is): objects become {@code Map<String,
 * Object>}, arrays {@code List<Object>}, integers {@code Long}, other numbers {@code Double}.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);

    private Json() {}

    /** Parses one JSON value; throws {@link IllegalArgumentException} naming the problem on bad input. */
    public static Object parse(String text) {
        try {
            return MAPPER.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Parses a JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object");
        }
        return (Map<String, Object>) v;
    }

    /** The value at a dotted path ({@code "decayed.loss"}), or null. */
    @SuppressWarnings("unchecked")
    public static Object at(Map<String, Object> object, String path) {
        Object v = object;
        for (String part : path.split("\\.")) {
            if (!(v instanceof Map)) {
                return null;
            }
            v = ((Map<String, Object>) v).get(part);
        }
        return v;
    }

    /** A number at a dotted path as a double; booleans are 0 and 1; NaN when absent or null. */
    public static double number(Map<String, Object> object, String path) {
        Object v = at(object, path);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return Double.NaN;
    }

    /** Writes a string as a JSON string literal. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }
}
