package io.tripletflow.local.demo;

import java.util.Random;

/**
 * The demo's synthetic data set: {@code C} classes in {@code I} input dimensions,
 * {@code x = mean[c] + noise * e + nuisance}, where the nuisance is a strong random vector in a
 * fixed low-rank subspace shared by all classes (think lighting or pose). Raw inputs and random
 * projections are dominated by the nuisance, so nearest neighbours are mostly of another class; a
 * good embedding must learn to ignore that subspace.
 *
 * <pre>{@code
 * ClassConditionedData data = new ClassConditionedData(new Random(7), 16, 32, 8, 6.0, 0.6);
 * float[] x = new float[128 * data.inputDimension()];
 * int[] labels = new int[128];
 * data.samplePairs(new Random(1), 128, x, labels);    // rows 2i and 2i+1 share a class
 * }</pre>
 *
 * <p>Immutable once drawn; sampling is as thread-safe as the {@link Random} passed in.
 */
public final class ClassConditionedData {
    private final int classes;
    private final int inputDimension;
    private final int nuisanceRank;
    private final double nuisanceScale;
    private final double noise;
    /** {@code classes x inputDimension}, row-major. */
    private final float[] means;
    /** {@code nuisanceRank} unit vectors of {@code inputDimension}, row-major. */
    private final float[] nuisance;

    /** Draws the class means, then the nuisance directions, from {@code random}. */
    public ClassConditionedData(Random random, int classes, int inputDimension, int nuisanceRank,
            double nuisanceScale, double noise) {
        this.classes = classes;
        this.inputDimension = inputDimension;
        this.nuisanceRank = nuisanceRank;
        this.nuisanceScale = nuisanceScale;
        this.noise = noise;
        int in = inputDimension;
        means = Gaussian.draw(random, classes * in, 1.0);
        nuisance = Gaussian.draw(random, nuisanceRank * in, 1.0);
        for (int j = 0; j < nuisanceRank; j++) {
            double norm = 0;
            for (int k = 0; k < in; k++) {
                norm += nuisance[j * in + k] * nuisance[j * in + k];
            }
            for (int k = 0; k < in; k++) {
                nuisance[j * in + k] /= (float) Math.sqrt(norm);
            }
        }
    }

    public int classes() {
        return classes;
    }

    public int inputDimension() {
        return inputDimension;
    }

    /** Writes one input of class {@code label} at {@code out[offset ..]}. */
    public void sample(Random random, int label, float[] out, int offset) {
        int in = inputDimension;
        for (int k = 0; k < in; k++) {
            out[offset + k] = (float) (means[label * in + k] + noise * random.nextGaussian());
        }
        for (int j = 0; j < nuisanceRank; j++) {
            double a = nuisanceScale * random.nextGaussian();
            for (int k = 0; k < in; k++) {
                out[offset + k] += (float) (a * nuisance[j * in + k]);
            }
        }
    }

    /**
     * Writes {@code rows / 2} anchor/positive pairs of random classes: rows {@code 2i} and
     * {@code 2i+1} are two samples of one class, their label in {@code labels}.
     */
    public void samplePairs(Random random, int rows, float[] out, int[] labels) {
        for (int p = 0; p < rows / 2; p++) {
            int label = random.nextInt(classes);
            labels[2 * p] = label;
            labels[2 * p + 1] = label;
            sample(random, label, out, 2 * p * inputDimension);
            sample(random, label, out, (2 * p + 1) * inputDimension);
        }
    }
}
