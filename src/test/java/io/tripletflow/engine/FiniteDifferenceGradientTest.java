package io.tripletflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.MiningOptions.LabelMismatchPolicy;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.RandomBatches;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backend's gradients against central finite differences, for every distance x loss x reduction with
 * two miners (rank-hard with pair positives, batch-all with all positives), and semi-hard and batch-hard
 * for every distance. Two independent checks:
 *
 * <ol>
 *   <li>of the backend's own float loss: one float coordinate moved by {@code ±h}, the batch mined again;
 *       a coordinate counts only when the selection and the sign of every term stay the same at both ends
 *       (no hinge kink, no re-selection, same divisor); tolerance for float32;</li>
 *   <li>of the loss of the same (fixed) selection evaluated in double precision in this test, straight from
 *       the definitions in {@code docs/mining.md}: a much tighter tolerance.</li>
 * </ol>
 * Generic (non-unit) rows with matching pair labels: no {@code dis[p][p]} quirk term, whose value is
 * constant by definition and whose seed gradient is therefore deliberately not a derivative.
 */
class FiniteDifferenceGradientTest {
    static final int N = 12;
    static final int D = 5;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (LossKind loss : LossKind.values()) {
                for (ReductionKind reduction : ReductionKind.values()) {
                    out.add(Arguments.of(distance, MinerKind.RANK_HARD, PositivesKind.PAIRS, loss, reduction));
                    out.add(Arguments.of(distance, MinerKind.BATCH_ALL, PositivesKind.ALL, loss, reduction));
                }
            }
            out.add(Arguments.of(distance, MinerKind.SEMI_HARD, PositivesKind.PAIRS, LossKind.SOFT, ReductionKind.MEAN));
            out.add(Arguments.of(distance, MinerKind.SEMI_HARD, PositivesKind.ALL, LossKind.HINGE, ReductionKind.SEED));
            out.add(Arguments.of(distance, MinerKind.BATCH_HARD, PositivesKind.ALL, LossKind.SOFT, ReductionKind.MEAN_NONZERO));
            out.add(Arguments.of(distance, MinerKind.BATCH_HARD, PositivesKind.PAIRS, LossKind.DOUBLE_HINGE, ReductionKind.MEAN));
        }
        return out.stream();
    }

    static MiningOptions options(DistanceKind distance, MinerKind miner, PositivesKind positives, LossKind loss,
                                 ReductionKind reduction) {
        float margin;
        switch (distance) {
            case SQUARED_EUCLIDEAN: margin = 2f; break;
            case COSINE: margin = 0.5f; break;
            default: margin = 1f;
        }
        return MiningOptions.builder().distance(distance).miner(miner).positives(positives).loss(loss)
                .reduction(reduction).negNum(3).hardRatio(0.67f).randRatio(0.34f).margin(margin).lossWeight(0.75f)
                .rng(RngKind.COUNTER).rngSeed(7).onLabelMismatch(LabelMismatchPolicy.REJECT).build();
    }

    static EmbeddingBatch batch(long seed) {
        RandomBatches random = new RandomBatches(seed);
        int[] labels = random.pairedLabels(N, 4, 0);
        return RandomBatches.batch("fd", seed, labels, random.genericEmbeddings(N, D, 0.6, 1.4), D);
    }

    // ------------------------------------------------------------------------------------------------
    // 1. Central differences of the backend's own (float) loss.
    // ------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} {1} {2} {3} {4}")
    @MethodSource("cases")
    void gradientMatchesCentralDifferencesOfTheBackendsLoss(DistanceKind distance, MinerKind miner,
                                                             PositivesKind positives, LossKind loss,
                                                             ReductionKind reduction) throws Exception {
        MiningOptions options = options(distance, miner, positives, loss, reduction);
        EmbeddingBatch batch = batch(1000L + distance.ordinal() * 31 + miner.ordinal() * 7 + loss.ordinal() * 3 + reduction.ordinal());
        float h = 5e-3f;
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 2)) {
            MiningResult base = backend.mine(batch);
            float[] gradient = Arrays.copyOf(base.gradients(), N * D);
            String baseMask = maskOf(base);
            int baseSelected = base.selectedTriplets();
            int baseNonZero = base.nonZeroHinges();
            PlainReference.Result reference = PlainReference.mine(options, batch);
            assertThat(reference.valid()).isTrue();
            assertThat(PlainReference.differences(reference, base, BackendVersusPlainReferenceTest.LOOSE)).isEmpty();
            assertThat(baseSelected).as("a selection to differentiate").isGreaterThan(0);
            String baseShape = reference.shape();

            double[] fd = new double[N * D];
            boolean[] checked = new boolean[N * D];
            float[] f = batch.embeddings();
            for (int i = 0; i < N * D; i++) {
                float plus = f[i] + h;
                float minus = f[i] - h;
                float[] up = f.clone();
                up[i] = plus;
                float[] down = f.clone();
                down[i] = minus;
                EmbeddingBatch upBatch = RandomBatches.withEmbeddings(batch, up);
                EmbeddingBatch downBatch = RandomBatches.withEmbeddings(batch, down);
                MiningResult r = backend.mine(upBatch);
                float lossUp = r.loss();
                boolean same = maskOf(r).equals(baseMask) && r.selectedTriplets() == baseSelected
                        && r.nonZeroHinges() == baseNonZero;
                r = backend.mine(downBatch);
                float lossDown = r.loss();
                same &= maskOf(r).equals(baseMask) && r.selectedTriplets() == baseSelected
                        && r.nonZeroHinges() == baseNonZero;
                same &= PlainReference.mine(options, upBatch).shape().equals(baseShape)
                        && PlainReference.mine(options, downBatch).shape().equals(baseShape);
                if (!same) {
                    continue;
                }
                checked[i] = true;
                fd[i] = ((double) lossUp - lossDown) / ((double) plus - minus);
            }
            assertCheckedEnough(checked, gradient, 0.4);
            assertThat(violations(fd, gradient, checked, FLOAT_TOLERANCE))
                    .as("backend gradient vs central differences of its loss, h=%s: %s", h, options).isEmpty();
            // The comparison would catch a wrong gradient.
            assertThat(violations(fd, scaled(gradient, -1f), checked, FLOAT_TOLERANCE)).isNotEmpty();
            assertThat(violations(fd, scaled(gradient, 1.25f), checked, FLOAT_TOLERANCE)).isNotEmpty();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // 2. Central differences, in double, of the loss of the fixed selection.
    // ------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} {1} {2} {3} {4}")
    @MethodSource("cases")
    void gradientMatchesCentralDifferencesInDoublePrecision(DistanceKind distance, MinerKind miner,
                                                            PositivesKind positives, LossKind loss,
                                                            ReductionKind reduction) throws Exception {
        MiningOptions options = options(distance, miner, positives, loss, reduction);
        EmbeddingBatch batch = batch(5000L + distance.ordinal() * 31 + miner.ordinal() * 7 + loss.ordinal() * 3 + reduction.ordinal());
        PlainReference.Result reference = PlainReference.mine(options, batch);
        float[] gradient;
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 3)) {
            MiningResult got = backend.mine(batch);
            // The selection comes from the reference, so it must be the backend's.
            assertThat(PlainReference.differences(reference, got, BackendVersusPlainReferenceTest.LOOSE)).isEmpty();
            gradient = Arrays.copyOf(got.gradients(), N * D);
        }
        assertThat(reference.selectedTriplets).isGreaterThan(0);
        int divisor = reference.divisor;
        assertThat(divisor).isGreaterThan(0);

        double[] f = new double[N * D];
        for (int i = 0; i < f.length; i++) {
            f[i] = batch.embeddings()[i];
        }
        double h = 1e-5;
        double[] fd = new double[N * D];
        boolean[] checked = new boolean[N * D];
        String signs = signs(options, reference.triplets, f);
        for (int i = 0; i < N * D; i++) {
            double x = f[i];
            f[i] = x + h;
            double up = loss(options, reference.triplets, divisor, f);
            boolean same = signs(options, reference.triplets, f).equals(signs);
            f[i] = x - h;
            double down = loss(options, reference.triplets, divisor, f);
            same &= signs(options, reference.triplets, f).equals(signs);
            f[i] = x;
            if (same) {
                checked[i] = true;
                fd[i] = (up - down) / (2 * h);
            }
        }
        assertCheckedEnough(checked, gradient, 0.95);
        assertThat(violations(fd, gradient, checked, DOUBLE_TOLERANCE))
                .as("backend gradient vs central differences in double: %s", options).isEmpty();
        assertThat(violations(fd, scaled(gradient, -1f), checked, DOUBLE_TOLERANCE)).isNotEmpty();
        assertThat(violations(fd, scaled(gradient, 1.001f), checked, DOUBLE_TOLERANCE)).isNotEmpty();
    }

    /** The comparison helper itself: it accepts the exact derivative and rejects near misses. */
    @Test
    void theComparisonRejectsWrongGradients() {
        double[] fd = {0.5, -0.25, 0.0, 1.0, 0.125};
        float[] exact = {0.5f, -0.25f, 0f, 1f, 0.125f};
        boolean[] all = {true, true, true, true, true};
        assertThat(violations(fd, exact, all, FLOAT_TOLERANCE)).isEmpty();
        assertThat(violations(fd, scaled(exact, -1f), all, FLOAT_TOLERANCE)).isNotEmpty();
        assertThat(violations(fd, scaled(exact, 1.1f), all, FLOAT_TOLERANCE)).isNotEmpty();
        float[] oneWrong = exact.clone();
        oneWrong[2] = 0.05f;
        assertThat(violations(fd, oneWrong, all, FLOAT_TOLERANCE)).hasSize(1);
        assertThat(violations(fd, scaled(exact, 1.001f), all, DOUBLE_TOLERANCE)).isNotEmpty();
        boolean[] none = new boolean[5];
        assertThat(violations(fd, scaled(exact, -1f), none, FLOAT_TOLERANCE)).isEmpty();
    }

    // ------------------------------------------------------------------------------------------------

    /** {relative to the component, relative to the largest component, absolute}. */
    static final double[] FLOAT_TOLERANCE = {2e-2, 2e-3, 1e-6};
    static final double[] DOUBLE_TOLERANCE = {1e-4, 1e-5, 1e-9};

    static List<String> violations(double[] fd, float[] gradient, boolean[] checked, double[] tolerance) {
        double largest = 0;
        for (int i = 0; i < gradient.length; i++) {
            if (checked[i]) {
                largest = Math.max(largest, Math.max(Math.abs(gradient[i]), Math.abs(fd[i])));
            }
        }
        List<String> out = new ArrayList<>();
        double worst = 0;
        for (int i = 0; i < gradient.length; i++) {
            if (!checked[i]) {
                continue;
            }
            double allowed = tolerance[0] * Math.abs(fd[i]) + tolerance[1] * largest + tolerance[2];
            worst = Math.max(worst, Math.abs(gradient[i] - fd[i]) / allowed);
            if (!(Math.abs(gradient[i] - fd[i]) <= allowed)) {
                out.add("row " + i / D + " col " + i % D + ": gradient " + gradient[i] + ", central difference " + fd[i]
                        + " (allowed " + allowed + ")");
            }
        }
        if (out.isEmpty()) {
            WORST_USE_OF_TOLERANCE.merge(tolerance == FLOAT_TOLERANCE ? "float" : "double", worst, Math::max);
        }
        return out;
    }

    /** The largest |error| / allowed seen by the passing comparisons, printed at the end. */
    static final Map<String, Double> WORST_USE_OF_TOLERANCE = new ConcurrentHashMap<>();
    static final Map<String, Integer> FEWEST_CHECKED = new ConcurrentHashMap<>();

    @AfterAll
    static void printMargins() {
        System.out.println("largest |error| / allowed: " + WORST_USE_OF_TOLERANCE + "; fewest coordinates checked of "
                + N * D + ": " + FEWEST_CHECKED);
    }

    static void assertCheckedEnough(boolean[] checked, float[] gradient, double fraction) {
        int count = 0;
        int large = 0;
        double largest = 0;
        for (float g : gradient) {
            largest = Math.max(largest, Math.abs(g));
        }
        for (int i = 0; i < checked.length; i++) {
            if (checked[i]) {
                count++;
                if (Math.abs(gradient[i]) > 0.1 * largest) {
                    large++;
                }
            }
        }
        FEWEST_CHECKED.merge(fraction < 0.9 ? "float" : "double", count, Math::min);
        assertThat(count).as("coordinates checked").isGreaterThanOrEqualTo((int) Math.ceil(fraction * checked.length));
        assertThat(large).as("checked coordinates with a sizeable gradient").isGreaterThanOrEqualTo(8);
    }

    static float[] scaled(float[] g, float factor) {
        float[] out = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            out[i] = g[i] * factor;
        }
        return out;
    }

    static String maskOf(MiningResult r) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < r.rows(); i++) {
            for (int j = 0; j < r.rows(); j++) {
                s.append(r.isSelected(i, j) ? '1' : '0');
            }
        }
        return s.toString();
    }

    // ---- the loss of a fixed selection, in double, from the definitions

    static double distance(DistanceKind kind, double[] f, int i, int j) {
        if (i == j) {
            return 0;
        }
        double dot = 0;
        double ii = 0;
        double jj = 0;
        double squares = 0;
        for (int k = 0; k < D; k++) {
            double a = f[i * D + k];
            double b = f[j * D + k];
            dot += a * b;
            ii += a * a;
            jj += b * b;
            squares += (a - b) * (a - b);
        }
        switch (kind) {
            case NEG_DOT: return -dot;
            case SQUARED_EUCLIDEAN: return squares;
            case EUCLIDEAN: return Math.sqrt(squares);
            case COSINE: return 1 - dot / (Math.sqrt(ii) * Math.sqrt(jj));
            default: throw new AssertionError(kind);
        }
    }

    static double[] terms(MiningOptions o, PlainReference.Triplet t, double[] f) {
        double ap = distance(o.distance(), f, t.a, t.p);
        double x1 = ap - distance(o.distance(), f, t.a, t.n) + o.margin();
        if (o.loss() == LossKind.DOUBLE_HINGE) {
            double x2 = ap - distance(o.distance(), f, t.p, t.n) + o.margin();
            return new double[] {x1, x2};
        }
        return new double[] {x1};
    }

    static double loss(MiningOptions o, List<PlainReference.Triplet> triplets, int divisor, double[] f) {
        double sum = 0;
        for (PlainReference.Triplet t : triplets) {
            for (double x : terms(o, t, f)) {
                sum += o.loss() == LossKind.SOFT ? Math.log1p(Math.exp(x)) : Math.max(0, x);
            }
        }
        return sum / divisor * o.lossWeight();
    }

    static String signs(MiningOptions o, List<PlainReference.Triplet> triplets, double[] f) {
        StringBuilder s = new StringBuilder();
        for (PlainReference.Triplet t : triplets) {
            for (double x : terms(o, t, f)) {
                s.append(x > 0 ? '+' : '-');
            }
        }
        return s.toString();
    }
}
