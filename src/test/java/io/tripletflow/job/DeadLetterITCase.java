package io.tripletflow.job;

import static io.tripletflow.job.JobTestSupport.batchId;
import static io.tripletflow.job.JobTestSupport.computedMillis;
import static io.tripletflow.job.JobTestSupport.header;
import static io.tripletflow.job.JobTestSupport.offlineAnswer;
import static io.tripletflow.job.JobTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.wire.GradientsTopic;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;
import io.tripletflow.testutils.RandomBatches;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Valid and invalid records mixed on one topic: every valid batch is answered, every invalid
 * record lands on the dead-letter topic unchanged (key and value) with its reason and origin in
 * headers, and the job never fails over because of them.
 */
class DeadLetterITCase {
    private static final int PARALLELISM = 2;
    private static final int MAX_ROWS = 32;
    private static final int MAX_RECORD_BYTES = 4096;
    private static final int D = 16;

    @RegisterExtension
    @Order(1)
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = LoopbackMiniCluster.extension(PARALLELISM);

    @TempDir
    Path checkpoints;

    /** One record sent; {@code reason} is null for a valid batch. */
    record Case(String name, byte[] key, byte[] value, String reason) {}

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void answersValidBatchesAndDeadLettersTheRest(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        JobTestSupport.Topics topics = JobTestSupport.Topics.of(run);
        KAFKA.createTopics(2, topics.embeddings(), topics.gradients(), topics.deadLetters());
        KAFKA.createTopics(1, topics.statistics());
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--max-rows", Integer.toString(MAX_ROWS),
                "--max-record-bytes", Integer.toString(MAX_RECORD_BYTES),
                "--on-label-mismatch", "reject");

