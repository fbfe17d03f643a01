package io.tripletflow.engine.memory;

/**
 * The rows of a stream's cross-batch memory that one batch is mined against, oldest first:
 * candidate negatives (and, if asked, positives) beside the batch's own rows, constants for the
 * gradient. Column {@code N + m} of the mining step is memory row {@code m}.
 */
public final class MemoryRows {
    private static final MemoryRows NONE = new MemoryRows();

    int count;
    int dimension;
    float[] embeddings = new float[0];
    int[] labels = new int[0];
    long[] ages = new long[0];

    /** No memory: the batch is mined on its own. */
    public static MemoryRows none() {
        return NONE;
    }

    public int count() { return count; }
    public int dimension() { return dimension; }
    /** Row {@code m} at {@code [m * dimension, (m + 1) * dimension)}; only {@code count} rows belong to the view. */
    public float[] embeddings() { return embeddings; }
    public int label(int m) { return labels[m]; }
    /** The batch's model step minus the step of the batch that wrote row {@code m}. */
    public long age(int m) { return ages[m]; }

    void ensure(int rows, int d) {
        if (labels.length < rows) {
            labels = new int[rows];
            ages = new long[rows];
        }
        if (embeddings.length < (long) rows * d) {
            embeddings = new float[Math.toIntExact((long) rows * d)];
        }
    }
}
