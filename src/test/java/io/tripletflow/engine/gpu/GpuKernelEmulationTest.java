package io.tripletflow.engine.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.Anchors;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.MiningStep;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.engine.miner.Miner;
import io.tripletflow.engine.TripletTerms;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.random.CounterRandom;
import io.tripletflow.testutils.RandomBatches;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA kernels, run on the CPU by a host emulation ({@code src/test/cuda/host_emulation.cpp}:
 * the .cu file compiled with g++, blocks one at a time, threads meeting at {@code __syncthreads}),
 * then answered by the GPU backend's own host code, must give what the CPU backend gives. This
 * checks the kernels' logic and arithmetic where there is no GPU; it does not check the device,
 * the driver or JCuda (GpuBackendContractTest does, on a GPU).
 */
class GpuKernelEmulationTest {
    @TempDir
    static Path dir;
    static Path emulator;

    @BeforeAll
    static void buildTheEmulator() throws Exception {
        assumeTrue(onPath("g++"), "g++ is not installed: the kernels' host emulation cannot be built");
        emulator = dir.resolve("host_emulation");
        Process p = new ProcessBuilder("g++", "-O1", "-std=c++20", "-pthread", "-ffp-contract=off", "-o",
                emulator.toString(), "src/test/cuda/host_emulation.cpp").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
    }

