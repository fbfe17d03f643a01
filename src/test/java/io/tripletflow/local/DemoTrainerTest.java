package io.tripletflow.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.MiningOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The demo model: its back-propagation (checked by finite differences), batches and training. */
class DemoTrainerTest {

    /**
     * {@code L(W) = sum_r g_r . u_r(W)} with {@code u = Wx / |Wx|} and fixed {@code g}: its
     * gradient is what {@link DemoTrainer#backward} computes from {@code g = dL/du}. Central
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
            DemoTrainer.forward(w, dim, in, x, rows, z, u);
            float[] analytic = new float[dim * in];
            DemoTrainer.backward(x, z, g, rows, in, dim, analytic);

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
        DemoTrainer.forward(w, dim, in, x, rows, z, u);
        float[] grad = new float[dim * in];
        DemoTrainer.backward(x, z, g, rows, in, dim, grad);
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
        DemoTrainer.forward(w, 2, 3, x, 2, z, u);
        assertThat(z[0]).isEqualTo(-2f);
        assertThat(z[1]).isEqualTo(-2f);
        assertThat((double) (u[0] * u[0] + u[1] * u[1])).isCloseTo(1, within(1e-6));
        assertThat(u[2]).isZero();
        assertThat(u[3]).isZero();
        float[] grad = new float[6];
        DemoTrainer.backward(x, z, new float[] {0, 0, 1, 1}, 2, 3, 2, grad);
        assertThat(grad).as("a zero row contributes nothing").containsOnly(0f);
    }

    @Test
    void batchesAreLabelledAnchorPositivePairsOfUnitEmbeddings() {
        DemoTrainer t = new DemoTrainer(DemoTrainer.Settings.defaults().batchRows(32).streamKey("k"));
        EmbeddingBatch b = t.nextBatch();
        EmbeddingBatch next = t.nextBatch();
        assertThat(b.streamKey()).isEqualTo("k");
        assertThat(next.batchId()).isEqualTo(b.batchId() + 1);
        assertThat(b.rows()).isEqualTo(32);
        assertThat(b.dimension()).isEqualTo(16);
        for (int p = 0; p < 16; p++) {
            assertThat(b.labels()[2 * p]).isEqualTo(b.labels()[2 * p + 1]).isBetween(0, 15);
        }
        for (int r = 0; r < b.rows(); r++) {
            double n = 0;
            for (int k = 0; k < b.dimension(); k++) {
                n += b.embeddings()[r * b.dimension() + k] * b.embeddings()[r * b.dimension() + k];
            }
            assertThat(n).isCloseTo(1, within(1e-5));
        }
    }

    @Test
    void applyTakesEachAnswerOnceAndOnlyForItsOwnBatches() {
        DemoTrainer t = new DemoTrainer(DemoTrainer.Settings.defaults().batchRows(8));
        EmbeddingBatch b = t.nextBatch();
        float[] before = t.weights();
        GradientBatch g = gradient(b, 0.1f);
        assertThat(t.apply(gradient(new EmbeddingBatch("other", b.batchId(), 0, 0, b.rows(), b.dimension(),
                b.labels(), b.embeddings()), 0.1f))).isFalse();
        assertThat(t.apply(g)).isTrue();
        assertThat(t.modelStep()).isEqualTo(1);
        assertThat(t.weights()).isNotEqualTo(before);
        assertThat(t.apply(g)).as("a duplicate").isFalse();
        assertThat(t.modelStep()).isEqualTo(1);
        assertThat(t.nextBatch().modelStep()).isEqualTo(1);
    }

    @Test
    void recallAt1CountsNearestNeighboursOfTheSameLabel() {
        float[] unit = {1, 0, 0.9f, 0.436f, 0, 1, -1, 0};
        assertThat(DemoTrainer.recallAt1(unit, new int[] {0, 0, 1, 1}, 4, 2)).isEqualTo(0.75);
        assertThat(DemoTrainer.recallAt1(unit, new int[] {0, 0, 1, 2}, 4, 2)).isEqualTo(0.5);
        assertThat(DemoTrainer.recallAt1(unit, new int[] {0, 0, 0, 0}, 4, 2)).isEqualTo(1.0);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void trainingThroughTheMiningStepImprovesRecall() {
        DemoTrainer t = new DemoTrainer(DemoTrainer.Settings.defaults().progressInterval(Duration.ofMillis(500)));
        List<DemoTrainer.Progress> progress = new ArrayList<>();
        DemoTrainer.Summary s;
        try (InProcessGradientService service = new InProcessGradientService(MiningOptions.defaults(), 8, 20)) {
            s = t.train(service, Duration.ofSeconds(4), progress::add);
        }
        assertThat(s.answered()).isEqualTo(s.submitted()).isGreaterThan(20);
        assertThat(s.failed()).isZero();
        assertThat(s.unmatchedAnswers()).isZero();
        assertThat(s.modelSteps()).isEqualTo(s.answered());
        assertThat(s.recallBefore()).isLessThan(0.4);
        assertThat(s.recallAfter()).isGreaterThan(s.recallBefore() + 0.4);
        assertThat(s.lastLoss()).isLessThan(s.firstLoss());
        assertThat(progress).isNotEmpty();
        assertThat(progress.get(progress.size() - 1).latencyP50Millis()).isGreaterThanOrEqualTo(20);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void stopEndsAnOpenEndedRun() throws Exception {
        DemoTrainer t = new DemoTrainer(DemoTrainer.Settings.defaults());
        try (InProcessGradientService service = new InProcessGradientService(MiningOptions.defaults(), 2, 50)) {
            CompletableFuture<DemoTrainer.Summary> run = CompletableFuture.supplyAsync(() -> t.train(service, null, null));
            Thread.sleep(500);
            assertThat(run).isNotDone();
            t.stop();
            DemoTrainer.Summary s = run.get(10, TimeUnit.SECONDS);
            assertThat(s.answered()).isPositive();
            assertThat(s.answered() + s.failed()).isLessThanOrEqualTo(s.submitted());
        }
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

    private static GradientBatch gradient(EmbeddingBatch b, float value) {
        float[] g = new float[b.rows() * b.dimension()];
        for (int i = 0; i < g.length; i++) {
            g[i] = (i % 3 == 0 ? value : -value);
        }
        return new GradientBatch(b.streamKey(), b.batchId(), b.modelStep(), b.createdMillis(), 0,
                b.rows(), b.dimension(), 1f, 0, 0, g, null);
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
