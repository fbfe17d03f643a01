package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import java.util.Arrays;

/**
 * The answer to one batch, in buffers the backend reuses: loss, gradients ({@code rows x
 * dimension}, row-major), the packed selection mask, and the batch's {@link MiningStatistics}.
 */
public final class MiningResult {
    private int rows;
    private int dimension;
    private float loss;
    private int selectedTriplets;
    private int nonZeroHinges;
    private int terms;
    private float[] gradients = new float[0];
    private byte[] mask = new byte[0];
    private final MiningStatistics statistics = new MiningStatistics();

    /** Sizes the buffers for a batch and clears gradients and mask. */
    public void reset(int rows, int dimension) {
        this.rows = rows;
        this.dimension = dimension;
        int values = Math.multiplyExact(rows, dimension);
        if (gradients.length < values) {
            gradients = new float[values];
        } else {
            Arrays.fill(gradients, 0, values, 0f);
        }
        int maskBytes = GradientBatch.maskBytes(rows);
        if (mask.length < maskBytes) {
            mask = new byte[maskBytes];
        } else {
            Arrays.fill(mask, 0, maskBytes, (byte) 0);
        }
        loss = 0f;
        selectedTriplets = 0;
        nonZeroHinges = 0;
        terms = 0;
        statistics.reset();
    }

    public void setLoss(float loss) {
        this.loss = loss;
    }

    public void setCounts(int selectedTriplets, int terms, int nonZeroHinges) {
        this.selectedTriplets = selectedTriplets;
        this.terms = terms;
        this.nonZeroHinges = nonZeroHinges;
    }

    public void markSelected(int anchor, int negative) {
        long bit = (long) anchor * rows + negative;
        mask[(int) (bit >>> 3)] |= (byte) (1 << (int) (bit & 7));
    }

    public boolean isSelected(int anchor, int negative) {
        long bit = (long) anchor * rows + negative;
        return (mask[(int) (bit >>> 3)] >> (int) (bit & 7) & 1) != 0;
    }

    public int rows() { return rows; }
    public int dimension() { return dimension; }
    public float loss() { return loss; }
    public int selectedTriplets() { return selectedTriplets; }
    public int nonZeroHinges() { return nonZeroHinges; }
    /** Loss terms evaluated (two per triplet for the double hinge). */
    public int terms() { return terms; }
    /** The gradient buffer; only the first {@code rows * dimension} values belong to this batch. */
    public float[] gradients() { return gradients; }
    /** The mask buffer; only the first {@code GradientBatch.maskBytes(rows)} bytes belong to this batch. */
    public byte[] mask() { return mask; }
    public MiningStatistics statistics() { return statistics; }

    /** Copies this result into the record answering {@code batch}. */
    public GradientBatch toGradientBatch(EmbeddingBatch batch, long computedMillis, boolean withMask) {
        return new GradientBatch(batch.streamKey(), batch.batchId(), batch.modelStep(), batch.createdMillis(),
                computedMillis, rows, dimension, loss, selectedTriplets, nonZeroHinges,
                Arrays.copyOf(gradients, rows * dimension),
                withMask ? Arrays.copyOf(mask, GradientBatch.maskBytes(rows)) : null);
    }
}
