package io.tripletflow.job;

import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.api.common.typeinfo.Types;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.RandomBatches;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/** What the job tests share: the job's configuration, the environment, the offline answer. */
final class JobTestSupport {
    /** Embedding dimension of the batches {@link #send} writes. */
    static final int D = 24;

    private JobTestSupport() {}

    /** One batch sent: its stream key, ids and record value. */
    record Sent(String key, long batchId, long modelStep, byte[] value) {}

    /**
     * {@code batches} batches round-robin over the keys, key i on partition i % 2, sizes varying,
     * model steps rising per key; batch ids random or, with {@code ascendingIds}, 1, 2, 3, ...
     * (what a deduplicating consumer expects).
     */
    static List<Sent> send(EmbeddedKafkaExtension kafka, String topic, List<String> keys, int batches, long seed,
                           boolean ascendingIds) {
        RandomBatches random = new RandomBatches(seed);
        long now = System.currentTimeMillis();
        List<Sent> sent = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        Map<String, Long> steps = new HashMap<>();
        for (int i = 0; i < batches; i++) {
            int k = i % keys.size();
            String key = keys.get(k);
            int n = 16 + 4 * (i % 5);
            long id = ascendingIds ? i + 1 : random.nextLong();
            long step = steps.merge(key, 1L, Long::sum) * 10;
            byte[] value = EmbeddingRecords.record(id, step, now + i, n, D,
                    random.pairedLabels(n, n / 4, 0.0), random.unitEmbeddings(n, D));
            sent.add(new Sent(key, id, step, value));
            records.add(new ProducerRecord<>(topic, k % 2, utf8(key), value));
        }
        KafkaTestUtils.produceRecords(kafka.bootstrapServers(), records);
        return sent;
    }

