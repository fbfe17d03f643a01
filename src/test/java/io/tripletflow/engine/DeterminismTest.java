package io.tripletflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Same input and options, same bits: for 1, 2 and 3 threads, for repeated calls on one backend (reused
 * buffers), and with batches of other sizes in between (stale buffers). The counter generator depends on
 * the batch's identity (rng-seed, stream key, batch id) and only on it; seed-compat on neither.
 */
class DeterminismTest {

    /** Every bit of a result: loss, counts, gradients, mask bytes, and the statistics as JSON. */
    record Fingerprint(int[] bits, String statistics) {
        static Fingerprint of(MiningResult r) {
            return new Fingerprint(BackendVersusPlainReferenceTest.fingerprint(r), r.statistics().toJson());
        }

        boolean sameMask(Fingerprint other) {
            int n = bits[0];
            int d = bits[1];
            return Arrays.equals(Arrays.copyOfRange(bits, 5 + n * d, bits.length),
                    Arrays.copyOfRange(other.bits, 5 + other.bits[0] * other.bits[1], other.bits.length));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Fingerprint f && Arrays.equals(bits, f.bits) && statistics.equals(f.statistics);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bits);
        }

        @Override
        public String toString() {
            return "N=" + bits[0] + " D=" + bits[1] + " loss=" + Float.intBitsToFloat(bits[2]) + " triplets=" + bits[3]
                    + " nonzero=" + bits[4] + " " + statistics;
        }
    }

    static Stream<MiningOptions> optionSets() {
        List<MiningOptions> out = new ArrayList<>();
        MiningOptions.Builder rankHard = MiningOptions.builder().negNum(4).margin(0.5f).onLabelMismatch(LabelMismatchPolicy.SEED);
        out.add(MiningOptions.seedCompatible().toBuilder().margin(0.5f).build());
        out.add(rankHard.build());
        out.add(rankHard.positives(PositivesKind.ALL).distance(DistanceKind.COSINE).loss(LossKind.SOFT)
                .reduction(ReductionKind.MEAN).build());
        out.add(MiningOptions.builder().rng(RngKind.SEED_COMPAT).positives(PositivesKind.ALL).negNum(3).hardRatio(1f)
                .randRatio(1f).margin(0.3f).distance(DistanceKind.SQUARED_EUCLIDEAN).build());
        out.add(MiningOptions.builder().miner(MinerKind.SEMI_HARD).distance(DistanceKind.EUCLIDEAN).margin(0.2f)
                .reduction(ReductionKind.MEAN_NONZERO).onLabelMismatch(LabelMismatchPolicy.SKIP_ANCHOR).build());
        out.add(MiningOptions.builder().miner(MinerKind.BATCH_HARD).positives(PositivesKind.ALL)
                .distance(DistanceKind.SQUARED_EUCLIDEAN).loss(LossKind.SOFT).reduction(ReductionKind.MEAN).build());
        out.add(MiningOptions.builder().miner(MinerKind.BATCH_ALL).positives(PositivesKind.ALL)
                .distance(DistanceKind.COSINE).loss(LossKind.HINGE).margin(0.2f).reduction(ReductionKind.MEAN_NONZERO)
                .lossWeight(1.5f).build());
        out.add(MiningOptions.builder().miner(MinerKind.BATCH_ALL).loss(LossKind.DOUBLE_HINGE).margin(0.3f)
                .pairSize(3).onLabelMismatch(LabelMismatchPolicy.SEED).build());
        return out.stream();
    }

    static EmbeddingBatch unitBatch(long seed, int n, int d, String key, long id) {
        RandomBatches random = new RandomBatches(seed);
        int[] labels = random.pairedLabels(n, Math.max(2, n / 8), 0.1);
        return RandomBatches.batch(key, id, labels, random.unitEmbeddings(n, d), d);
    }

    static Fingerprint fresh(MiningOptions options, EmbeddingBatch batch) throws InvalidBatchException {
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 1)) {
            return Fingerprint.of(backend.mine(batch));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optionSets")
    void sameBitsForEveryThreadCountAndRepeatedCalls(MiningOptions options) throws Exception {
        EmbeddingBatch batch = unitBatch(11, 150, 24, "det", 42);
        Fingerprint expected = fresh(options, batch);
        assertThat(expected.bits[3]).as("something selected").isGreaterThan(0);
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuMiningBackend backend = new CpuMiningBackend(options, threads)) {
                for (int repeat = 0; repeat < 3; repeat++) {
                    assertThat(Fingerprint.of(backend.mine(batch)))
                            .as("threads %d, call %d: %s", threads, repeat, options).isEqualTo(expected);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optionSets")
    void batchesOfOtherSizesInBetweenLeaveNoTrace(MiningOptions options) throws Exception {
        // Sizes that grow, shrink and grow by less than double, dimensions that change, an invalid batch.
        int[][] shapes = {{2, 5}, {9, 3}, {12, 4}, {17, 24}, {20, 4}, {29, 4}, {40, 6}, {33, 40}, {64, 16},
            {100, 8}, {-1, 0}, {130, 24}, {131, 7}, {9, 3}, {64, 16}, {2, 5}, {130, 24}};
        List<EmbeddingBatch> batches = new ArrayList<>();
        List<Fingerprint> expected = new ArrayList<>();
        for (int s = 0; s < shapes.length; s++) {
            if (shapes[s][0] < 0) {
                float[] nan = new RandomBatches(s).unitEmbeddings(10, 4);
                nan[13] = Float.NaN;
                batches.add(RandomBatches.batch("det", s, new int[] {0, 0, 1, 1, 2, 2, 3, 3, 4, 4}, nan, 4));
                expected.add(null);
                continue;
            }
            EmbeddingBatch b = unitBatch(100 + s, shapes[s][0], shapes[s][1], "det", s);
            batches.add(b);
            expected.add(fresh(options, b));
        }
        for (int threads : new int[] {1, 3}) {
            try (CpuMiningBackend backend = new CpuMiningBackend(options, threads)) {
                for (int round = 0; round < 2; round++) {
                    for (int s = 0; s < batches.size(); s++) {
                        EmbeddingBatch b = batches.get(s);
                        if (expected.get(s) == null) {
                            assertThatThrownBy(() -> backend.mine(b)).isInstanceOf(InvalidBatchException.class);
                            continue;
                        }
                        assertThat(Fingerprint.of(backend.mine(b)))
                                .as("threads %d, round %d, batch %d (N=%d, D=%d) after N=%d: %s", threads, round, s,
                                        b.rows(), b.dimension(), batches.get((s + batches.size() - 1) % batches.size()).rows(),
                                        options)
                                .isEqualTo(expected.get(s));
                    }
                }
            }
        }
    }

    /**
     * Minimal reproductions of a stale-buffer failure: rank-hard, after a smaller batch, on a batch larger than
     * the previous one by less than double, with more than {@code neg-num} candidates per anchor.
     */
    @Test
    void aBatchSomewhatLargerThanThePreviousOneIsMinedWithSeedDraws() throws Exception {
        // seed-compat, neg-num 4, margin 100 (every negative is a candidate): N = 12, then N = 20.
        MiningOptions options = MiningOptions.seedCompatible().toBuilder().margin(100f).build();
        assertGrowingWorks(options, 12, 20);
    }

    @Test
    void aBatchSomewhatLargerThanThePreviousOneIsMinedWithManyNegatives() throws Exception {
        // counter, neg-num 8, margin 100: N = 7, then N = 12 (10 candidates per anchor, more than neg-num).
        MiningOptions options = MiningOptions.builder().negNum(8).margin(100f).onLabelMismatch(LabelMismatchPolicy.SEED).build();
        assertGrowingWorks(options, 7, 12);
    }

    private static void assertGrowingWorks(MiningOptions options, int before, int after) throws Exception {
        EmbeddingBatch small = distinctPairs(before, 1);
        EmbeddingBatch larger = distinctPairs(after, 2);
        Fingerprint expected = fresh(options, larger);
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 1)) {
            backend.mine(small);
            assertThat(Fingerprint.of(backend.mine(larger))).as("N=%d after N=%d: %s", after, before, options)
                    .isEqualTo(expected);
        }
    }

    /** Unit rows, rows 2i and 2i+1 labelled i. */
    private static EmbeddingBatch distinctPairs(int n, long id) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i / 2;
        }
        return RandomBatches.batch("grow", id, labels, new RandomBatches(id).unitEmbeddings(n, 4), 4);
    }

    @Test
    void theCounterGeneratorDependsOnTheBatchIdentityAndOnlyOnIt() throws Exception {
        MiningOptions options = MiningOptions.builder().negNum(4).hardRatio(0.5f).randRatio(0.5f).margin(10f)
                .rng(RngKind.COUNTER).rngSeed(99).onLabelMismatch(LabelMismatchPolicy.SEED).build();
        EmbeddingBatch batch = unitBatch(7, 64, 8, "stream-a", 1000);
        Fingerprint base = fresh(options, batch);
        PlainReference.Result reference = PlainReference.mine(options, batch);
        assertThat(reference.candidates).as("anchors draw: more candidates than neg-num").isGreaterThan(32L * 4);

        // Same identity: the same bits, on another instance, another thread count, after other batches.
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 3)) {
            backend.mine(RandomBatches.withIdentity(batch, "stream-a", 1001));
            backend.mine(RandomBatches.withIdentity(batch, "stream-b", 1000));
            assertThat(Fingerprint.of(backend.mine(RandomBatches.withIdentity(batch, "stream-a", 1000)))).isEqualTo(base);
        }

        int idDifferences = 0;
        int keyDifferences = 0;
        int seedDifferences = 0;
        for (int t = 1; t <= 5; t++) {
            if (!fresh(options, RandomBatches.withIdentity(batch, "stream-a", 1000 + t)).sameMask(base)) {
                idDifferences++;
            }
            if (!fresh(options, RandomBatches.withIdentity(batch, "stream-a" + t, 1000)).sameMask(base)) {
                keyDifferences++;
            }
            if (!fresh(options.toBuilder().rngSeed(99 + t).build(), batch).sameMask(base)) {
                seedDifferences++;
            }
        }
        assertThat(idDifferences).as("other batch ids select differently").isGreaterThan(0);
        assertThat(keyDifferences).as("other stream keys select differently").isGreaterThan(0);
        assertThat(seedDifferences).as("other rng seeds select differently").isGreaterThan(0);
    }

    @Test
    void seedCompatDrawsDependOnTheRngSeedOnly() throws Exception {
        MiningOptions options = MiningOptions.seedCompatible().toBuilder().negNum(4).margin(10f).rngSeed(5489).build();
        EmbeddingBatch batch = unitBatch(8, 64, 8, "stream-a", 1000);
        Fingerprint base = fresh(options, batch);
        for (int t = 1; t <= 3; t++) {
            assertThat(fresh(options, RandomBatches.withIdentity(batch, "other-" + t, 77 * t))).isEqualTo(base);
        }
        int seedDifferences = 0;
        for (int t = 1; t <= 5; t++) {
            if (!fresh(options.toBuilder().rngSeed(5489 + t).build(), batch).sameMask(base)) {
                seedDifferences++;
            }
        }
        assertThat(seedDifferences).as("other rng seeds select differently").isGreaterThan(0);
    }
}
