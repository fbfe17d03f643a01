package io.tripletflow.local.demo;

import java.util.Arrays;
import java.util.Random;

/**
 * The demo's model: {@code z = W x} ({@code W} is {@code D x I}), then {@code u = z / |z|}; the
 * embeddings are the unit vectors {@code u}. A gradient {@code g = dL/du} is back-propagated through
 * the normalisation, {@code dL/dz = (I - u u^T) g / |z|}, and the linear map,
 * {@code dL/dW = sum_rows dL/dz x^T}, then {@code W -= learningRate * dL/dW} (one SGD step).
 *
 * <pre>{@code
 * LinearEmbeddingModel model = LinearEmbeddingModel.initial(new Random(7), 16, 32);
 * LinearEmbeddingModel.Embedding e = model.embed(x, rows);      // e.units() are published
 * model.descend(x, e.outputs(), dLossDUnits, rows, 1.0);       // when their answer comes
 * }</pre>
 *
 * <p>Thread-safe: the weights are guarded by a lock, held only to read or update them.
 */
public final class LinearEmbeddingModel {

    /** One forward pass: {@code z} and {@code u} per row, and the step of the weights that made them. */
    public record Embedding(float[] outputs, float[] units, long step) {}

    private final int dimension;
    private final int inputDimension;
    private final Object lock = new Object();
    private final float[] weights;
    private long step;

    private LinearEmbeddingModel(int dimension, int inputDimension, float[] weights) {
        this.dimension = dimension;
        this.inputDimension = inputDimension;
        this.weights = weights;
    }

    /** {@code W ~ N(0, 1/I)} drawn from {@code random}: {@code |z|} is about {@code |x|} at the start. */
    public static LinearEmbeddingModel initial(Random random, int dimension, int inputDimension) {
        return new LinearEmbeddingModel(dimension, inputDimension,
                Gaussian.draw(random, dimension * inputDimension, 1.0 / Math.sqrt(inputDimension)));
    }

    public int dimension() {
        return dimension;
    }

    public int inputDimension() {
        return inputDimension;
    }

    /** A copy of {@code W} ({@code dimension x inputDimension}, row-major). */
    public float[] weights() {
        synchronized (lock) {
            return weights.clone();
        }
    }

    /** Parameter updates applied so far. */
    public long step() {
        synchronized (lock) {
            return step;
        }
    }

    /** Embeds {@code rows} inputs with the current weights. */
    public Embedding embed(float[] x, int rows) {
        float[] z = new float[rows * dimension];
        float[] u = new float[rows * dimension];
        synchronized (lock) {
            forward(weights, dimension, inputDimension, x, rows, z, u);
            return new Embedding(z, u, step);
        }
    }

    /**
     * One SGD step on {@code g = dL/du} of {@code rows} inputs {@code x} whose outputs were
     * {@code z} (possibly under older weights: delayed SGD).
     */
    public void descend(float[] x, float[] z, float[] gradU, int rows, double learningRate) {
        float[] gradW = new float[dimension * inputDimension];
        backward(x, z, gradU, rows, inputDimension, dimension, gradW);
        float lr = (float) learningRate;
        synchronized (lock) {
            for (int i = 0; i < gradW.length; i++) {
                weights[i] -= lr * gradW[i];
            }
            step++;
        }
    }

    /**
     * {@code z = W x} and {@code u = z / |z|} for {@code rows} inputs ({@code W} is {@code dim x in},
     * all row-major). A zero {@code z} gives {@code u = 0}.
     */
    public static void forward(float[] w, int dim, int in, float[] x, int rows, float[] z, float[] u) {
        for (int r = 0; r < rows; r++) {
            double norm2 = 0;
            for (int o = 0; o < dim; o++) {
                double s = 0;
                for (int k = 0; k < in; k++) {
                    s += (double) w[o * in + k] * x[r * in + k];
                }
                z[r * dim + o] = (float) s;
                norm2 += s * s;
            }
            double inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
            for (int o = 0; o < dim; o++) {
                u[r * dim + o] = (float) (z[r * dim + o] * inv);
            }
        }
    }

    /**
     * {@code dL/dW} given {@code g = dL/du} for every row, where {@code u = z / |z|} and
     * {@code z = W x}: {@code dL/dz = (g - (g . u) u) / |z|}, {@code dL/dW = sum_rows dL/dz x^T}.
     * Writes {@code gradW} ({@code dim x in}); rows with {@code z = 0} contribute nothing.
     */
    public static void backward(float[] x, float[] z, float[] gradU, int rows, int in, int dim, float[] gradW) {
        Arrays.fill(gradW, 0, dim * in, 0f);
        double[] dz = new double[dim];
        for (int r = 0; r < rows; r++) {
            double norm2 = 0;
            for (int o = 0; o < dim; o++) {
                double v = z[r * dim + o];
                norm2 += v * v;
            }
            if (norm2 == 0) {
                continue;
            }
            double norm = Math.sqrt(norm2);
            double gu = 0;
            for (int o = 0; o < dim; o++) {
                gu += (double) gradU[r * dim + o] * (z[r * dim + o] / norm);
            }
            for (int o = 0; o < dim; o++) {
                dz[o] = (gradU[r * dim + o] - gu * (z[r * dim + o] / norm)) / norm;
            }
            for (int o = 0; o < dim; o++) {
                double d = dz[o];
                if (d == 0) {
                    continue;
                }
                for (int k = 0; k < in; k++) {
                    gradW[o * in + k] += (float) (d * x[r * in + k]);
                }
            }
        }
    }
}
