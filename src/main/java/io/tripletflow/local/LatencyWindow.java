package io.tripletflow.local;

import java.util.Arrays;

/** The latest {@code capacity} latencies, for percentiles. Not thread-safe. */
final class LatencyWindow {
    private final long[] values;
    private int size;
    private int next;

    LatencyWindow(int capacity) {
        values = new long[capacity];
    }

    void add(long v) {
        values[next] = v;
        next = (next + 1) % values.length;
        size = Math.min(size + 1, values.length);
    }

    void clear() {
        size = 0;
        next = 0;
    }

    /** Nearest-rank percentile; -1 when empty. */
    long percentile(double q) {
        if (size == 0) {
            return -1;
        }
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * size) - 1;
        return sorted[Math.max(0, Math.min(size - 1, rank))];
    }
}
