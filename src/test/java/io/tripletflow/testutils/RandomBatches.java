package io.tripletflow.testutils;

import io.tripletflow.batch.EmbeddingBatch;
import java.util.Random;

/**
 * Random mining batches from a fixed seed, for the engine's parity, gradient and determinism tests.
 *
 * <p>Three kinds of embeddings:
 * <ul>
 *   <li><b>dyadic</b>: every coordinate is {@code k / 16} with a small integer {@code k}. With a small
 *       dimension every product, dot product, squared distance and hinge is a dyadic rational with few
 *       significant bits, so float32 computes it exactly in any summation order: masks must then match
 *       exactly, and loss and gradients up to the final division. Rows may coincide and distances tie
 *       often, which exercises the index tie-break.</li>
 *   <li><b>unit</b>: Gaussian rows normalised to length 1 (what a trainer sends), for tolerance checks.</li>
 *   <li><b>generic</b>: random directions with random, non-unit lengths (finite-difference checks).</li>
 * </ul>
 * Labels come in groups: the rows of a group share a label (so row {@code 2i} and {@code 2i + 1} with
 * groups of 2), and with a given probability a group's second row gets another label (a mismatched positive).
 */
public final class RandomBatches {
    /** Margins that keep every hinge exact on dyadic inputs. */
    public static final float[] DYADIC_MARGINS = {0.25f, 0.5f, 1f, 2f};
    /** The denominator of dyadic coordinates. */
    public static final int DYADIC_DENOMINATOR = 16;

    private static final String[] STREAM_KEYS = {"a", "trainer-7", "model/β", "", "k"};

    private final Random random;

    public RandomBatches(long seed) {
        this.random = new Random(seed);
    }

    public Random random() {
        return random;
    }

    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    public long nextLong() {
        return random.nextLong();
    }

    public boolean chance(double probability) {
        return random.nextDouble() < probability;
    }

    public int pickInt(int... values) {
        return values[random.nextInt(values.length)];
    }

    public float pickFloat(float... values) {
        return values[random.nextInt(values.length)];
    }

    @SafeVarargs
    public final <T> T pick(T... values) {
        return values[random.nextInt(values.length)];
    }

    public float dyadicMargin() {
        return pickFloat(DYADIC_MARGINS);
    }

    /** {@code n x d} coordinates {@code k / 16} with {@code k} uniform in {@code [-16, 16]}. */
    public float[] dyadicEmbeddings(int n, int d) {
        return dyadicEmbeddings(n, d, DYADIC_DENOMINATOR);
    }

    /** {@code n x d} coordinates {@code k / 16} with {@code k} uniform in {@code [-maxNumerator, maxNumerator]}. */
    public float[] dyadicEmbeddings(int n, int d, int maxNumerator) {
        float[] f = new float[n * d];
        for (int i = 0; i < f.length; i++) {
            f[i] = (random.nextInt(2 * maxNumerator + 1) - maxNumerator) / (float) DYADIC_DENOMINATOR;
        }
        return f;
    }

    /** Gaussian rows normalised to unit length (in double, then rounded to float). */
    public float[] unitEmbeddings(int n, int d) {
        return scaledRows(n, d, 1.0, 1.0);
    }

    /** Random directions with lengths uniform in {@code [minNorm, maxNorm]}: generic, non-unit rows. */
    public float[] genericEmbeddings(int n, int d, double minNorm, double maxNorm) {
        return scaledRows(n, d, minNorm, maxNorm);
    }

    private float[] scaledRows(int n, int d, double minNorm, double maxNorm) {
        float[] f = new float[n * d];
        double[] row = new double[d];
        for (int i = 0; i < n; i++) {
            double squares = 0;
            do {
                squares = 0;
                for (int k = 0; k < d; k++) {
                    row[k] = random.nextGaussian();
                    squares += row[k] * row[k];
                }
            } while (squares < 1e-12);
            double length = minNorm + (maxNorm - minNorm) * random.nextDouble();
            double scale = length / Math.sqrt(squares);
            for (int k = 0; k < d; k++) {
                f[i * d + k] = (float) (row[k] * scale);
            }
        }
        return f;
    }

    /**
     * Labels in groups of {@code groupSize} rows drawn from {@code classes} classes; with probability
     * {@code mismatch} the second row of a group gets a label different from the first row's.
     */
    public int[] groupedLabels(int n, int groupSize, int classes, double mismatch) {
        int[] labels = new int[n];
        for (int start = 0; start < n; start += groupSize) {
            int label = random.nextInt(classes);
            for (int i = start; i < Math.min(n, start + groupSize); i++) {
                labels[i] = label;
            }
            if (start + 1 < n && groupSize >= 2 && random.nextDouble() < mismatch) {
                labels[start + 1] = (label + 1 + random.nextInt(Math.max(1, classes - 1))) % Math.max(2, classes);
            }
        }
        return labels;
    }

    /** Labels in pairs: rows {@code 2i} and {@code 2i + 1} share a label unless mismatched. */
    public int[] pairedLabels(int n, int classes, double mismatch) {
        return groupedLabels(n, 2, classes, mismatch);
    }

    /** A batch with a random stream key and batch id. */
    public EmbeddingBatch batch(int[] labels, float[] embeddings, int d) {
        return batch(pick(STREAM_KEYS), random.nextInt(1000) == 0 ? -1 : random.nextLong(), labels, embeddings, d);
    }

    public static EmbeddingBatch batch(String streamKey, long batchId, int[] labels, float[] embeddings, int d) {
        return new EmbeddingBatch(streamKey, batchId, 0L, 0L, labels.length, d, labels, embeddings);
    }

    /** The same batch (identity and labels) with other embeddings. */
    public static EmbeddingBatch withEmbeddings(EmbeddingBatch b, float[] embeddings) {
        return new EmbeddingBatch(b.streamKey(), b.batchId(), b.modelStep(), b.createdMillis(), b.rows(),
                b.dimension(), b.labels().clone(), embeddings);
    }

    /** The same content under another identity. */
    public static EmbeddingBatch withIdentity(EmbeddingBatch b, String streamKey, long batchId) {
        return new EmbeddingBatch(streamKey, batchId, b.modelStep(), b.createdMillis(), b.rows(), b.dimension(),
                b.labels().clone(), b.embeddings().clone());
    }

    /** The same batch at another model step. */
    public static EmbeddingBatch withStep(EmbeddingBatch b, long modelStep) {
        return new EmbeddingBatch(b.streamKey(), b.batchId(), modelStep, b.createdMillis(), b.rows(), b.dimension(),
                b.labels(), b.embeddings());
    }
}
