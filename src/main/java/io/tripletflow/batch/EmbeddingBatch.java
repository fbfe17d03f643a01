package io.tripletflow.batch;

import java.util.Objects;

/**
 * One mini-batch a trainer publishes: {@code n} embeddings of dimension {@code d} (row-major
 * float32) and their integer labels, identified by stream key and batch id.
 *
 * <p>The arrays are shared, not copied: whoever builds a batch hands them over.
 */
public final class EmbeddingBatch {
    private final String streamKey;
    private final long batchId;
    private final long modelStep;
    private final long createdMillis;
    private final int rows;
    private final int dimension;
    private final int[] labels;
    private final float[] embeddings;

    public EmbeddingBatch(
            String streamKey,
            long batchId,
            long modelStep,
            long createdMillis,
            int rows,
            int dimension,
            int[] labels,
            float[] embeddings) {
        this.streamKey = Objects.requireNonNull(streamKey, "streamKey");
        this.batchId = batchId;
        this.modelStep = modelStep;
        this.createdMillis = createdMillis;
        this.rows = rows;
        this.dimension = dimension;
        this.labels = Objects.requireNonNull(labels, "labels");
        this.embeddings = Objects.requireNonNull(embeddings, "embeddings");
        if (rows < 0 || dimension < 0) {
            throw new IllegalArgumentException("rows and dimension must be >= 0, got N=" + rows + " D=" + dimension);
        }
        if (labels.length != rows || (long) embeddings.length != (long) rows * dimension) {
            throw new IllegalArgumentException("arrays do not match N=" + rows + " D=" + dimension
                    + ": " + labels.length + " labels, " + embeddings.length + " floats");
        }
    }

    public String streamKey() { return streamKey; }
    public long batchId() { return batchId; }
    public long modelStep() { return modelStep; }
    public long createdMillis() { return createdMillis; }
    public int rows() { return rows; }
    public int dimension() { return dimension; }
    public int[] labels() { return labels; }
    public float[] embeddings() { return embeddings; }

    /** A short name for messages: stream key and batch id. */
    public String describe() {
        return "batch " + batchId + " of stream '" + streamKey + "'";
    }
}
