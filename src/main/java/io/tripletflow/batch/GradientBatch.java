package io.tripletflow.batch;

import java.util.Objects;

/**
 * The answer to one {@link EmbeddingBatch}: d loss / d embeddings, the loss, counts, and optionally
 * the selection mask ({@code mask[i][j]} as bit {@code (i*N+j) % 8} of byte {@code (i*N+j) / 8}).
 */
public final class GradientBatch {
    private final String streamKey;
    private final long batchId;
    private final long modelStep;
    private final long createdMillis;
    private final long computedMillis;
    private final int rows;
    private final int dimension;
    private final float loss;
    private final int selectedTriplets;
    private final int nonZeroHinges;
    private final float[] gradients;
    private final byte[] mask;

    public GradientBatch(
            String streamKey,
            long batchId,
            long modelStep,
            long createdMillis,
            long computedMillis,
            int rows,
            int dimension,
            float loss,
            int selectedTriplets,
            int nonZeroHinges,
            float[] gradients,
            byte[] mask) {
        this.streamKey = Objects.requireNonNull(streamKey, "streamKey");
        this.batchId = batchId;
        this.modelStep = modelStep;
        this.createdMillis = createdMillis;
        this.computedMillis = computedMillis;
        this.rows = rows;
        this.dimension = dimension;
        this.loss = loss;
        this.selectedTriplets = selectedTriplets;
        this.nonZeroHinges = nonZeroHinges;
        this.gradients = Objects.requireNonNull(gradients, "gradients");
        this.mask = mask;
        if ((long) gradients.length != (long) rows * dimension) {
            throw new IllegalArgumentException("gradients do not match N=" + rows + " D=" + dimension);
        }
        if (mask != null && mask.length != maskBytes(rows)) {
            throw new IllegalArgumentException("mask of N=" + rows + " needs " + maskBytes(rows) + " bytes, got " + mask.length);
        }
    }

    /** Bytes of a packed N x N bit mask. */
    public static long maskBytesLong(long rows) {
        return (rows * rows + 7) / 8;
    }

    public static int maskBytes(int rows) {
        return Math.toIntExact(maskBytesLong(rows));
    }

    public String streamKey() { return streamKey; }
    public long batchId() { return batchId; }
    public long modelStep() { return modelStep; }
    public long createdMillis() { return createdMillis; }
    public long computedMillis() { return computedMillis; }
    public int rows() { return rows; }
    public int dimension() { return dimension; }
    public float loss() { return loss; }
    public int selectedTriplets() { return selectedTriplets; }
    public int nonZeroHinges() { return nonZeroHinges; }
    public float[] gradients() { return gradients; }
    /** The packed selection mask, or null when the batch carries none. */
    public byte[] mask() { return mask; }
    public boolean hasMask() { return mask != null; }

    public boolean maskBit(int anchor, int negative) {
        long bit = (long) anchor * rows + negative;
        return (mask[(int) (bit >>> 3)] >> (int) (bit & 7) & 1) != 0;
    }
}