        List<Case> cases = cases();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            records.add(new ProducerRecord<>(topics.embeddings(), i % 2, cases.get(i).key(), cases.get(i).value()));
        }
        List<RecordMetadata> written = KafkaTestUtils.produceRecords(KAFKA.bootstrapServers(), records);
        Map<String, Case> byOrigin = new HashMap<>();
        for (int i = 0; i < cases.size(); i++) {
            byOrigin.put(written.get(i).partition() + "@" + written.get(i).offset(), cases.get(i));
        }
        List<Case> valid = cases.stream().filter(c -> c.reason() == null).toList();
        List<Case> invalid = cases.stream().filter(c -> c.reason() != null).toList();

        // A failover would be recovered silently under this strategy; the test asserts there was none.
        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "3",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "100 ms");
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(), s -> s);
        JobClient job = env.executeAsync("tripletflow dead letters");
        job.getJobExecutionResult().get(90, TimeUnit.SECONDS);
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isZero();

        List<ConsumerRecord<byte[], byte[]>> answers = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.gradients(), valid.size(), Duration.ofSeconds(30));
        assertThat(answers).as("answers").hasSize(valid.size());
        Map<Long, Case> validById = new HashMap<>();
        valid.forEach(c -> validById.put(batchId(c.value()), c));
        for (ConsumerRecord<byte[], byte[]> r : answers) {
            Case c = validById.remove(batchId(r.value()));
            assertThat(c).as("answer to a valid batch, once").isNotNull();
            assertThat(r.key()).isEqualTo(c.key());
            assertThat(r.value()).as("answer to %s", c.name())
                    .isEqualTo(offlineAnswer(conf, c.key(), c.value(), computedMillis(r.value())));
        }
        assertThat(validById).as("valid batches without an answer").isEmpty();

        List<ConsumerRecord<byte[], byte[]>> dead = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.deadLetters(), invalid.size(), Duration.ofSeconds(30));
        assertThat(dead).as("dead letters").hasSize(invalid.size());
        Map<String, String> reasons = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            String origin = header(r, DeadLetterSerializer.SOURCE_PARTITION_HEADER) + "@"
                    + header(r, DeadLetterSerializer.SOURCE_OFFSET_HEADER);
            Case c = byOrigin.get(origin);
            assertThat(c).as("dead letter from %s: a record that was sent", origin).isNotNull();
            assertThat(header(r, DeadLetterSerializer.SOURCE_TOPIC_HEADER)).isEqualTo(topics.embeddings());
            assertThat(r.key()).as("key of %s", c.name()).isEqualTo(c.key());
            assertThat(r.value()).as("value of %s", c.name()).isEqualTo(c.value());
            assertThat(header(r, DeadLetterSerializer.DETAIL_HEADER)).as("detail of %s", c.name()).isNotBlank();
            assertThat(reasons.put(c.name(), header(r, DeadLetterSerializer.REASON_HEADER)))
                    .as("%s dead-lettered once", c.name()).isNull();
        }
        Map<String, String> expected = new HashMap<>();
        invalid.forEach(c -> expected.put(c.name(), c.reason()));
        assertThat(reasons).as("reason per case").isEqualTo(expected);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void keyThatCannotNameItsGradientTopicIsADeadLetter(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        JobTestSupport.Topics topics = new JobTestSupport.Topics("embeddings-" + run,
                "gradients-" + run + ".{key}", "dead-letters-" + run, "statistics-" + run);
        KAFKA.createTopics(1, topics.embeddings(), topics.deadLetters(), topics.statistics(),
                GradientsTopic.of(topics.gradients()).forKey("trainer-1"));
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics);
        RandomBatches random = new RandomBatches(9);
        long now = System.currentTimeMillis();
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            cases.add(new Case("valid " + i, utf8("trainer-1"), EmbeddingRecords.record(i, 0, now, 8, D,
                    random.pairedLabels(8, 2, 0.0), random.unitEmbeddings(8, D)), null));
        }
        // Legal stream keys, but no Kafka topic may carry these names.
        cases.add(1, new Case("space in key", utf8("trainer 1"), cases.get(0).value(), "bad-key"));
        cases.add(3, new Case("non-ASCII key", utf8("modèle-β"), cases.get(0).value(), "bad-key"));
        cases.add(new Case("key too long", utf8("k".repeat(260)), cases.get(0).value(), "bad-key"));
        List<KV> records = cases.stream().map(c -> new KV(c.key(), c.value())).toList();
        List<RecordMetadata> written = KafkaTestUtils.produce(KAFKA.bootstrapServers(), topics.embeddings(), records);

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "2",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "100 ms");
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(), s -> s);
        JobClient job = env.executeAsync("tripletflow keys that cannot name a topic");
        job.getJobExecutionResult().get(90, TimeUnit.SECONDS);
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isZero();

        assertThat(KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(),
                GradientsTopic.of(topics.gradients()).forKey("trainer-1"), 4, Duration.ofSeconds(30)))
                .as("answers to the valid key").hasSize(4);
        List<ConsumerRecord<byte[], byte[]>> dead = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.deadLetters(), 3, Duration.ofSeconds(30));
        assertThat(dead).hasSize(3);
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            int index = -1;
            for (int i = 0; i < cases.size(); i++) {
                if (Long.toString(written.get(i).offset()).equals(header(r, DeadLetterSerializer.SOURCE_OFFSET_HEADER))) {
                    index = i;
                }
            }
            assertThat(index).isNotNegative();
            Case c = cases.get(index);
            assertThat(c.reason()).as("%s", c.name()).isEqualTo(header(r, DeadLetterSerializer.REASON_HEADER));
            assertThat(r.key()).isEqualTo(c.key());
            assertThat(r.value()).isEqualTo(c.value());
            assertThat(header(r, DeadLetterSerializer.DETAIL_HEADER)).contains("topic");
        }
    }

    /** Valid batches of two keys with every kind of invalid record in between. */
    private static List<Case> cases() {
        RandomBatches random = new RandomBatches(5);
        long now = System.currentTimeMillis();
        byte[] a = utf8("trainer-a");
        byte[] b = utf8("trainer-b");
        List<Case> valid = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            int n = MAX_ROWS - 2 * (i % 4);
            valid.add(new Case("valid " + i, i % 3 == 0 ? b : a, EmbeddingRecords.record(1000 + i, i, now, n, D,
                    random.pairedLabels(n, 4, 0.0), random.unitEmbeddings(n, D)), null));
        }
        byte[] good = valid.get(1).value();
        int n = MAX_ROWS;
        int[] labels = random.pairedLabels(n, 4, 0.0);
        float[] rows = random.unitEmbeddings(n, D);
        int[] mismatched = labels.clone();
        mismatched[5] = labels[4] + 1;
        List<Case> invalid = List.of(
                new Case("bad magic", a, EmbeddingRecords.record("TFGB", 1, 0, 2001, 0, now, n, D, labels, rows), "bad-magic"),
                new Case("bad crc", b, EmbeddingRecords.withBadCrc(good), "bad-crc"),
                new Case("truncated", a, EmbeddingRecords.truncated(good, 30), "truncated"),
                new Case("no value", a, null, "truncated"),
                new Case("cut short", b, EmbeddingRecords.truncated(good, good.length - 8), "size-mismatch"),
                new Case("unknown version", a, EmbeddingRecords.record("TFEB", 2, 0, 2002, 0, now, n, D, labels, rows),
                        "unknown-version"),
                new Case("bad flags", a, EmbeddingRecords.record("TFEB", 1, 1, 2003, 0, now, n, D, labels, rows), "bad-flags"),
                new Case("N over max-rows", b, EmbeddingRecords.record(2004, 0, now, MAX_ROWS + 2, D,
                        random.pairedLabels(MAX_ROWS + 2, 4, 0.0), random.unitEmbeddings(MAX_ROWS + 2, D)),
                        "rows-out-of-bounds"),
                new Case("over max-record-bytes", a, EmbeddingRecords.record(2005, 0, now, 4, 300,
                        random.pairedLabels(4, 2, 0.0), random.unitEmbeddings(4, 300)), "record-too-large"),
                new Case("NaN embedding", b, EmbeddingRecords.withEmbedding(good, 3, 7, Float.NaN), "non-finite-value"),
                new Case("infinite embedding", a, EmbeddingRecords.withEmbedding(good, 0, 0, Float.NEGATIVE_INFINITY),
                        "non-finite-value"),
                new Case("missing key", null, good, "missing-key"),
                new Case("empty key", new byte[0], good, "missing-key"),
                new Case("key not UTF-8", new byte[] {(byte) 0xC3, 0x28}, good, "bad-key"),
                new Case("label mismatch", a, EmbeddingRecords.record(2006, 0, now, n, D, mismatched, rows), "label-mismatch"),
                new Case("N = 0 (seed count 0)", b, EmbeddingRecords.record(2007, 0, now, 0, D, new int[0], new float[0]),
                        "empty-seed-count"));
        List<Case> all = new ArrayList<>();
        for (int i = 0; i < Math.max(valid.size(), invalid.size()); i++) {
            if (i < invalid.size()) all.add(invalid.get(i));
            if (i < valid.size()) all.add(valid.get(i));
        }
        return all;
    }
}