    static Stream<MiningOptions> combinations() {
        List<MiningOptions> all = new ArrayList<>();
        ReductionKind[] reductions = ReductionKind.values();
        int r = 0;
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                for (LossKind loss : LossKind.values()) {
                    all.add(MiningOptions.builder().distance(distance).miner(miner).loss(loss)
                            .reduction(reductions[r++ % reductions.length]).negNum(3).hardRatio(0.34f).randRatio(0.67f)
                            .margin(distance == DistanceKind.NEG_DOT ? 0.5f : 1.0f).lossWeight(1.5f)
                            .onLabelMismatch(MiningOptions.LabelMismatchPolicy.SKIP_ANCHOR).build());
                }
            }
        }
        // The streaming defaults with many candidates per anchor (the random draws matter).
        MiningOptions.LabelMismatchPolicy skip = MiningOptions.LabelMismatchPolicy.SKIP_ANCHOR;
        all.add(MiningOptions.builder().negNum(4).onLabelMismatch(skip).build());
        all.add(MiningOptions.builder().negNum(2).hardRatio(0.5f).randRatio(3f).margin(2f).onLabelMismatch(skip).build());
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("combinations")
    void kernelsAnswerWhatTheCpuBackendAnswers(MiningOptions options) throws Exception {
        RandomBatches random = new RandomBatches(options.toString().hashCode());
        for (int round = 0; round < 2; round++) {
            int n = random.pickInt(7, 20, 33, 40);
            int d = random.pickInt(1, 5, 17, 32);
            EmbeddingBatch batch = RandomBatches.withIdentity(random.batch(
                    random.pairedLabels(n, Math.max(2, n / 5), 0.1), random.genericEmbeddings(n, d, 0.5, 2.0), d),
                    "emulated", 1000 + round);
            MiningResult expected;
            try (CpuMiningBackend cpu = new CpuMiningBackend(options, 1)) {
                expected = cpu.mine(batch);
                assertAgrees(options, batch, expected, emulate(options, batch));
            }
        }
    }

    private static void assertAgrees(MiningOptions options, EmbeddingBatch batch, MiningResult expected, MiningResult got) {
        int n = batch.rows();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertThat(got.isSelected(i, j)).as("mask[%d][%d]", i, j).isEqualTo(expected.isSelected(i, j));
            }
        }
        assertThat(got.selectedTriplets()).isEqualTo(expected.selectedTriplets());
        assertThat(got.nonZeroHinges()).isEqualTo(expected.nonZeroHinges());
        assertThat(got.statistics().toJson()).isEqualTo(expected.statistics().toJson());
        assertThat(got.loss()).isEqualTo(expected.loss());
        float max = 0f;
        for (int k = 0; k < n * batch.dimension(); k++) max = Math.max(max, Math.abs(expected.gradients()[k]));
        for (int k = 0; k < n * batch.dimension(); k++) {
            assertThat(got.gradients()[k]).as("gradient %d", k)
                    .isCloseTo(expected.gradients()[k], org.assertj.core.data.Offset.offset(2e-5f * max + 1e-30f));
        }
    }

    /** The shared mining step with the GPU backend's kernels in the emulator and its host part from GpuMiningBackend. */
    private static MiningResult emulate(MiningOptions options, EmbeddingBatch batch) throws Exception {
        return emulate(options, batch, MemoryRows.none());
    }

    private static MiningResult emulate(MiningOptions options, EmbeddingBatch batch, MemoryRows memory) throws Exception {
        try (EmulatedGpuStep step = new EmulatedGpuStep(options)) {
            return step.mine(batch, memory);
        }
    }

    /** Every distance x miner with a cross-batch memory (memory positives stay on the CPU). */
    static Stream<MiningOptions> memoryCombinations() {
        List<MiningOptions> all = new ArrayList<>();
        for (DistanceKind distance : DistanceKind.values()) {
            for (MinerKind miner : MinerKind.values()) {
                LossKind loss = LossKind.values()[(distance.ordinal() + miner.ordinal()) % LossKind.values().length];
                all.add(MiningOptions.builder().distance(distance).miner(miner).loss(loss)
                        .reduction(ReductionKind.values()[miner.ordinal() % ReductionKind.values().length])
                        .negNum(3).hardRatio(0.34f).randRatio(0.67f).margin(distance == DistanceKind.NEG_DOT ? 0.5f : 1.0f)
                        .memoryRows(48).onLabelMismatch(MiningOptions.LabelMismatchPolicy.SKIP_ANCHOR).build());
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("memoryCombinations")
    void kernelsMineTheMemoryAsTheCpuBackendDoes(MiningOptions options) throws Exception {
        assertThat(GpuMiningBackend.unsupported(options)).isNull();
        RandomBatches random = new RandomBatches(options.toString().hashCode() + 1);
        int d = random.pickInt(3, 16);
        io.tripletflow.engine.memory.CrossBatchMemory memory = new io.tripletflow.engine.memory.CrossBatchMemory(48);
        for (int b = 0; b < 3; b++) {
            memory.enqueue(random.batch(random.pairedLabels(20, 5, 0), random.genericEmbeddings(20, d, 0.5, 2.0), d));
        }
        EmbeddingBatch batch = RandomBatches.withIdentity(random.batch(random.pairedLabels(20, 5, 0.1),
                random.genericEmbeddings(20, d, 0.5, 2.0), d), "emulated", 77);
        MemoryRows rows = memory.eligible(batch.modelStep(), d, 0, -1);
        assertThat(rows.count()).isEqualTo(48);
        try (CpuMiningBackend cpu = new CpuMiningBackend(options, 1)) {
            MiningResult expected = cpu.mine(batch, rows);
            assertThat(expected.statistics().memoryNegatives()).as("memory negatives selected").isPositive();
            assertAgrees(options, batch, expected, emulate(options, batch, rows));
        }
    }

    private static final class EmulatedGpuStep extends MiningStep {
        EmulatedGpuStep(MiningOptions options) {
            super(options);
        }

        @Override
        protected void runKernels(EmbeddingBatch batch, MemoryRows memory, Anchors anchors, TripletTerms terms,
                                  float[] gradients) {
            try {
                emulateKernels(options, batch, memory, anchors, terms, gradients);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public String describe() {
            return "gpu (emulated)";
        }

        @Override
        public void close() {}
    }

    /** As GpuMiningBackend uploads it: the batch's rows, then the memory's, as one problem of n columns. */
    private static void emulateKernels(MiningOptions options, EmbeddingBatch batch, MemoryRows memory, Anchors anchors,
                                       TripletTerms terms, float[] gradients) throws Exception {
        int rows = batch.rows();
        int m = memory.count();
        int n = rows + m;
        int d = batch.dimension();
        int anchorCount = anchors.count();
        int capacity = GpuMiningBackend.capacity(Miner.of(options.miner()), options, n);
        ByteBuffer in = ByteBuffer.allocate(40 + 4 + 8 + 4 * n + 4 * anchorCount + 4 * n * d).order(ByteOrder.LITTLE_ENDIAN);
        in.putInt(n).putInt(d).putInt(anchorCount).putInt(options.distance().ordinal())
                .putInt(options.miner().ordinal()).putInt(options.loss().ordinal())
                .putInt(options.negNum()).putInt(options.hardNum()).putInt(options.randNum()).putInt(rows)
                .putFloat(options.margin())
                .putLong(CounterRandom.batchKey(options.rngSeed(), batch.streamKey(), batch.batchId()));
        int[] labels = new int[n];
        System.arraycopy(batch.labels(), 0, labels, 0, rows);
        for (int j = 0; j < m; j++) labels[rows + j] = memory.label(j);
        for (int label : labels) in.putInt(label);
        for (int k = 0; k < anchorCount; k++) in.putInt(anchors.get(k));
        for (float v : batch.embeddings()) in.putFloat(v);
        for (int i = 0; i < m * d; i++) in.putFloat(memory.embeddings()[i]);
        Path input = Files.createTempFile(dir, "batch", ".bin");
        Path output = Files.createTempFile(dir, "answer", ".bin");
        Files.write(input, in.array());
        Process p = new ProcessBuilder(emulator.toString(), Integer.toString(capacity), input.toString(), output.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        ByteBuffer out = ByteBuffer.wrap(Files.readAllBytes(output)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(out.getInt()).isEqualTo(capacity);
        int a = anchorCount;
        ByteBuffer counts = slice(out, 4, 4L * a);
        ByteBuffer candidates = slice(out, 4 + 4L * a, 4L * a);
        ByteBuffer selected = slice(out, 4 + 8L * a, 4L * a * capacity);
        ByteBuffer records = slice(out, 4 + 8L * a + 4L * a * capacity, 12L * a * capacity);
        ByteBuffer product = slice(out, 4 + 8L * a + 16L * a * capacity, 4L * rows * d);
        GpuMiningBackend.feed(terms, anchors, labels, capacity, counts.asIntBuffer(), candidates.asIntBuffer(),
                selected.asIntBuffer(), records.asFloatBuffer());
        product.asFloatBuffer().get(gradients, 0, rows * d);
    }

    private static ByteBuffer slice(ByteBuffer b, long offset, long length) {
        return b.duplicate().position((int) offset).limit((int) (offset + length)).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static boolean onPath(String tool) {
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(p, tool))) return true;
        }
        return false;
    }
}