    /**
     * Every answer: keyed by its stream key, headers right, bytes identical to the offline answer
     * (the job's {@code computed} timestamp aside), each batch once, per key in sending order.
     */
    static void assertAnswers(Configuration conf, List<Sent> sent, List<ConsumerRecord<byte[], byte[]>> got)
            throws Exception {
        Map<Long, Sent> byId = new LinkedHashMap<>();
        for (Sent s : sent) {
            byId.put(s.batchId(), s);
        }
        Map<String, List<Long>> orderPerKey = new HashMap<>();
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : got) {
            long id = batchId(r.value());
            Sent s = byId.remove(id);
            assertThat(s).as("answer to batch %d: a batch that was sent, answered once", id).isNotNull();
            assertThat(utf8(r.key())).as("record key of batch %d", id).isEqualTo(s.key());
            assertThat(header(r, GradientRecordSerializer.BATCH_ID_HEADER)).isEqualTo(Long.toString(s.batchId()));
            assertThat(header(r, GradientRecordSerializer.MODEL_STEP_HEADER)).isEqualTo(Long.toString(s.modelStep()));
            long computed = computedMillis(r.value());
            assertThat(computed).as("computed").isBetween(EmbeddingRecords.created(s.value()) - 40, now);
            byte[] expected = offlineAnswer(conf, utf8(s.key()), s.value(), computed);
            assertThat(r.value()).as("answer to batch %d of '%s' versus the engine offline", id, s.key())
                    .isEqualTo(expected);
            orderPerKey.computeIfAbsent(s.key(), x -> new ArrayList<>()).add(id);
        }
        assertThat(byId).as("batches without an answer").isEmpty();
        for (Map.Entry<String, List<Long>> e : orderPerKey.entrySet()) {
            List<Long> inOrder = sent.stream().filter(s -> s.key().equals(e.getKey())).map(Sent::batchId).toList();
            assertThat(e.getValue()).as("answers of '%s' in sending order", e.getKey()).isEqualTo(inOrder);
        }
    }

    /** Topic names of one test run. */
    record Topics(String embeddings, String gradients, String deadLetters, String statistics) {
        static Topics of(String run) {
            return new Topics("embeddings-" + run, "gradients-" + run, "dead-letters-" + run, "statistics-" + run);
        }
    }

    /**
     * The job's configuration as {@code flink run ... --key value} would give it: the run's topics,
     * group and transactional ids, then {@code args} ({@code "--neg-num", "4"}, ...) on top.
     */
    static Configuration jobConfiguration(String bootstrapServers, String run, Topics topics, String... args) {
        return jobConfiguration(new Configuration(), bootstrapServers, run, topics, args);
    }

    /** As {@link #jobConfiguration(String, String, Topics, String...)} on a cluster whose configuration is {@code cluster}. */
    static Configuration jobConfiguration(Configuration cluster, String bootstrapServers, String run, Topics topics,
                                          String... args) {
        List<String> all = new ArrayList<>(List.of(
                "--bootstrap-servers", bootstrapServers,
                "--embeddings-topics", topics.embeddings(),
                "--gradients-topic", topics.gradients(),
                "--dead-letter-topic", topics.deadLetters(),
                "--statistics-topic", topics.statistics(),
                "--group-id", "tf-" + run,
                "--transactional-id-prefix", "tf-" + run,
                "--backend", "cpu",
                "--checkpoint-interval", "200 ms"));
        all.addAll(List.of(args));
        return TripletFlowJob.configuration(cluster, all.toArray(new String[0]));
    }

    /** A harness around the job's mining operator on RocksDB, restored from {@code snapshot} if given, not opened. */
    static KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord> miningHarness(
            Configuration conf, OperatorSubtaskState snapshot) throws Exception {
        MiningFunction function = new MiningFunction(MiningFunction.Settings.of(conf), TripletFlowOptions.miningOptions(conf));
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(function), KafkaRecord::keyAsString, Types.STRING);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        if (snapshot != null) {
            h.initializeState(snapshot);
        }
        return h;
    }

    /**
     * An environment for the test's MiniCluster: RocksDB, file checkpoints into {@code checkpointDir},
     * no Kryo fallback (every type the job ships must be a POJO or have its own serializer), and
     * any further Flink options ({@code key, value, ...}). Checkpointing is left to the job.
     */
    static StreamExecutionEnvironment environment(Path checkpointDir, int parallelism, String... flinkOptions) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        for (int i = 0; i < flinkOptions.length; i += 2) {
            conf.setString(flinkOptions[i], flinkOptions[i + 1]);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        return env;
    }

    /**
     * What {@code bin/tripletflow compute} gives for the record offline (fresh CPU backend, one
     * thread), encoded, with the job's {@code computed} timestamp so that every byte, the CRC
     * included, must match.
     */
    static byte[] offlineAnswer(Configuration conf, byte[] key, byte[] value, long computedMillis) throws Exception {
        EmbeddingBatch batch = new EmbeddingBatchCodec(TripletFlowOptions.wireBounds(conf)).decode(key, value);
        try (CpuMiningBackend backend = new CpuMiningBackend(TripletFlowOptions.miningOptions(conf), 1)) {
            MiningResult result = backend.mine(batch);
            return new GradientBatchCodec(TripletFlowOptions.wireBounds(conf)).encode(
                    result.toGradientBatch(batch, computedMillis, conf.get(TripletFlowOptions.INCLUDE_MASK)));
        }
    }

    /** The {@code computed} field (offset 32) of a gradient record. */
    static long computedMillis(byte[] gradientRecord) {
        return ByteBuffer.wrap(gradientRecord).order(ByteOrder.LITTLE_ENDIAN).getLong(32);
    }

    /** The {@code batch id} field (offset 8) of an embedding or gradient record. */
    static long batchId(byte[] record) {
        return ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
    }

    /** A header's value as UTF-8 text, or null when absent. */
    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static String utf8(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * How often a task of the job was (re)started beyond its first attempt: the highest attempt
     * number over all subtasks (0 = no failover happened), read from the job's execution graph.
     */
    static int failovers(MiniCluster cluster, JobID job) throws Exception {
        AccessExecutionGraph graph = cluster.getExecutionGraph(job).get(30, TimeUnit.SECONDS);
        int most = 0;
        for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
            most = Math.max(most, v.getCurrentExecutionAttempt().getAttemptNumber());
        }
        return most;
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
