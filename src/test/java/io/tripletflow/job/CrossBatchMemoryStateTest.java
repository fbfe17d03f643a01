package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.RandomBatches;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cross-batch memory in the mining operator's keyed state (RocksDB): every answer equals the
 * offline engine's with a memory per stream key fed in the same order (memory-less answers differ,
 * so the memory is really used); a failure after a checkpoint (or a restart from a canonical or
 * native savepoint) restores the queue, and the replayed
 * batches get byte-identical answers (but {@code computed}); an invalid batch in the middle leaves
 * the memory as it was; keys do not see each other's memory.
 */
class CrossBatchMemoryStateTest {
    private static final int D = 16;
    private static final String[] KEYS = {"a", "β-trainer"};

    private final RandomBatches random = new RandomBatches(99);
    private long offset;

    record Input(String key, byte[] value) {}

    /** How the state is carried: a checkpoint (a failure), or a savepoint in either format (a restart, an upgrade). */
    enum Snapshot { CHECKPOINT, CANONICAL_SAVEPOINT, NATIVE_SAVEPOINT }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Snapshot.class)
    void theMemoryIsRestoredAndReplaysAnswerTheSame(Snapshot kind) throws Exception {
        Configuration conf = TripletFlowJob.configuration(new Configuration(), new String[] {
                "--backend", "cpu", "--memory-rows", "300", "--memory-warm-up", "1", "--memory-max-age", "6"});
        MiningOptions options = TripletFlowOptions.miningOptions(conf);
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String key = KEYS[i % 3 == 2 ? 1 : 0];
            int n = 16 + 8 * random.nextInt(4);
            inputs.add(new Input(key, EmbeddingRecords.record(random.nextLong(), i, 0, n, D,
                    random.pairedLabels(n, 6, 0.0), random.unitEmbeddings(n, D))));
            if (i == 9) {
                int[] mismatched = random.pairedLabels(16, 6, 0.0);
                mismatched[1] = mismatched[0] + 1;
                inputs.add(new Input("a", EmbeddingRecords.record(random.nextLong(), i, 0, 16, D, mismatched,
                        random.unitEmbeddings(16, D))));
            }
        }
        List<MiningResultSummary> offline = offline(conf, options, inputs);
        assertThat(offline.stream().filter(s -> s.memoryRows > 0).count()).as("batches mined with memory").isGreaterThan(15);
        assertThat(offline.stream().filter(s -> s.memoryNegatives > 0).count()).as("memory negatives selected").isGreaterThan(10);

        // A run without failure.
        var clean = harness(conf, null);
        for (Input in : inputs) {
            process(clean, in);
        }
        List<GradientRecord> cleanAnswers = clean.extractOutputValues();
        assertThat(clean.getSideOutput(MiningFunction.DEAD_LETTERS)).hasSize(1);
        assertAnswersAre(cleanAnswers, offline);
        clean.close();

        // The same input with a failure: checkpoint after 12 records, 6 more processed, then the task dies.
        var first = harness(conf, null);
        for (int i = 0; i < 12; i++) {
            process(first, inputs.get(i));
        }
        OperatorSubtaskState checkpoint = switch (kind) {
            case CHECKPOINT -> first.snapshot(1L, 1L);
            case CANONICAL_SAVEPOINT -> first.snapshotWithLocalState(1L, 1L,
                    SavepointType.savepoint(SavepointFormatType.CANONICAL)).getJobManagerOwnedState();
            case NATIVE_SAVEPOINT -> first.snapshotWithLocalState(1L, 1L,
                    SavepointType.savepoint(SavepointFormatType.NATIVE)).getJobManagerOwnedState();
        };
        for (int i = 12; i < 18; i++) {
            process(first, inputs.get(i));
        }
        List<GradientRecord> beforeFailure = first.extractOutputValues();
        first.close();
        var restored = harness(conf, checkpoint);
        for (int i = 12; i < inputs.size(); i++) {
            process(restored, inputs.get(i));
        }
        List<GradientRecord> afterRestore = restored.extractOutputValues();
        restored.close();
        int answeredBeforeCheckpoint = (int) offline.stream().limit(12).filter(s -> s.answered).count();
        List<MiningResultSummary> replayed = offline.subList(12, offline.size());
        assertAnswersAre(afterRestore, replayed);
        // What was written before the failure and replayed after it is the same, byte for byte but 'computed'.
        for (int i = answeredBeforeCheckpoint; i < beforeFailure.size(); i++) {
            GradientRecord then = beforeFailure.get(i);
            GradientRecord again = afterRestore.get(i - answeredBeforeCheckpoint);
            assertThat(again.batchId).isEqualTo(then.batchId);
            assertThat(withoutComputed(again.value)).isEqualTo(withoutComputed(then.value));
        }
    }

    /**
     * A chunk of the ring not rewritten within state-ttl expires while the key's head lives on: the
     * memory read back must start again, not mine slots whose rows are gone.
     */
    @Test
    void aMemoryWhoseChunksExpiredStartsAgain() throws Exception {
        Configuration conf = TripletFlowJob.configuration(new Configuration(), new String[] {
                "--backend", "cpu", "--memory-rows", "300", "--state-ttl", "1 h", "--statistics-interval", "1 s"});
        var first = harness(conf, null);
        first.setStateTtlProcessingTime(0);
        // 17 batches of 16 rows: chunk 0 (slots 0..255) filled by the first 16, chunk 1 by the 17th.
        for (int i = 0; i < 17; i++) {
            process(first, new Input("a", EmbeddingRecords.record(random.nextLong(), i, 0, 16, D,
                    random.pairedLabels(16, 4, 0.0), random.unitEmbeddings(16, D))));
        }
        first.setStateTtlProcessingTime(Duration.ofMinutes(50).toMillis());
        // Rewrites chunk 1 and the head; chunk 0 was last written 50 minutes ago.
        process(first, new Input("a", EmbeddingRecords.record(random.nextLong(), 17, 0, 16, D,
                random.pairedLabels(16, 4, 0.0), random.unitEmbeddings(16, D))));
        OperatorSubtaskState checkpoint = first.snapshot(1L, 1L);
        first.close();

        var restored = harness(conf, checkpoint);
        restored.setStateTtlProcessingTime(Duration.ofMinutes(70).toMillis());
        process(restored, new Input("a", EmbeddingRecords.record(random.nextLong(), 18, 0, 16, D,
                random.pairedLabels(16, 4, 0.0), random.unitEmbeddings(16, D))));
        restored.setProcessingTime(10_000);
        StatisticsReport report = null;
        for (var r : restored.getSideOutput(MiningFunction.STATISTICS)) {
            report = r.getValue();
        }
        assertThat(report).as("statistics published").isNotNull();
        assertThat(report.json).as("chunk 0 expired: the memory started again, empty")
                .contains("\"memory_rows\":0,");
        restored.close();
    }

    /** What the operator should answer, from the engine and a memory per key, in input order. */
    private List<MiningResultSummary> offline(Configuration conf, MiningOptions options, List<Input> inputs) throws Exception {
        EmbeddingBatchCodec decoder = new EmbeddingBatchCodec(TripletFlowOptions.wireBounds(conf));
        GradientBatchCodec encoder = new GradientBatchCodec(TripletFlowOptions.wireBounds(conf));
        Map<String, CrossBatchMemory> memories = new HashMap<>();
        List<MiningResultSummary> out = new ArrayList<>();
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 1);
             CpuMiningBackend memoryless = new CpuMiningBackend(options.toBuilder().memoryRows(0).build(), 1)) {
            for (Input in : inputs) {
                EmbeddingBatch batch = decoder.decode(in.key.getBytes(StandardCharsets.UTF_8), in.value);
                CrossBatchMemory memory = memories.computeIfAbsent(batch.streamKey(), k -> new CrossBatchMemory(options.memoryRows()));
                MiningResultSummary s = new MiningResultSummary();
                try {
                    MiningResult r = backend.mine(batch, memory.eligible(batch.modelStep(), batch.dimension(),
                            options.memoryWarmUp(), options.memoryMaxAge()));
                    s.answer = encoder.encode(r.toGradientBatch(batch, 0, false));
                    s.memoryRows = r.statistics().memoryRows();
                    s.memoryNegatives = r.statistics().memoryNegatives();
                    s.answered = true;
                    memory.enqueue(batch);
                    if (s.memoryNegatives > 0) {
                        byte[] plain = encoder.encode(memoryless.mine(batch).toGradientBatch(batch, 0, false));
                        assertThat(plain).as("the memory changes the answer").isNotEqualTo(s.answer);
                    }
                } catch (io.tripletflow.engine.InvalidBatchException e) {
                    s.answered = false;
                }
                out.add(s);
            }
        }
        return out;
    }

    static final class MiningResultSummary {
        boolean answered;
        byte[] answer;
        int memoryRows;
        int memoryNegatives;
    }

    private static void assertAnswersAre(List<GradientRecord> got, List<MiningResultSummary> expected) {
        List<byte[]> answers = new ArrayList<>();
        for (MiningResultSummary s : expected) {
            if (s.answered) {
                answers.add(s.answer);
            }
        }
        assertThat(got).hasSize(answers.size());
        for (int i = 0; i < got.size(); i++) {
            assertThat(withoutComputed(got.get(i).value)).as("answer %d", i).isEqualTo(withoutComputed(answers.get(i)));
        }
    }

    /** A gradient record with its {@code computed} field (offset 32) and the CRC that covers it zeroed. */
    private static byte[] withoutComputed(byte[] value) {
        byte[] copy = value.clone();
        java.util.Arrays.fill(copy, 32, 40, (byte) 0);
        java.util.Arrays.fill(copy, copy.length - 4, copy.length, (byte) 0);
        return copy;
    }

    private KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> harness(
            Configuration conf, OperatorSubtaskState snapshot) throws Exception {
        var h = JobTestSupport.miningHarness(conf, snapshot);
        h.open();
        return h;
    }

    private void process(KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> h, Input in)
            throws Exception {
        h.processElement(new KafkaRecord(in.key.getBytes(StandardCharsets.UTF_8), in.value, "embeddings", 0, offset++, 0L), 0L);
    }
}
