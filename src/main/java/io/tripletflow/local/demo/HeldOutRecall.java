package io.tripletflow.local.demo;

import java.util.Random;

/**
 * The demo's evaluation: recall@1 on a fixed held-out set, {@code perClass} samples of every
 * class. A sample is a hit when its nearest other held-out sample by cosine similarity has its
 * class.
 *
 * <pre>{@code
 * HeldOutRecall heldOut = new HeldOutRecall(data, 32, new Random(11));
 * double before = heldOut.recallAt1(model);
 * }</pre>
 */
public final class HeldOutRecall {
    private final int inputDimension;
    private final float[] inputs;
    private final int[] labels;

    /** Draws the held-out set from {@code data} with {@code random}, classes in turn. */
    public HeldOutRecall(ClassConditionedData data, int perClass, Random random) {
        this.inputDimension = data.inputDimension();
        int rows = data.classes() * perClass;
        inputs = new float[rows * inputDimension];
        labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = r % data.classes();
            data.sample(random, labels[r], inputs, r * inputDimension);
        }
    }

    /** Recall@1 of the model's current weights (a copy: training goes on meanwhile). */
    public double recallAt1(LinearEmbeddingModel model) {
        int rows = labels.length;
        int dim = model.dimension();
        float[] z = new float[rows * dim];
        float[] u = new float[rows * dim];
        LinearEmbeddingModel.forward(model.weights(), dim, inputDimension, inputs, rows, z, u);
        return recallAt1(u, labels, rows, dim);
    }

    /**
     * Recall@1 of unit-length embeddings: the share of rows whose nearest other row (largest dot
     * product, i.e. cosine similarity) has the same label.
     */
    public static double recallAt1(float[] unit, int[] labels, int rows, int dim) {
        if (rows < 2) {
            return 0;
        }
        int hits = 0;
        for (int i = 0; i < rows; i++) {
            double best = Double.NEGATIVE_INFINITY;
            int nearest = -1;
            for (int j = 0; j < rows; j++) {
                if (j == i) {
                    continue;
                }
                double s = 0;
                for (int k = 0; k < dim; k++) {
                    s += unit[i * dim + k] * unit[j * dim + k];
                }
                if (s > best) {
                    best = s;
                    nearest = j;
                }
            }
            if (labels[nearest] == labels[i]) {
                hits++;
            }
        }
        return (double) hits / rows;
    }
}
