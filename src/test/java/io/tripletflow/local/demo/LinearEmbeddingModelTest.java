package io.tripletflow.local.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The demo model's forward pass and its back-propagation, checked by finite differences. */
class LinearEmbeddingModelTest {

    /**
     * {@code L(W) = sum_r g_r . u_r(W)} with {@code u = Wx / |Wx|} and fixed {@code g}: its
     * gradient is what {@link LinearEmbeddingModel#backward} computes from {@code g = dL/du}. Central
     * differences in double precision, with a forward pass written independently here.
     */
    @Test
    void backwardThroughNormalisationAndLinearMapMatchesFiniteDifferences() {
        Random random = new Random(3);
        for (int trial = 0; trial < 5; trial++) {
            int in = 3 + random.nextInt(6);
            int dim = 2 + random.nextInt(5);
            int rows = 1 + random.nextInt(5);
            float[] w = gaussian(random, dim * in, 1);
            float[] x = gaussian(random, rows * in, 2);
            float[] g = gaussian(random, rows * dim, 1);
            float[] z = new float[rows * dim];
            float[] u = new float[rows * dim];
            LinearEmbeddingModel.forward(w, dim, in, x, rows, z, u);
            float[] analytic = new float[dim * in];
            LinearEmbeddingModel.backward(x, z, g, rows, in, dim, analytic);

            double h = 1e-5;
            for (int i = 0; i < w.length; i++) {
                double[] plus = toDouble(w);
                double[] minus = toDouble(w);
                plus[i] += h;
                minus[i] -= h;
                double numeric = (objective(plus, x, g, rows, in, dim) - objective(minus, x, g, rows, in, dim)) / (2 * h);
                assertThat((double) analytic[i]).as("trial %d, dL/dW[%d]", trial, i)
                        .isCloseTo(numeric, within(1e-4 + 1e-3 * Math.abs(numeric)));
            }
        }
    }

    /** The normalisation's Jacobian is orthogonal to z, so the step cannot change |W| to first order. */
    @Test
    void gradientIsOrthogonalToTheWeights() {
        Random random = new Random(5);
        int in = 7;
        int dim = 4;
        int rows = 6;
        float[] w = gaussian(random, dim * in, 1);
        float[] x = gaussian(random, rows * in, 1);
        float[] g = gaussian(random, rows * dim, 1);
        float[] z = new float[rows * dim];
        float[] u = new float[rows * dim];
        LinearEmbeddingModel.forward(w, dim, in, x, rows, z, u);
        float[] grad = new float[dim * in];
        LinearEmbeddingModel.backward(x, z, g, rows, in, dim, grad);
        double dot = 0;
        double norm = 0;
        for (int i = 0; i < w.length; i++) {
            dot += (double) w[i] * grad[i];
            norm += (double) grad[i] * grad[i];
        }
        assertThat(norm).isPositive();
        assertThat(dot).isCloseTo(0, within(1e-4));
    }

    @Test
    void forwardGivesUnitRowsAndZeroForAZeroInput() {
        float[] w = {1, 2, 3, 4, 5, 6};        // 2 x 3
        float[] x = {1, 0, -1, 0, 0, 0};       // the second input is zero
        float[] z = new float[4];
        float[] u = new float[4];
        LinearEmbeddingModel.forward(w, 2, 3, x, 2, z, u);
        assertThat(z[0]).isEqualTo(-2f);
        assertThat(z[1]).isEqualTo(-2f);
        assertThat((double) (u[0] * u[0] + u[1] * u[1])).isCloseTo(1, within(1e-6));
        assertThat(u[2]).isZero();
        assertThat(u[3]).isZero();
        float[] grad = new float[6];
        LinearEmbeddingModel.backward(x, z, new float[] {0, 0, 1, 1}, 2, 3, 2, grad);
        assertThat(grad).as("a zero row contributes nothing").containsOnly(0f);
    }

    // ---------------------------------------------------------------------------------------

    private static double objective(double[] w, float[] x, float[] g, int rows, int in, int dim) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            double[] z = new double[dim];
            double norm2 = 0;
            for (int o = 0; o < dim; o++) {
                for (int k = 0; k < in; k++) {
                    z[o] += w[o * in + k] * x[r * in + k];
                }
                norm2 += z[o] * z[o];
            }
            double norm = Math.sqrt(norm2);
            for (int o = 0; o < dim; o++) {
                sum += g[r * dim + o] * z[o] / norm;
            }
        }
        return sum;
    }

    private static float[] gaussian(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * r.nextGaussian());
        }
        return v;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
