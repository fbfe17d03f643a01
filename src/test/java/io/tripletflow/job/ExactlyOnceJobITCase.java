package io.tripletflow.job;

import static io.tripletflow.job.JobTestSupport.batchId;
import static io.tripletflow.job.JobTestSupport.computedMillis;
import static io.tripletflow.job.JobTestSupport.header;
import static io.tripletflow.job.JobTestSupport.offlineAnswer;
import static io.tripletflow.job.JobTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.kafka.KafkaRecord;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.FailOnceAfterCheckpoint;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.RandomBatches;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production job (source, require stream key, key by stream, mining operator, exactly-once
 * sinks) on a MiniCluster against an embedded broker: every batch is answered exactly once, under
 * read_committed, with the bytes the engine gives offline for that batch; also across a failure
 * and restart from a checkpoint.
 */
class ExactlyOnceJobITCase {
    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceJobITCase.class);
    private static final int PARALLELISM = 2;
    private static final int BATCHES = 40;
    private static final int D = 24;

    @RegisterExtension
    @Order(1)
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = LoopbackMiniCluster.extension(PARALLELISM);

    @TempDir
    Path checkpoints;

    @BeforeEach
    void reset() {
        FailOnceAfterCheckpoint.reset();
    }

    /** One batch sent: its stream key and record value. */
    record Sent(String key, long batchId, long modelStep, byte[] value) {}

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void answersEveryBatchExactlyOnceIntoPerKeyTopics(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> keys = List.of("trainer-a", "trainer-b", "trainer-c", "model.7");
        JobTestSupport.Topics topics = new JobTestSupport.Topics("embeddings-" + run,
                "gradients-" + run + ".{key}", "dead-letters-" + run, "statistics-" + run);
        KAFKA.createTopics(2, topics.embeddings());
        KAFKA.createTopics(1, topics.deadLetters(), topics.statistics());
        for (String key : keys) {
            KAFKA.createTopics(1, GradientRecordSerializer.topicFor(topics.gradients(), key));
        }
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--include-mask", "true");
        List<Sent> sent = send(topics.embeddings(), keys, 11);

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "none");
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(), s -> s);
        JobClient job = env.executeAsync("tripletflow exactly-once");
        job.getJobExecutionResult().get(90, TimeUnit.SECONDS);
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isZero();

        int total = 0;
        for (String key : keys) {
            String topic = GradientRecordSerializer.topicFor(topics.gradients(), key);
            List<Sent> expected = sent.stream().filter(s -> s.key().equals(key)).toList();
            List<ConsumerRecord<byte[], byte[]>> got = KafkaTestUtils.consumeCommitted(
                    KAFKA.bootstrapServers(), topic, expected.size(), Duration.ofSeconds(30));
            assertThat(got).as("answers on %s", topic).hasSize(expected.size());
            assertAnswers(conf, expected, got);
            total += got.size();
        }
        assertThat(total).isEqualTo(BATCHES);
        assertThat(KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(), topics.deadLetters(), 0,
                Duration.ofSeconds(10))).as("dead letters").isEmpty();
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void answersEveryBatchExactlyOnceAcrossARestart(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        // A key that is not ASCII: keyBy works on its ISO-8859-1 view, the answer's key must be the UTF-8 bytes.
        List<String> keys = List.of("modèle-β", "trainer-1", "trainer-2");
        JobTestSupport.Topics topics = JobTestSupport.Topics.of(run);
        KAFKA.createTopics(2, topics.embeddings(), topics.gradients());
        KAFKA.createTopics(1, topics.deadLetters(), topics.statistics());
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics);
        List<Sent> sent = send(topics.embeddings(), keys, 23);

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "3",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "200 ms");
        // Throttle and fail right after the source: a finished bounded source would keep
        // checkpoints from completing mid-stream. Mining operator and sinks are the production ones.
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(),
                s -> s.map(new FailOnceAfterCheckpoint(6, 60)).name("inject failure"));
        JobClient job = env.executeAsync("tripletflow exactly-once with a failure");
        job.getJobExecutionResult().get(120, TimeUnit.SECONDS);

        assertThat(FailOnceAfterCheckpoint.FAILED).as("the failure was injected").isTrue();
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isGreaterThanOrEqualTo(1);
        List<ConsumerRecord<byte[], byte[]>> got = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.gradients(), BATCHES, Duration.ofSeconds(30));
        assertThat(got).as("answers under read_committed").hasSize(BATCHES);
        assertAnswers(conf, sent, got);
        List<ConsumerRecord<byte[], byte[]>> everything = KafkaTestUtils.consume(KAFKA.bootstrapServers(),
                topics.gradients(), IsolationLevel.READ_UNCOMMITTED, BATCHES, Duration.ofSeconds(10));
        LOG.info("after the restart read_uncommitted sees {} answers, read_committed {}", everything.size(), got.size());
        assertThat(everything.size()).isGreaterThanOrEqualTo(BATCHES);
    }

    // ---------------------------------------------------------------------------------------

    /** {@link #BATCHES} batches round-robin over the keys, key i on partition i % 2, sizes varying. */
    private static List<Sent> send(String topic, List<String> keys, long seed) {
        RandomBatches random = new RandomBatches(seed);
        long now = System.currentTimeMillis();
        List<Sent> sent = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        Map<String, Long> steps = new HashMap<>();
        for (int i = 0; i < BATCHES; i++) {
            int k = i % keys.size();
            String key = keys.get(k);
            int n = 16 + 4 * (i % 5);
            long id = random.nextLong();
            long step = steps.merge(key, 1L, Long::sum) * 10;
            byte[] value = EmbeddingRecords.record(id, step, now + i, n, D,
                    random.pairedLabels(n, n / 4, 0.0), random.unitEmbeddings(n, D));
            sent.add(new Sent(key, id, step, value));
            records.add(new ProducerRecord<>(topic, k % 2, utf8(key), value));
        }
        KafkaTestUtils.produceRecords(KAFKA.bootstrapServers(), records);
        return sent;
    }

    /**
     * Every answer: keyed by its stream key, headers right, bytes identical to the offline answer
     * (the job's {@code computed} timestamp aside), each batch once, per key in sending order.
     */
    private static void assertAnswers(Configuration conf, List<Sent> sent, List<ConsumerRecord<byte[], byte[]>> got)
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

}
