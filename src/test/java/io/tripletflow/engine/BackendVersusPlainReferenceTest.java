package io.tripletflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
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
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU backend against {@link PlainReference} on thousands of random batches, for every combination of
 * distance x miner x positives x loss x reduction (x both generators for rank-hard, x every
 * label-mismatch policy with pair positives).
 *
 * <p>Masks, selected-triplet and non-zero-term counts and the statistics' counts must be identical, for
 * every distance: the docs fix every float operation that decides a selection (dot products in k order,
 * then the distance formula), so even sqrt and division give the same bits on both sides. Loss and
 * gradients agree within float32 tolerance relative to the largest expected value: 1e-5 for dyadic inputs
 * under neg-dot and squared-euclidean with hinge losses (where everything before the final division is
 * exact), {@value #LOOSE} for euclidean, cosine and the soft loss, and for non-dyadic inputs.
 */
class BackendVersusPlainReferenceTest {
    static final double EXACT = 1e-5;
    static final double LOOSE = 2e-5;

    /** Worst observed |error| / scale per tolerance class, printed once at the end. */
    private static final Map<String, double[]> WORST = new ConcurrentHashMap<>();

    record Combo(DistanceKind distance, MinerKind miner, PositivesKind positives, LossKind loss,
                 ReductionKind reduction, RngKind rng, LabelMismatchPolicy mismatch) {
        @Override
        public String toString() {
            return name(distance) + " " + name(miner) + " " + name(positives) + " " + name(loss) + " " + name(reduction)
                    + " " + name(rng) + (positives == PositivesKind.PAIRS ? " mismatch=" + name(mismatch) : "");
        }

        long seed() {
            return toString().hashCode() * 0x9e3779b97f4a7c15L + 17;
        }
    }

    static String name(Enum<?> e) {
        return MiningOptions.optionName(e);
    }

    static Stream<Combo> combinations() {
        List<Combo> all = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                for (PositivesKind positives : PositivesKind.values()) {
                    for (LossKind loss : LossKind.values()) {
                        for (ReductionKind reduction : ReductionKind.values()) {
                            RngKind[] rngs = miner == MinerKind.RANK_HARD ? RngKind.values() : new RngKind[] {RngKind.COUNTER};
                            LabelMismatchPolicy[] policies = positives == PositivesKind.PAIRS
                                    ? LabelMismatchPolicy.values()
                                    // With every same-label row a positive there is no mismatched positive:
                                    // reject must never fire, even with "mismatched" pairs in the labels.
                                    : new LabelMismatchPolicy[] {LabelMismatchPolicy.REJECT};
                            for (RngKind rng : rngs) {
                                for (LabelMismatchPolicy policy : policies) {
                                    all.add(new Combo(distance, miner, positives, loss, reduction, rng, policy));
                                }
                            }
                        }
                    }
                }
            }
        }
        return all.stream();
    }

    @Test
    void everyCombinationIsCovered() {
        // 4 distances x 4 miners x 2 positives x 3 losses x 3 reductions = 288 compositions; rank-hard twice
        // (both generators), pairs three times (the label-mismatch policies).
        assertThat(combinations().count()).isEqualTo(720);
        assertThat(combinations().map(c -> List.of(c.distance, c.miner, c.positives, c.loss, c.reduction)).distinct()
                .count()).isEqualTo(288);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("combinations")
    void backendMatchesThePlainReference(Combo combo) throws Exception {
        RandomBatches random = new RandomBatches(combo.seed());
        int valid = 0;
        for (int variant = 0; variant < 4; variant++) {
            boolean dyadic = variant < 3;
            MiningOptions options = randomOptions(combo, random, dyadic);
            // One backend per variant, reused for batches of different sizes (buffers grow and shrink).
            try (CpuMiningBackend backend = new CpuMiningBackend(options, 2)) {
                for (int b = 0; b < (dyadic ? 4 : 3); b++) {
                    EmbeddingBatch batch = randomBatch(combo, options, random, dyadic);
                    String context = combo + " variant " + variant + " batch " + b + " N=" + batch.rows() + " D="
                            + batch.dimension() + " [" + options + "]";
                    if (checkOne(options, backend, batch, tolerance(combo, dyadic), context, classOf(combo, dyadic))) {
                        valid++;
                    }
                }
            }
        }
        // Each combination must have compared real results, not only rejections.
        assertThat(valid).as("%s: valid batches compared", combo).isGreaterThanOrEqualTo(3);
    }

    /** The CPU kernels (vector API and plain loops) give the same bits, and both match the reference. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernelCombinations")
    void scalarAndVectorKernelsAgreeBitForBit(Combo combo) throws Exception {
        RandomBatches random = new RandomBatches(combo.seed() ^ 0x5ca1a4L);
        for (int variant = 0; variant < 2; variant++) {
            boolean dyadic = variant == 0;
            MiningOptions options = randomOptions(combo, random, dyadic);
            try (CpuMiningBackend vector = newBackend(options, 2, null);
                 CpuMiningBackend scalar = newBackend(options, 3, "scalar")) {
                assertThat(vector.describe()).contains("vector API");
                assertThat(scalar.describe()).contains("scalar loops");
                for (int n : new int[] {3, 37, 100, 16, 65}) {
                    int d = dyadic ? random.pickInt(3, 8, 24) : random.pickInt(5, 17, 64);
                    EmbeddingBatch batch = batchOf(combo, options, random, dyadic, n, d);
                    String context = combo + " N=" + n + " D=" + d + " [" + options + "]";
                    PlainReference.Result expected = PlainReference.mine(options, batch);
                    if (!expected.valid()) {
                        continue;
                    }
                    int[] a = fingerprint(vector.mine(batch));
                    List<String> differences = PlainReference.differences(expected, vector.mine(batch),
                            tolerance(combo, dyadic));
                    assertThat(differences).as("vector kernel vs reference: %s", context).isEmpty();
                    int[] b = fingerprint(scalar.mine(batch));
                    assertThat(b).as("scalar vs vector kernel bits: %s", context).isEqualTo(a);
                }
            }
        }
    }

    static Stream<Combo> kernelCombinations() {
        List<Combo> out = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                for (LossKind loss : LossKind.values()) {
                    out.add(new Combo(distance, miner, miner == MinerKind.BATCH_HARD ? PositivesKind.ALL : PositivesKind.PAIRS,
                            loss, loss == LossKind.SOFT ? ReductionKind.MEAN : ReductionKind.SEED, RngKind.COUNTER,
                            LabelMismatchPolicy.SEED));
                }
            }
        }
        return out.stream();
    }

    /** The two reference paths (literal seed port, docs) agree on the seed's composition. */
    @Test
    void theReferencesSeedPortAgreesWithItsDocsPath() {
        RandomBatches random = new RandomBatches(20240531L);
        int compared = 0;
        for (int t = 0; t < 400; t++) {
            boolean dyadic = t % 4 != 0;
            Combo combo = new Combo(DistanceKind.NEG_DOT, MinerKind.RANK_HARD, PositivesKind.PAIRS, LossKind.DOUBLE_HINGE,
                    ReductionKind.SEED, t % 2 == 0 ? RngKind.SEED_COMPAT : RngKind.COUNTER,
                    LabelMismatchPolicy.values()[t % 3]);
            MiningOptions options = randomOptions(combo, random, dyadic);
            assertThat(PlainReference.isSeedComposition(options)).isTrue();
            EmbeddingBatch batch = randomBatch(combo, options, random, dyadic);
            PlainReference.Result literal = PlainReference.seedPort(options, batch);
            PlainReference.Result docs = PlainReference.fromDocs(options, batch);
            assertThat(PlainReference.differences(literal, docs, dyadic ? EXACT : LOOSE))
                    .as("seed port vs docs path, try %d: %s", t, options).isEmpty();
            if (literal.valid() && literal.selectedTriplets > 0) {
                compared++;
            }
        }
        assertThat(compared).isGreaterThan(150);
    }

    @Test
    void invalidBatchesAreInvalidForTheSameReason() throws Exception {
        float[] f = new RandomBatches(3).dyadicEmbeddings(4, 3);
        f[7] = Float.NaN;
        EmbeddingBatch nan = RandomBatches.batch("k", 1, new int[] {0, 0, 1, 1}, f, 3);
        EmbeddingBatch tiny = RandomBatches.batch("k", 2, new int[] {0, 0}, new float[] {0.5f, 0.25f}, 1);
        EmbeddingBatch mismatch = RandomBatches.batch("k", 3, new int[] {0, 0, 1, 2}, new RandomBatches(4).dyadicEmbeddings(4, 2), 2);
        MiningOptions seed = MiningOptions.builder().negNum(1).pairSize(3).build();
        MiningOptions reject = MiningOptions.builder().build();
        assertThat(reasonOf(seed, nan)).isEqualTo("non-finite-value").isEqualTo(PlainReference.mine(seed, nan).invalidReason);
        assertThat(reasonOf(seed, tiny)).isEqualTo("empty-seed-count").isEqualTo(PlainReference.mine(seed, tiny).invalidReason);
        assertThat(reasonOf(reject, mismatch)).isEqualTo("label-mismatch")
                .isEqualTo(PlainReference.mine(reject, mismatch).invalidReason);
        MiningOptions mean = reject.toBuilder().reduction(ReductionKind.MEAN).negNum(1).pairSize(3).build();
        assertThat(reasonOf(mean, tiny)).isNull();
        assertThat(PlainReference.mine(mean, tiny).invalidReason).isNull();
    }

    @AfterAll
    static void printWorstErrors() {
        WORST.forEach((k, v) -> System.out.printf("worst |error| / scale for %s: loss %.3g, gradients %.3g%n", k, v[0], v[1]));
    }

    // ------------------------------------------------------------------------------------------------

    private static String reasonOf(MiningOptions options, EmbeddingBatch batch) {
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 1)) {
            backend.mine(batch);
            return null;
        } catch (InvalidBatchException e) {
            return e.reason();
        }
    }

    /** Compares one batch; returns whether it was a valid batch. */
    static boolean checkOne(MiningOptions options, CpuMiningBackend backend, EmbeddingBatch batch, double tolerance,
                            String context, String errorClass) {
        PlainReference.Result expected = PlainReference.mine(options, batch);
        MiningResult got = null;
        String reason = null;
        try {
            got = backend.mine(batch);
        } catch (InvalidBatchException e) {
            reason = e.reason();
        }
        assertThat(reason).as("invalid-batch reason: %s", context).isEqualTo(expected.invalidReason);
        if (PlainReference.isSeedComposition(options)) {
            PlainReference.Result docs = PlainReference.fromDocs(options, batch);
            assertThat(PlainReference.differences(expected, docs, tolerance)).as("reference paths: %s", context).isEmpty();
        }
        if (got == null) {
            return false;
        }
        assertThat(PlainReference.differences(expected, got, tolerance)).as("backend vs reference: %s", context).isEmpty();
        recordWorst(errorClass, expected, got);
        return true;
    }

    private static void recordWorst(String errorClass, PlainReference.Result expected, MiningResult got) {
        double lossError = Math.abs(got.loss() - expected.loss) / Math.max(Math.abs(expected.loss), 1e-30);
        if (expected.loss == 0f && got.loss() == 0f) {
            lossError = 0;
        }
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < expected.gradients.length; i++) {
            scale = Math.max(scale, Math.max(Math.abs(expected.gradients[i]), expected.gradientScale[i]));
        }
        for (int i = 0; i < expected.gradients.length; i++) {
            if (scale > 0) {
                worst = Math.max(worst, Math.abs(got.gradients()[i] - expected.gradients[i]) / scale);
            }
        }
        double[] w = WORST.computeIfAbsent(errorClass, k -> new double[2]);
        synchronized (w) {
            w[0] = Math.max(w[0], lossError);
            w[1] = Math.max(w[1], worst);
        }
    }

    static boolean exactClass(Combo c, boolean dyadic) {
        return dyadic && (c.distance == DistanceKind.NEG_DOT || c.distance == DistanceKind.SQUARED_EUCLIDEAN)
                && c.loss != LossKind.SOFT;
    }

    static double tolerance(Combo c, boolean dyadic) {
        return exactClass(c, dyadic) ? EXACT : LOOSE;
    }

    static String classOf(Combo c, boolean dyadic) {
        return (dyadic ? "dyadic " : "unit ") + name(c.distance) + (c.loss == LossKind.SOFT ? " soft" : " hinge");
    }

    static MiningOptions randomOptions(Combo c, RandomBatches r, boolean dyadic) {
        float margin;
        if (dyadic) {
            margin = r.chance(0.1) ? r.pickFloat(-0.25f, 0f) : r.dyadicMargin();
        } else {
            margin = r.pickFloat(0.1f, 0.2f, 0.5f, 1f);
        }
        return MiningOptions.builder()
                .distance(c.distance).miner(c.miner).positives(c.positives).loss(c.loss).reduction(c.reduction)
                .rng(c.rng).onLabelMismatch(c.mismatch)
                .negNum(r.pickInt(1, 2, 3, 4, 4, 6, 8))
                .pairSize(r.pickInt(1, 2, 2, 2, 3))
                .hardRatio(r.pickFloat(0f, 0.25f, 0.5f, 0.5f, 0.75f, 1f, 1.5f))
                .randRatio(r.pickFloat(0f, 0.5f, 0.5f, 1f, 2f))
                .margin(margin)
                .lossWeight(r.pickFloat(1f, 1f, 1f, 0.5f, 2f, -1f))
                .rngSeed(r.chance(0.2) ? r.pickInt(0, 1, 5489, -1) : r.nextLong())
                .build();
    }

    static EmbeddingBatch randomBatch(Combo c, MiningOptions o, RandomBatches r, boolean dyadic) {
        int n = r.pickInt(2, 3, 4, 5, 7, 8, 12, 17, 24, 33, 40, 64);
        int d = dyadic ? r.pickInt(2, 3, 4, 8, 16, 24) : r.pickInt(2, 3, 8, 16, 32);
        return batchOf(c, o, r, dyadic, n, d);
    }

    static EmbeddingBatch batchOf(Combo c, MiningOptions o, RandomBatches r, boolean dyadic, int n, int d) {
        int classes = r.pickInt(1, 2, 2, 3, 3, 4, 6, 10);
        int group;
        double mismatch;
        if (c.positives == PositivesKind.PAIRS) {
            group = o.pairSize() == 1 ? r.pickInt(2, 3, 5) : o.pairSize();
            mismatch = c.mismatch == LabelMismatchPolicy.REJECT ? (r.chance(0.6) ? 0 : 0.1) : 0.25;
        } else {
            group = r.pickInt(1, 2, 3);
            mismatch = 0.2;
        }
        int[] labels = r.groupedLabels(n, group, classes, mismatch);
        float[] f = dyadic ? r.dyadicEmbeddings(n, d, r.pickInt(4, 8, 16)) : r.unitEmbeddings(n, d);
        return r.batch(labels, f, d);
    }

    static CpuMiningBackend newBackend(MiningOptions options, int threads, String kernel) {
        String property = "tripletflow.cpu.kernel";
        String before = System.getProperty(property);
        try {
            if (kernel == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, kernel);
            }
            return new CpuMiningBackend(options, threads);
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    /** Every bit of a result: loss, counts, gradients, mask. */
    static int[] fingerprint(MiningResult r) {
        int n = r.rows();
        int d = r.dimension();
        int maskBytes = GradientBatch.maskBytes(n);
        int[] out = new int[5 + n * d + maskBytes];
        out[0] = n;
        out[1] = d;
        out[2] = Float.floatToIntBits(r.loss());
        out[3] = r.selectedTriplets();
        out[4] = r.nonZeroHinges();
        for (int i = 0; i < n * d; i++) {
            out[5 + i] = Float.floatToIntBits(r.gradients()[i]);
        }
        byte[] mask = Arrays.copyOf(r.mask(), maskBytes);
        for (int i = 0; i < maskBytes; i++) {
            out[5 + n * d + i] = mask[i];
        }
        return out;
    }
}
