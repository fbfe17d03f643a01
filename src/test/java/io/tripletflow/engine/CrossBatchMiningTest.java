package io.tripletflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.BackendVersusPlainReferenceTest.Combo;
import io.tripletflow.engine.MiningOptions.LabelMismatchPolicy;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.testutils.RandomBatches;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mining against a cross-batch memory: the CPU backend against {@link PlainReference} extended to
 * memory columns, for every distance x miner x positives x loss x reduction, with and without memory
 * positives, under memories filled by earlier batches through {@link CrossBatchMemory} (so the ring's
 * eligible view is what is mined); and the gradient against central differences with the memory's
 * rows held constant.
 */
class CrossBatchMiningTest {

    static Stream<Object[]> combinations() {
        List<Object[]> out = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                for (PositivesKind positives : PositivesKind.values()) {
                    for (LossKind loss : LossKind.values()) {
                        for (boolean memoryPositives : new boolean[] {false, true}) {
                            ReductionKind reduction = ReductionKind.values()[(distance.ordinal() + miner.ordinal() + loss.ordinal()) % 3];
                            out.add(new Object[] {new Combo(distance, miner, positives, loss, reduction, RngKind.COUNTER,
                                    LabelMismatchPolicy.SKIP_ANCHOR), memoryPositives});
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} memory-positives={1}")
    @MethodSource("combinations")
    void theBackendMinesTheMemoryAsTheReferenceDoes(Combo combo, boolean memoryPositives) throws Exception {
        RandomBatches random = new RandomBatches(combo.seed() + (memoryPositives ? 1 : 0));
        int withMemory = 0;
        int memoryNegatives = 0;
        int memoryPositivesUsed = 0;
        for (int t = 0; t < 12; t++) {
            boolean dyadic = t % 3 != 0;
            MiningOptions options = BackendVersusPlainReferenceTest.randomOptions(combo, random, dyadic).toBuilder()
                    .memoryRows(random.pickInt(1, 5, 16, 40, 96)).memoryPositives(memoryPositives)
                    .memoryMaxAge(random.pickInt(-1, -1, 2, 5)).build();
            int d = dyadic ? random.pickInt(2, 3, 8, 16) : random.pickInt(2, 8, 32);
            CrossBatchMemory memory = new CrossBatchMemory(options.memoryRows());
            int earlier = random.pickInt(0, 1, 2, 4, 7);
            for (int b = 0; b < earlier; b++) {
                EmbeddingBatch old = BackendVersusPlainReferenceTest.batchOf(combo, options, random, dyadic,
                        random.pickInt(2, 8, 24), d);
                memory.enqueue(RandomBatches.withStep(old, b));
            }
            EmbeddingBatch batch = RandomBatches.withStep(BackendVersusPlainReferenceTest.batchOf(combo, options, random, dyadic,
                    random.pickInt(2, 5, 8, 17, 33), d), earlier + 1);
            MemoryRows rows = memory.eligible(batch.modelStep(), d, options.memoryWarmUp(), options.memoryMaxAge());
            PlainReference.Result expected = PlainReference.mine(options, batch,
                    Arrays.copyOf(rows.embeddings(), rows.count() * d), labelsOf(rows));
            try (CpuMiningBackend backend = new CpuMiningBackend(options, 1 + t % 3)) {
                MiningResult got;
                try {
                    got = backend.mine(batch, rows);
                } catch (InvalidBatchException e) {
                    assertThat(e.reason()).isEqualTo(expected.invalidReason);
                    continue;
                }
                assertThat(expected.invalidReason).isNull();
                double tolerance = dyadic && combo.loss() != LossKind.SOFT
                        && (combo.distance() == DistanceKind.NEG_DOT || combo.distance() == DistanceKind.SQUARED_EUCLIDEAN)
                        ? BackendVersusPlainReferenceTest.EXACT : BackendVersusPlainReferenceTest.LOOSE;
                assertThat(PlainReference.differences(expected, got, tolerance))
                        .as("try %d, %d memory rows: %s", t, rows.count(), options).isEmpty();
                if (rows.count() > 0) {
                    withMemory++;
                }
                memoryNegatives += got.statistics().memoryNegatives();
                memoryPositivesUsed += got.statistics().memoryPositives();
            }
        }
        assertThat(withMemory).as("batches mined against a non-empty memory").isGreaterThan(3);
        if (combo.miner() != MinerKind.BATCH_HARD || combo.positives() == PositivesKind.ALL) {
            assertThat(memoryNegatives).as("negatives taken from the memory").isGreaterThan(0);
        }
        if (memoryPositives) {
            assertThat(memoryPositivesUsed).as("positives taken from the memory").isGreaterThan(0);
        } else {
            assertThat(memoryPositivesUsed).isZero();
        }
    }

    @Test
    void memoryRowsAreConstantsForTheGradient() throws Exception {
        int n = 12;
        int d = 5;
        for (DistanceKind distance : DistanceKind.values()) {
            for (boolean memoryPositives : new boolean[] {false, true}) {
                MiningOptions options = FiniteDifferenceGradientTest.options(distance, MinerKind.RANK_HARD, PositivesKind.PAIRS,
                        LossKind.SOFT, ReductionKind.MEAN).toBuilder().memoryRows(20).memoryPositives(memoryPositives).build();
                RandomBatches random = new RandomBatches(77 + distance.ordinal());
                CrossBatchMemory memory = new CrossBatchMemory(20);
                memory.enqueue(RandomBatches.batch("fd", 1, random.pairedLabels(20, 4, 0),
                        random.genericEmbeddings(20, d, 0.6, 1.4), d));
                EmbeddingBatch batch = RandomBatches.batch("fd", 2, random.pairedLabels(n, 4, 0),
                        random.genericEmbeddings(n, d, 0.6, 1.4), d);
                MemoryRows rows = memory.eligible(batch.modelStep(), d, 0, -1);
                assertThat(rows.count()).isEqualTo(20);
                try (CpuMiningBackend backend = new CpuMiningBackend(options, 2)) {
                    MiningResult base = backend.mine(batch, rows);
                    assertThat(base.statistics().memoryNegatives()).isGreaterThan(0);
                    float[] gradient = Arrays.copyOf(base.gradients(), n * d);
                    float[] memoryEmbeddings = Arrays.copyOf(rows.embeddings(), rows.count() * d);
                    int[] memoryLabels = labelsOf(rows);
                    String shape = PlainReference.mine(options, batch, memoryEmbeddings, memoryLabels).shape();
                    float h = 5e-3f;
                    double[] fd = new double[n * d];
                    boolean[] checked = new boolean[n * d];
                    float[] f = batch.embeddings();
                    for (int i = 0; i < n * d; i++) {
                        float[] up = f.clone();
                        up[i] = f[i] + h;
                        float[] down = f.clone();
                        down[i] = f[i] - h;
                        EmbeddingBatch upBatch = RandomBatches.withEmbeddings(batch, up);
                        EmbeddingBatch downBatch = RandomBatches.withEmbeddings(batch, down);
                        // Only where the selection and every term's sign stay as they are.
                        boolean same = PlainReference.mine(options, upBatch, memoryEmbeddings, memoryLabels).shape().equals(shape)
                                && PlainReference.mine(options, downBatch, memoryEmbeddings, memoryLabels).shape().equals(shape);
                        MiningResult r = backend.mine(upBatch, rows);
                        float lossUp = r.loss();
                        r = backend.mine(downBatch, rows);
                        if (same) {
                            checked[i] = true;
                            fd[i] = ((double) lossUp - r.loss()) / ((double) up[i] - down[i]);
                        }
                    }
                    FiniteDifferenceGradientTest.assertCheckedEnough(checked, gradient, 0.4);
                    assertThat(FiniteDifferenceGradientTest.violations(fd, gradient, checked,
                            FiniteDifferenceGradientTest.FLOAT_TOLERANCE)).as("%s", options).isEmpty();
                    assertThat(FiniteDifferenceGradientTest.violations(fd,
                            FiniteDifferenceGradientTest.scaled(gradient, 1.25f), checked,
                            FiniteDifferenceGradientTest.FLOAT_TOLERANCE)).isNotEmpty();
                }
            }
        }
    }

    @Test
    void withoutMemoryRowsTheAnswerIsTheMemorylessOne() throws Exception {
        RandomBatches random = new RandomBatches(5);
        EmbeddingBatch batch = random.batch(random.pairedLabels(32, 6, 0), random.unitEmbeddings(32, 16), 16);
        MiningOptions plain = MiningOptions.defaults();
        MiningOptions withMemory = plain.toBuilder().memoryRows(64).build();
        CrossBatchMemory memory = new CrossBatchMemory(64);
        try (CpuMiningBackend a = new CpuMiningBackend(plain, 1); CpuMiningBackend b = new CpuMiningBackend(withMemory, 1)) {
            MiningResult expected = a.mine(batch);
            float[] gradients = Arrays.copyOf(expected.gradients(), 32 * 16);
            float loss = expected.loss();
            MiningResult got = b.mine(batch, memory.eligible(batch.modelStep(), 16, 0, -1));
            assertThat(got.loss()).isEqualTo(loss);
            assertThat(Arrays.copyOf(got.gradients(), 32 * 16)).isEqualTo(gradients);
        }
    }

    private static int[] labelsOf(MemoryRows rows) {
        int[] labels = new int[rows.count()];
        for (int m = 0; m < labels.length; m++) {
            labels[m] = rows.label(m);
        }
        return labels;
    }
}
