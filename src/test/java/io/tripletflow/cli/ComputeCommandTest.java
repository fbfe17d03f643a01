package io.tripletflow.cli;

import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.distance.DistanceKind;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.RandomBatches;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.job.TripletFlowOptions;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.WireBounds;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tripletflow compute}: one batch file in, its gradient batch out, statistics printed. */
class ComputeCommandTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) throws Exception {
        return TripletFlow.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private EmbeddingBatch batch(String key) {
        RandomBatches random = new RandomBatches(11);
        int n = 40;
        int d = 12;
        EmbeddingBatch b = random.batch(random.pairedLabels(n, 6, 0), random.unitEmbeddings(n, d), d);
        return RandomBatches.withIdentity(b, key, 77);
    }

    @Test
    void answersWhatTheEngineAnswersWithTheGivenOptions() throws Exception {
        EmbeddingBatch batch = batch("trainer-3");
        Path input = dir.resolve("batch.bin");
        Path output = dir.resolve("gradients.bin");
        Files.write(input, new EmbeddingBatchCodec().encode(batch));

        int status = run("compute", "--input", input.toString(), "--output", output.toString(), "--mask",
                "--stream-key", "trainer-3", "--neg-num", "3", "--margin", "0.5", "--miner", "semi-hard",
                "--distance", "cosine", "--loss-weight", "2");

        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
        GradientBatch got = new GradientBatchCodec().decode("trainer-3", Files.readAllBytes(output));
        MiningOptions options = MiningOptions.builder().negNum(3).margin(0.5f)
                .miner(MinerKind.SEMI_HARD).distance(DistanceKind.COSINE).lossWeight(2f).build();
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 1)) {
            MiningResult expected = backend.mine(batch);
            assertThat(got.batchId()).isEqualTo(77);
            assertThat(got.loss()).isEqualTo(expected.loss());
            assertThat(got.selectedTriplets()).isEqualTo(expected.selectedTriplets()).isPositive();
            assertThat(got.gradients()).containsExactly(java.util.Arrays.copyOf(expected.gradients(), 40 * 12));
            assertThat(got.hasMask()).isTrue();
            for (int i = 0; i < 40; i++) {
                for (int j = 0; j < 40; j++) {
                    assertThat(got.maskBit(i, j)).isEqualTo(expected.isSelected(i, j));
                }
            }
        }
        JsonNode stats = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(stats.get("triplets").asInt()).isEqualTo(got.selectedTriplets());
        assertThat(stats.get("anchors").asInt()).isEqualTo(20);
        assertThat(stats.get("dis_an_histogram").get("counts")).hasSize(16);
    }

    @Test
    void invalidInputExitsWithStatusTwoNamingFieldAndBound() throws Exception {
        byte[] record = new EmbeddingBatchCodec().encode(batch("k"));
        record[record.length - 1] ^= 0x5a;
        Path input = dir.resolve("corrupt.bin");
        Files.write(input, record);
        int status = run("compute", "--input", input.toString(), "--output", dir.resolve("o.bin").toString());
        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("field 'crc'").contains("[reason bad-crc]");
        assertThat(dir.resolve("o.bin")).doesNotExist();
    }

    /**
     * compute uses the job's bounds and option names: a batch the job would dead-letter for its
     * size (N above tripletflow.max-rows' default) is refused here too, and answered once the bound
     * is raised the way the job's is.
     */
    @Test
    void theJobsBoundsApply() throws Exception {
        int n = TripletFlowOptions.MAX_ROWS.defaultValue() + 2;
        RandomBatches random = new RandomBatches(3);
        EmbeddingBatch big = RandomBatches.withIdentity(random.batch(random.pairedLabels(n, 64, 0),
                random.unitEmbeddings(n, 2), 2), "k", 5);
        Path input = dir.resolve("big.bin");
        Files.write(input, new EmbeddingBatchCodec(WireBounds.DEFAULT.withMaxRows(n)).encode(big));
        Path output = dir.resolve("o.bin");

        assertThat(run("compute", "--input", input.toString(), "--output", output.toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("exceeds the bound max-rows = " + TripletFlowOptions.MAX_ROWS.defaultValue());
        assertThat(output).doesNotExist();

        assertThat(run("compute", "--input", input.toString(), "--output", output.toString(),
                "--max-rows", Integer.toString(n), "--threads", "1")).isZero();
        assertThat(new GradientBatchCodec(WireBounds.DEFAULT.withMaxRows(n)).decode("k", Files.readAllBytes(output))
                .rows()).isEqualTo(n);
    }

    @Test
    void aBatchTheMiningRulesRejectExitsWithStatusTwo() throws Exception {
        EmbeddingBatch b = batch("k");
        b.labels()[1] = b.labels()[0] + 1000;
        Path input = dir.resolve("mismatch.bin");
        Files.write(input, new EmbeddingBatchCodec().encode(b));
        int status = run("compute", "--input", input.toString(), "--output", dir.resolve("o.bin").toString());
        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("field 'labels'").contains("on-label-mismatch = reject").contains("[reason label-mismatch]");
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption() throws Exception {
        Path input = dir.resolve("batch.bin");
        Files.write(input, new EmbeddingBatchCodec().encode(batch("k")));
        assertThat(run("compute", "--input", input.toString(), "--output", "x", "--miner", "hardest")).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("miner must be one of rank-hard, semi-hard, batch-hard, batch-all, got 'hardest'");
        assertThat(run("compute", "--input", input.toString(), "--output", "x", "--distance", "foo")).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("--distance must be one of neg-dot, squared-euclidean, euclidean, cosine, got 'foo'");
        assertThat(run("compute", "--input", input.toString(), "--output", "x", "--neg-num", "x")).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--neg-num must be an integer, got 'x'");
        assertThat(run("compute", "--input", input.toString())).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--output is required");
        // One batch on its own: the cross-batch memory is the job's (a stream's state), not compute's.
        assertThat(run("compute", "--input", input.toString(), "--output", "x", "--memory-rows", "64")).isEqualTo(64);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("memory-rows");
    }
}
