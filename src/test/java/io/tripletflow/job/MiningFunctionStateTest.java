package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.RandomBatches;
import io.tripletflow.wire.EmbeddingBatchCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mining operator's keyed state on RocksDB through Flink's operator test harness: cumulative
 * statistics per stream key across a snapshot and a restore, the statistics published by the
 * processing-time timer, the staleness policy, the 'all easy' flag and the bounded label pairs.
 */
class MiningFunctionStateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long INTERVAL = 10_000;
    private static final int D = 16;
    /** A stream key that is not ASCII: the operator keys by its ISO-8859-1 view, reports must use the UTF-8 one. */
    private static final String B = "β-trainer";

    private final List<KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord>> open = new ArrayList<>();
    private RandomBatches random;
    private long time;
    private long offset;

    @BeforeEach
    void setUp() {
        random = new RandomBatches(42);
        // The operator stamps batches with the wall clock and schedules on the timer service: keep them together.
        time = System.currentTimeMillis();
    }

    @AfterEach
    void closeHarnesses() throws Exception {
        for (var h : open) {
            h.close();
        }
    }

    /** Offline expectations of one stream key. */
    static final class Expected {
        long batches;
        long rows;
        long triplets;
        long hard;
        long random;
        long nonZero;
        long deadLetters;
        long stale;
        long dropped;
        double lossSum;
        double decayedLoss;
        long newestStep = Long.MIN_VALUE;
        final long[] negativeHistogram = new long[16];
    }

    @ParameterizedTest(name = "on-stale = {0}")
    @ValueSource(strings = {"answer", "drop"})
    void statisticsSurviveSnapshotAndRestore(String onStale) throws Exception {
        Configuration conf = conf("--max-staleness", "2", "--on-stale", onStale, "--on-label-mismatch", "reject");
        boolean drop = onStale.equals("drop");
        Map<String, Expected> expected = new HashMap<>();
        List<byte[]> answersExpected = new ArrayList<>();

        var first = harness(conf, null);
        // Key a: 10, 11, 7 (4 behind: stale), a record with a bad CRC.
        feed(first, conf, expected, answersExpected, "a", 10, false, drop);
        feed(first, conf, expected, answersExpected, "a", 11, false, drop);
        feed(first, conf, expected, answersExpected, "a", 7, true, drop);
        deadLetter(first, expected, "a", EmbeddingRecords.withBadCrc(batch(11, 20)), "bad-crc");
        // Key B: 5, 2 (3 behind: stale).
        feed(first, conf, expected, answersExpected, B, 5, false, drop);
        feed(first, conf, expected, answersExpected, B, 2, true, drop);
        assertAnswers(first, conf, answersExpected);
        assertThat(first.numProcessingTimeTimers()).as("one publication timer per key").isEqualTo(2);
        OperatorSubtaskState snapshot = first.snapshot(1L, time);
        first.close();
        open.remove(first);

        var second = harness(conf, snapshot);
        assertThat(second.numProcessingTimeTimers()).as("timers restored").isEqualTo(2);
        answersExpected.clear();
        // Key a: 8 is stale only if the newest step (11) survived the restore; then 12, then a label mismatch.
        feed(second, conf, expected, answersExpected, "a", 8, true, drop);
        feed(second, conf, expected, answersExpected, "a", 12, false, drop);
        int n = 12;
        int[] labels = random.pairedLabels(n, 3, 0.0);
        labels[3] = labels[2] + 1;
        observeStep(expected, "a", 12);
        deadLetter(second, expected, "a",
                EmbeddingRecords.record(random.nextLong(), 12, time, n, D, labels, random.unitEmbeddings(n, D)),
                "label-mismatch");
        // Key B: 6 (newest), 4 (2 behind: not stale).
        feed(second, conf, expected, answersExpected, B, 6, false, drop);
        feed(second, conf, expected, answersExpected, B, 4, false, drop);
        assertAnswers(second, conf, answersExpected);

        Map<String, JsonNode> reports = publish(second);
        assertThat(reports).containsOnlyKeys("a", B);
        for (String key : List.of("a", B)) {
            JsonNode r = reports.get(key);
            Expected e = expected.get(key);
            assertThat(r.get("stream_key").asText()).isEqualTo(key);
            assertThat(r.get("published_ms").asLong()).isEqualTo(time);
            assertThat(r.get("batches").asLong()).as("%s batches", key).isEqualTo(e.batches);
            assertThat(r.get("rows").asLong()).as("%s rows", key).isEqualTo(e.rows);
            assertThat(r.get("triplets").asLong()).as("%s triplets", key).isEqualTo(e.triplets);
            assertThat(r.get("hard_selected").asLong()).isEqualTo(e.hard);
            assertThat(r.get("random_selected").asLong()).isEqualTo(e.random);
            assertThat(r.get("nonzero_hinge_terms").asLong()).isEqualTo(e.nonZero);
            assertThat(r.get("dead_letters").asLong()).as("%s dead letters", key).isEqualTo(e.deadLetters);
            assertThat(r.get("stale_batches").asLong()).as("%s stale", key).isEqualTo(e.stale);
            assertThat(r.get("dropped_stale_batches").asLong()).as("%s dropped", key).isEqualTo(e.dropped);
            assertThat(r.get("newest_model_step").asLong()).isEqualTo(e.newestStep);
            assertThat(r.get("mean_loss").asDouble()).isCloseTo(e.lossSum / e.batches, within(1e-5 * Math.abs(e.lossSum / e.batches)));
            assertThat(r.get("decayed").get("loss").asDouble()).isCloseTo(e.decayedLoss, within(1e-5 * Math.abs(e.decayedLoss)));
            assertThat(r.get("all_easy").asBoolean()).isFalse();
            long[] histogram = longs(r.get("histogram").get("dis_an"));
            assertThat(histogram).as("%s histogram of dis(a,n)", key).isEqualTo(e.negativeHistogram);
            assertThat(r.get("hardest_label_pairs").size()).isBetween(1, 10);
        }
        assertThat(expected.get("a").stale).isEqualTo(2);
        assertThat(expected.get(B).stale).isEqualTo(1);
    }

    @Test
    void flagsAllEasyAfterConsecutiveBatchesWithoutANonZeroHinge() throws Exception {
        Configuration conf = conf("--all-easy-batches", "3");
        var h = harness(conf, null);
        byte[] easy = easyBatch();
        byte[] hard = batch(1, 16);
        MiningOptionsCheck.requireHinges(conf, easy, 0);
        MiningOptionsCheck.requireHinges(conf, hard, 1);

        process(h, "k", easy);
        process(h, "k", easy);
        JsonNode r = publish(h).get("k");
        assertThat(r.get("consecutive_all_easy_batches").asInt()).isEqualTo(2);
        assertThat(r.get("all_easy").asBoolean()).isFalse();

        process(h, "k", easy);
        r = publish(h).get("k");
        assertThat(r.get("consecutive_all_easy_batches").asInt()).isEqualTo(3);
        assertThat(r.get("all_easy").asBoolean()).as("3 easy batches in a row").isTrue();
        assertThat(r.get("batches").asLong()).isEqualTo(3);
        assertThat(r.get("triplets").asLong()).isZero();

        process(h, "k", hard);
        r = publish(h).get("k");
        assertThat(r.get("all_easy").asBoolean()).as("a batch with non-zero hinges clears the flag").isFalse();
        assertThat(r.get("consecutive_all_easy_batches").asInt()).isZero();
        assertThat(h.extractOutputValues()).hasSize(4);
    }

    @Test
    void aDeadLetteredBatchDoesNotMoveTheNewestModelStep() throws Exception {
        Configuration conf = conf("--max-staleness", "5", "--on-stale", "drop");
        var h = harness(conf, null);
        process(h, "k", batch(10, 8));
        int n = 8;
        int[] mismatched = random.pairedLabels(n, 4, 0.0);
        mismatched[1] = mismatched[0] + 100;
        byte[] farFuture = EmbeddingRecords.record(random.nextLong(), 1_000_000, time, n, D, mismatched, random.unitEmbeddings(n, D));
        process(h, "k", farFuture);
        process(h, "k", batch(11, 8));

        assertThat(h.getSideOutput(MiningFunction.DEAD_LETTERS)).hasSize(1);
        assertThat(h.extractOutputValues()).as("the batch after the invalid one is answered, not dropped as stale").hasSize(2);
        JsonNode r = publish(h).get("k");
        assertThat(r.get("newest_model_step").asLong()).isEqualTo(11);
        assertThat(r.get("stale_batches").asLong()).isZero();
        assertThat(r.get("dead_letters").asLong()).isEqualTo(1);
    }

    @Test
    void keepsAtMostTopLabelPairs() throws Exception {
        int top = 3;
        Configuration conf = conf("--top-label-pairs", Integer.toString(top));
        var h = harness(conf, null);
        Map<String, Long> fed = new HashMap<>();
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            int n = 32;
            byte[] value = EmbeddingRecords.record(random.nextLong(), i, time, n, D,
                    random.pairedLabels(n, 12, 0.0), random.unitEmbeddings(n, D));
            process(h, "k", value);
            MiningResult result = MiningOptionsCheck.mine(conf, "k", value);
            for (int[] p : result.statistics().hardestLabelPairs(top)) {
                fed.merge(p[0] + "->" + p[1], (long) p[2], Long::sum);
            }
            for (int[] p : result.statistics().hardestLabelPairs(Integer.MAX_VALUE)) {
                distinct.add(p[0] + "->" + p[1]);
            }
        }
        assertThat(distinct.size()).as("the batches have more label pairs than are kept").isGreaterThan(2 * top);
        assertThat(fed.size()).as("more pairs were offered than are kept").isGreaterThan(top);

        JsonNode pairs = publish(h).get("k").get("hardest_label_pairs");
        assertThat(pairs.size()).isEqualTo(top);
        long previous = Long.MAX_VALUE;
        for (JsonNode p : pairs) {
            String pair = p.get("pair").asText();
            long count = p.get("count").asLong();
            assertThat(pair).matches("-?\\d+->-?\\d+");
            assertThat(fed).as("kept pair %s was offered", pair).containsKey(pair);
            assertThat(count).as("count of %s", pair).isPositive().isLessThanOrEqualTo(fed.get(pair));
            assertThat(count).as("ranked").isLessThanOrEqualTo(previous);
            previous = count;
        }
    }

    // ---------------------------------------------------------------------------------------

    private static Configuration conf(String... args) {
        List<String> all = new ArrayList<>(List.of("--backend", "cpu", "--statistics-interval", INTERVAL + " ms"));
        all.addAll(List.of(args));
        return TripletFlowJob.configuration(new Configuration(), all.toArray(new String[0]));
    }

    /** A harness around a fresh production operator on RocksDB, restored from {@code snapshot} if given. */
    private KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> harness(
            Configuration conf, OperatorSubtaskState snapshot) throws Exception {
        var h = JobTestSupport.miningHarness(conf, snapshot);
        open.add(h);
        h.setProcessingTime(time);
        h.open();
        assertThat(h.getOperator().getKeyedStateBackend().getClass().getSimpleName()).contains("RocksDB");
        return h;
    }

    private byte[] batch(long step, int n) {
        return EmbeddingRecords.record(random.nextLong(), step, time, n, D,
                random.pairedLabels(n, Math.max(2, n / 4), 0.0), random.unitEmbeddings(n, D));
    }

    /** Rows of a pair coincide and pairs are orthogonal: with neg-dot and margin 1 no hinge is positive. */
    private byte[] easyBatch() {
        int n = 8;
        int d = 8;
        int[] labels = new int[n];
        float[] rows = new float[n * d];
        for (int i = 0; i < n; i++) {
            labels[i] = i / 2;
            rows[i * d + i / 2] = 1f;
        }
        return EmbeddingRecords.record(random.nextLong(), 1, time, n, d, labels, rows);
    }

    private void process(KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> h, String key,
                         byte[] value) throws Exception {
        h.processElement(new KafkaRecord(key.getBytes(StandardCharsets.UTF_8), value, "embeddings", 0, offset++, time),
                time);
    }

    private static void observeStep(Map<String, Expected> expected, String key, long step) {
        Expected e = expected.computeIfAbsent(key, k -> new Expected());
        e.newestStep = Math.max(e.newestStep, step);
    }

    /** Sends a valid batch of {@code key} at {@code step} and books what the operator should do with it. */
    private void feed(KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> h, Configuration conf,
                      Map<String, Expected> expected, List<byte[]> answers, String key, long step, boolean stale,
                      boolean drop) throws Exception {
        int n = 8 + 2 * random.nextInt(8);
        byte[] value = batch(step, n);
        process(h, key, value);
        Expected e = expected.computeIfAbsent(key, k -> new Expected());
        e.newestStep = Math.max(e.newestStep, step);
        if (stale) {
            e.stale++;
            if (drop) {
                e.dropped++;
                return;
            }
        }
        answers.add(value);
        MiningResult r = MiningOptionsCheck.mine(conf, key, value);
        e.batches++;
        e.rows += n;
        e.triplets += r.statistics().triplets();
        e.hard += r.statistics().hardSelected();
        e.random += r.statistics().randomSelected();
        e.nonZero += r.nonZeroHinges();
        e.lossSum += r.statistics().loss();
        e.decayedLoss = e.batches == 1 ? r.statistics().loss() : 0.9 * e.decayedLoss + 0.1 * r.statistics().loss();
        long[] histogram = r.statistics().negativeHistogram();
        for (int b = 0; b < histogram.length; b++) {
            e.negativeHistogram[b] += histogram[b];
        }
    }

    private void deadLetter(KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> h,
                            Map<String, Expected> expected, String key, byte[] value, String reason) throws Exception {
        int before = h.getSideOutput(MiningFunction.DEAD_LETTERS) == null ? 0 : h.getSideOutput(MiningFunction.DEAD_LETTERS).size();
        long at = offset;
        process(h, key, value);
        var letters = new ArrayList<>(h.getSideOutput(MiningFunction.DEAD_LETTERS));
        assertThat(letters).hasSize(before + 1);
        DeadLetter d = letters.get(letters.size() - 1).getValue();
        assertThat(d.reason).isEqualTo(reason);
        assertThat(d.value).isEqualTo(value);
        assertThat(d.key).isEqualTo(key.getBytes(StandardCharsets.UTF_8));
        assertThat(d.sourceOffset).isEqualTo(at);
        expected.computeIfAbsent(key, k -> new Expected()).deadLetters++;
    }

    /** The answers since the last call are the offline answers, in order. */
    private static void assertAnswers(KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> h,
                                      Configuration conf, List<byte[]> expectedValues) throws Exception {
        List<GradientRecord> got = h.extractOutputValues();
        assertThat(got).hasSize(expectedValues.size());
        for (int i = 0; i < got.size(); i++) {
            byte[] in = expectedValues.get(i);
            GradientRecord r = got.get(i);
            assertThat(r.batchId).isEqualTo(JobTestSupport.batchId(in));
            assertThat(r.value).isEqualTo(JobTestSupport.offlineAnswer(conf, r.streamKey.getBytes(StandardCharsets.UTF_8),
                    in, JobTestSupport.computedMillis(r.value)));
        }
    }

    /** Advances processing time by one interval and returns the reports published then, by key. */
    private Map<String, JsonNode> publish(KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> h)
            throws Exception {
        var queue = h.getSideOutput(MiningFunction.STATISTICS);
        if (queue != null) {
            queue.clear();
        }
        time += INTERVAL;
        h.setProcessingTime(time);
        Map<String, JsonNode> reports = new HashMap<>();
        for (StreamRecord<StatisticsReport> r : h.getSideOutput(MiningFunction.STATISTICS)) {
            reports.put(r.getValue().streamKey, JSON.readTree(r.getValue().json));
        }
        return reports;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    /** The engine offline, as the operator would run it. */
    static final class MiningOptionsCheck {
        static MiningResult mine(Configuration conf, String key, byte[] value) throws Exception {
            EmbeddingBatch batch = new EmbeddingBatchCodec(TripletFlowOptions.wireBounds(conf)).decode(key, value);
            try (CpuMiningBackend backend = new CpuMiningBackend(TripletFlowOptions.miningOptions(conf), 1)) {
                return backend.mine(batch);
            }
        }

        static void requireHinges(Configuration conf, byte[] value, int atLeast) throws Exception {
            int nonZero = mine(conf, "k", value).nonZeroHinges();
            if (atLeast == 0) {
                assertThat(nonZero).as("an easy batch").isZero();
            } else {
                assertThat(nonZero).as("a hard batch").isGreaterThanOrEqualTo(atLeast);
            }
        }
    }
}
