package io.tripletflow.job;

import static io.tripletflow.job.JobTestSupport.batchId;
import static io.tripletflow.job.JobTestSupport.computedMillis;
import static io.tripletflow.job.JobTestSupport.offlineAnswer;
import static io.tripletflow.job.JobTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.delivery.Deduplicator;
import io.tripletflow.job.JobTestSupport.Sent;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.FailAfterCheckpoints;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.LoopbackMiniCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The idempotent delivery mode under failures: the job (production operator, at-least-once sinks)
 * fails three times, each time with answers written since its last checkpoint, and replays those
 * batches. The topic then holds duplicates; through the {@link Deduplicator} every batch is seen
 * exactly once, in order per key, and every copy, first or replayed, is the offline engine's
 * answer byte for byte (its {@code computed} timestamp aside).
 */
class IdempotentDeliveryITCase {
    private static final Logger LOG = LoggerFactory.getLogger(IdempotentDeliveryITCase.class);
    private static final int PARALLELISM = 2;
    private static final int BATCHES = 120;
    private static final int FAILURES = 3;

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
        FailAfterCheckpoints.reset();
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void everyBatchSeenOnceThroughTheDeduplicatorAcrossThreeFailures(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> keys = List.of("trainer-a", "trainer-b", "trainer-c", "trainer-d");
        JobTestSupport.Topics topics = JobTestSupport.Topics.of(run);
        KAFKA.createTopics(2, topics.embeddings(), topics.gradients());
        KAFKA.createTopics(1, topics.deadLetters(), topics.statistics());
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--delivery-guarantee", "idempotent", "--checkpoint-interval", "400 ms");
        List<Sent> sent = JobTestSupport.send(KAFKA, topics.embeddings(), keys, BATCHES, 31, true);

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "10",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "100 ms");
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(),
                s -> s.map(new FailAfterCheckpoints(FAILURES, 3, 30)).name("inject failures"));
        JobClient job = env.executeAsync("tripletflow idempotent with failures");
        job.getJobExecutionResult().get(150, TimeUnit.SECONDS);

        assertThat(FailAfterCheckpoints.FAILURES.get()).as("failures injected").isEqualTo(FAILURES);
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isGreaterThanOrEqualTo(FAILURES);

        List<ConsumerRecord<byte[], byte[]>> raw = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.gradients(), BATCHES, Duration.ofSeconds(30));
        Deduplicator seen = new Deduplicator();
        List<ConsumerRecord<byte[], byte[]>> firstCopies = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : raw) {
            if (seen.firstTime(utf8(r.key()), batchId(r.value()))) {
                firstCopies.add(r);
            }
        }
        long duplicates = raw.size() - firstCopies.size();
        LOG.info("{} answers on the topic for {} batches after {} failures: {} duplicates dropped", raw.size(),
                BATCHES, FAILURES, duplicates);
        assertThat(duplicates).as("answers written twice by the replays (the deduplicator must have work)")
                .isPositive();
        assertThat(seen.duplicates() + seen.tooOld()).as("duplicates the deduplicator refused").isEqualTo(duplicates);
        JobTestSupport.assertAnswers(conf, sent, firstCopies);
        for (ConsumerRecord<byte[], byte[]> r : raw) {
            byte[] expected = offlineAnswer(conf, r.key(), sentValue(sent, batchId(r.value())), computedMillis(r.value()));
            assertThat(r.value()).as("copy of the answer to batch %d at offset %d versus the engine offline",
                    batchId(r.value()), r.offset()).isEqualTo(expected);
        }
    }

    private static byte[] sentValue(List<Sent> sent, long batchId) {
        return sent.stream().filter(s -> s.batchId() == batchId).findFirst().orElseThrow().value();
    }
}
