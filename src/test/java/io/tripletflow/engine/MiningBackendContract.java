package io.tripletflow.engine;

import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.engine.memory.MemoryRows;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.testutils.GoldenCases;
import io.tripletflow.testutils.GoldenCases.GoldenCase;
import io.tripletflow.testutils.RandomBatches;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every backend promises (one contract, run against each backend): the golden cases, and
 * the plain reference's masks, counts, loss and gradients on random batches of many shapes for
 * every option combination the backend runs. Subclasses say how to make the backend.
 */
public abstract class MiningBackendContract {

    /** A backend for these options, or null when this backend leaves them to the CPU. */
    protected abstract MiningBackend backend(MiningOptions options);

    static Stream<GoldenCase> goldenCases() {
        return GoldenCases.all().stream().filter(GoldenCase::finite);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void reproducesTheGoldenCases(GoldenCase golden) throws Exception {
        MiningOptions options = golden.rngMatters ? golden.options().build()
                : golden.options().rng(RngKind.COUNTER).build();
        try (MiningBackend backend = backend(options)) {
            if (backend == null) {
                assertThat(golden.rngMatters).as("only the MT19937 replay may be left to the CPU").isTrue();
                return;
            }
            GoldenParityTest.assertMatches(golden, backend.mine(golden.batch()));
        }
    }

    static Stream<MiningOptions> combinations() {
        List<MiningOptions> all = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                for (LossKind loss : LossKind.values()) {
                    for (ReductionKind reduction : ReductionKind.values()) {
                        all.add(MiningOptions.builder().distance(distance).miner(miner).loss(loss).reduction(reduction)
                                .negNum(3).hardRatio(0.34f).randRatio(0.67f).margin(0.5f).lossWeight(1.5f)
                                .onLabelMismatch(MiningOptions.LabelMismatchPolicy.SKIP_ANCHOR).build());
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("combinations")
    void agreesWithThePlainReferenceOnRandomBatches(MiningOptions options) throws Exception {
        try (MiningBackend backend = backend(options)) {
            assertThat(backend).as("every combination with pairs and the counter generator runs here").isNotNull();
            RandomBatches random = new RandomBatches(options.toString().hashCode());
            for (int round = 0; round < 6; round++) {
                int n = random.pickInt(2, 7, 16, 33, 64, 130);
                int d = random.pickInt(1, 3, 8, 31, 64);
                EmbeddingBatch batch = RandomBatches.withIdentity(
                        random.batch(random.pairedLabels(n, Math.max(2, n / 4), 0.1), random.unitEmbeddings(n, d), d),
                        "contract", round);
                PlainReference.Result expected = PlainReference.mine(options, batch);
                MiningResult got = backend.mine(batch);
                assertThat(PlainReference.differences(expected, got, 2e-5)).as("N=%d D=%d", n, d).isEmpty();
            }
        }
    }

    static Stream<MiningOptions> memoryCombinations() {
        List<MiningOptions> all = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                all.add(MiningOptions.builder().distance(distance).miner(miner)
                        .loss(LossKind.values()[miner.ordinal() % LossKind.values().length])
                        .reduction(ReductionKind.values()[distance.ordinal() % ReductionKind.values().length])
                        .negNum(3).hardRatio(0.34f).randRatio(0.67f).margin(0.5f).memoryRows(300)
                        .onLabelMismatch(MiningOptions.LabelMismatchPolicy.SKIP_ANCHOR).build());
            }
        }
        return all.stream();
    }

    /** Mining against a cross-batch memory filled by earlier batches (docs/mining.md, "Cross-batch memory"). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("memoryCombinations")
    void agreesWithThePlainReferenceAgainstAMemory(MiningOptions options) throws Exception {
        try (MiningBackend backend = backend(options)) {
            assertThat(backend).as("a memory without memory positives runs on every backend").isNotNull();
            RandomBatches random = new RandomBatches(options.toString().hashCode() + 3);
            for (int round = 0; round < 3; round++) {
                int n = random.pickInt(8, 33, 64);
                int d = random.pickInt(3, 31, 64);
                CrossBatchMemory memory = new CrossBatchMemory(options.memoryRows());
                for (int b = 0; b < 5; b++) {
                    memory.enqueue(random.batch(random.pairedLabels(n, Math.max(2, n / 4), 0), random.unitEmbeddings(n, d), d));
                }
                EmbeddingBatch batch = RandomBatches.withIdentity(
                        random.batch(random.pairedLabels(n, Math.max(2, n / 4), 0.1), random.unitEmbeddings(n, d), d),
                        "contract", round);
                MemoryRows rows = memory.eligible(batch.modelStep(), d, 0, -1);
                int[] labels = new int[rows.count()];
                for (int m = 0; m < labels.length; m++) labels[m] = rows.label(m);
                PlainReference.Result expected = PlainReference.mine(options, batch,
                        java.util.Arrays.copyOf(rows.embeddings(), rows.count() * d), labels);
                MiningResult got = backend.mine(batch, rows);
                assertThat(PlainReference.differences(expected, got, 2e-5)).as("N=%d D=%d M=%d", n, d, rows.count()).isEmpty();
            }
        }
    }

    @Test
    void rejectsInvalidBatchesWithTheSpecsReasons() throws Exception {
        try (MiningBackend backend = backend(MiningOptions.defaults())) {
            EmbeddingBatch mismatched = RandomBatches.batch("k", 1, new int[] {0, 1, 2, 2}, new float[8], 2);
            try {
                backend.mine(mismatched);
                throw new AssertionError("a label mismatch under on-label-mismatch = reject was answered");
            } catch (InvalidBatchException e) {
                assertThat(e.reason()).isEqualTo("label-mismatch");
                assertThat(e.getMessage()).contains("positive row 1 has label 1 but its anchor row 0 has label 0");
            }
        }
    }
}
