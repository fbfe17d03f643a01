package io.tripletflow.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code python/tripletflow/torch.py}'s {@code RemoteTripletLoss} hands the job's gradient to
 * autograd correctly: for a deterministic configuration of every miner, the CPU engine answers a
 * few batches here (with masks); {@code python/tests/engine_reference_check.py} then feeds each
 * answer to the module through a fake client and compares the gradient autograd gives (for the
 * embeddings, in float32 and float64, and for a linear layer's weights in front of them) with an
 * independent float64 torch implementation of docs/mining.md ({@code python/tests/reference_loss.py}):
 * relative error at most 1e-5, same loss, same selection mask.
 *
 * <p>Deterministic configurations (docs/mining.md): batch-hard, batch-all and semi-hard make no
 * draws; rank-hard draws only among the candidates beyond {@code neg-num}, and takes exactly the
 * {@code neg-num} hardest when {@code hard_num = neg-num} ({@code hard-ratio 1}) and
 * {@code rand_num = 0} ({@code rand-ratio 0}).
 */
class PythonTorchLossTest {
    private static final Pattern CHECKED = Pattern.compile("checked (\\d+) batches, (\\d+) failure");
    private static final int BATCHES = 3;

    @TempDir
    Path dir;

    /** One configuration: its directory name, its options, and whether rows keep random norms. */
    record Config(String name, MiningOptions options, boolean unitRows, int rows, int dimension, int classes) {}

    static List<Config> configurations() {
        return List.of(
                new Config("rank-hard-seed", MiningOptions.builder()
                        .negNum(4).hardRatio(1.0f).randRatio(0.0f).margin(1.0f)
                        .distance(DistanceKind.NEG_DOT).miner(MinerKind.RANK_HARD)
                        .positives(MiningOptions.PositivesKind.PAIRS).loss(LossKind.DOUBLE_HINGE)
                        .reduction(ReductionKind.SEED).build(), true, 24, 8, 5),
                new Config("rank-hard-all-squared", MiningOptions.builder()
                        .negNum(3).hardRatio(1.0f).randRatio(0.0f).margin(0.5f).lossWeight(2.0f)
                        .distance(DistanceKind.SQUARED_EUCLIDEAN).miner(MinerKind.RANK_HARD)
                        .positives(MiningOptions.PositivesKind.ALL).loss(LossKind.HINGE)
                        .reduction(ReductionKind.MEAN_NONZERO).build(), true, 20, 6, 4),
                new Config("semi-hard-euclidean", MiningOptions.builder()
                        .negNum(2).margin(0.4f)
                        .distance(DistanceKind.EUCLIDEAN).miner(MinerKind.SEMI_HARD)
                        .positives(MiningOptions.PositivesKind.PAIRS).loss(LossKind.HINGE)
                        .reduction(ReductionKind.MEAN).build(), true, 24, 8, 5),
                new Config("batch-hard-cosine-soft", MiningOptions.builder()
                        .margin(0.3f)
                        .distance(DistanceKind.COSINE).miner(MinerKind.BATCH_HARD)
                        .positives(MiningOptions.PositivesKind.ALL).loss(LossKind.SOFT)
                        .reduction(ReductionKind.MEAN).build(), false, 20, 7, 4),
                new Config("batch-hard-seed", MiningOptions.builder()
                        .distance(DistanceKind.NEG_DOT).miner(MinerKind.BATCH_HARD)
                        .positives(MiningOptions.PositivesKind.PAIRS).loss(LossKind.DOUBLE_HINGE)
                        .reduction(ReductionKind.SEED).build(), true, 16, 8, 4),
                new Config("batch-all-double-hinge", MiningOptions.builder()
                        .margin(0.5f)
                        .distance(DistanceKind.SQUARED_EUCLIDEAN).miner(MinerKind.BATCH_ALL)
                        .positives(MiningOptions.PositivesKind.PAIRS).loss(LossKind.DOUBLE_HINGE)
                        .reduction(ReductionKind.MEAN_NONZERO).build(), true, 16, 5, 4));
    }

    @Test
    void autogradThroughTheModuleGivesTheReferenceGradient() throws Exception {
        Python.assumeModules("numpy", "torch");
        EmbeddingBatchCodec embeddings = new EmbeddingBatchCodec();
        GradientBatchCodec gradients = new GradientBatchCodec();
        Random random = new Random(20_240_601L);
        int written = 0;
        for (Config c : configurations()) {
            Path out = Files.createDirectories(dir.resolve(c.name()));
            Files.writeString(out.resolve("options.txt"), optionsText(c.options()), StandardCharsets.UTF_8);
            try (CpuMiningBackend engine = new CpuMiningBackend(c.options(), 1)) {
                for (int b = 1; b <= BATCHES; b++) {
                    EmbeddingBatch batch = batch(c, b, random);
                    MiningResult result = engine.mine(batch);
                    assertThat(result.selectedTriplets()).as("%s batch %d selects triplets", c.name(), b).isPositive();
                    GradientBatch answer = result.toGradientBatch(batch, 0L, true);
                    Files.write(out.resolve("batch-" + b + ".tfeb"), embeddings.encode(batch));
                    Files.write(out.resolve("answer-" + b + ".tfgb"), gradients.encode(answer));
                    written++;
                }
            }
        }
        Python.Result r = Python.run(List.of(Python.PYTHON.toString(),
                        PythonWireInteropTest.root().resolve("python/tests/engine_reference_check.py").toString(),
                        dir.toString()),
                Map.of("PYTHONDONTWRITEBYTECODE", "1"), 300);
        System.out.println(r.output());
        assertThat(r.exit()).as(r.output()).isZero();
        Matcher m = CHECKED.matcher(r.output());
        assertThat(m.find()).as(r.output()).isTrue();
        assertThat(Integer.parseInt(m.group(1))).as("batches compared").isEqualTo(written);
        assertThat(Integer.parseInt(m.group(2))).isZero();
    }

    /** Rows in anchor/positive pairs of one label (no label mismatches), {@code classes} labels. */
    private static EmbeddingBatch batch(Config c, long batchId, Random random) {
        int n = c.rows();
        int d = c.dimension();
        int[] labels = new int[n];
        float[] emb = new float[n * d];
        for (int r = 0; r < n; r++) {
            labels[r] = (r / 2 + random.nextInt(c.classes())) % c.classes();
            if (r % 2 == 1) {
                labels[r] = labels[r - 1];
            }
            double norm = 0;
            for (int k = 0; k < d; k++) {
                float v = (float) random.nextGaussian();
                emb[r * d + k] = v;
                norm += (double) v * v;
            }
            double scale = (c.unitRows() ? 1.0 : 0.5 + random.nextDouble() * 1.5) / Math.sqrt(norm);
            for (int k = 0; k < d; k++) {
                emb[r * d + k] = (float) (emb[r * d + k] * scale);
            }
        }
        return new EmbeddingBatch("reference", batchId, batchId, 0L, n, d, labels, emb);
    }

    /** The options by their spec names, {@code name=value} per line, for the Python reference. */
    private static String optionsText(MiningOptions o) {
        return "neg-num=" + o.negNum() + "\n"
                + "pair-size=" + o.pairSize() + "\n"
                + "hard-ratio=" + o.hardRatio() + "\n"
                + "rand-ratio=" + o.randRatio() + "\n"
                + "margin=" + o.margin() + "\n"
                + "loss-weight=" + o.lossWeight() + "\n"
                + "distance=" + MiningOptions.optionName(o.distance()) + "\n"
                + "miner=" + MiningOptions.optionName(o.miner()) + "\n"
                + "positives=" + MiningOptions.optionName(o.positives()) + "\n"
                + "loss=" + MiningOptions.optionName(o.loss()) + "\n"
                + "reduction=" + MiningOptions.optionName(o.reduction()) + "\n";
    }
}
