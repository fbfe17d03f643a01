package io.tripletflow.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.MiningOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The demo trainer: its batches, how it takes answers, and training through the mining step. */
class DemoTrainerTest {

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

    private static GradientBatch gradient(EmbeddingBatch b, float value) {
        float[] g = new float[b.rows() * b.dimension()];
        for (int i = 0; i < g.length; i++) {
            g[i] = (i % 3 == 0 ? value : -value);
        }
        return new GradientBatch(b.streamKey(), b.batchId(), b.modelStep(), b.createdMillis(), 0,
                b.rows(), b.dimension(), 1f, 0, 0, g, null);
    }
}
