package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.wire.GradientsTopic;
import io.tripletflow.job.JobTestSupport.Sent;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.FailAfterCheckpoints;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.KafkaTestUtils;
import java.nio.file.Path;
import java.time.Duration;
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
 * The production job in the transactional mode (source, require stream key, key by stream, mining
 * operator, exactly-once sinks) on a MiniCluster against an embedded broker: every batch is answered exactly once, under
 * read_committed, with the bytes the engine gives offline for that batch; also across a failure
 * and restart from a checkpoint.
 */
class ExactlyOnceJobITCase {
    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceJobITCase.class);
    private static final int PARALLELISM = 2;
    private static final int BATCHES = 40;

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
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void answersEveryBatchExactlyOnceIntoPerKeyTopics(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> keys = List.of("trainer-a", "trainer-b", "trainer-c", "model.7");
        JobTestSupport.Topics topics = new JobTestSupport.Topics("embeddings-" + run,
                "gradients-" + run + ".{key}", "dead-letters-" + run, "statistics-" + run);
        KAFKA.createTopics(2, topics.embeddings());
        KAFKA.createTopics(1, topics.deadLetters(), topics.statistics());
        for (String key : keys) {
            KAFKA.createTopics(1, GradientsTopic.of(topics.gradients()).forKey(key));
        }
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--include-mask", "true", "--delivery-guarantee", "exactly-once");
        List<Sent> sent = JobTestSupport.send(KAFKA, topics.embeddings(), keys, BATCHES, 11, false);

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "none");
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(), s -> s);
        JobClient job = env.executeAsync("tripletflow exactly-once");
        job.getJobExecutionResult().get(90, TimeUnit.SECONDS);
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isZero();

        int total = 0;
        for (String key : keys) {
            String topic = GradientsTopic.of(topics.gradients()).forKey(key);
            List<Sent> expected = sent.stream().filter(s -> s.key().equals(key)).toList();
            List<ConsumerRecord<byte[], byte[]>> got = KafkaTestUtils.consumeCommitted(
                    KAFKA.bootstrapServers(), topic, expected.size(), Duration.ofSeconds(30));
            assertThat(got).as("answers on %s", topic).hasSize(expected.size());
            JobTestSupport.assertAnswers(conf, expected, got);
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
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--delivery-guarantee", "exactly-once");
        List<Sent> sent = JobTestSupport.send(KAFKA, topics.embeddings(), keys, BATCHES, 23, false);

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "3",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "200 ms");
        // Throttle and fail right after the source: a finished bounded source would keep
        // checkpoints from completing mid-stream. Mining operator and sinks are the production ones.
        TripletFlowJob.build(env, conf, OffsetsInitializer.latest(),
                s -> s.map(FailAfterCheckpoints.once(6, 60)).name("inject failure"));
        JobClient job = env.executeAsync("tripletflow exactly-once with a failure");
        job.getJobExecutionResult().get(120, TimeUnit.SECONDS);

        assertThat(FailAfterCheckpoints.FAILURES.get()).as("failures injected").isEqualTo(1);
        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers").isGreaterThanOrEqualTo(1);
        List<ConsumerRecord<byte[], byte[]>> got = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.gradients(), BATCHES, Duration.ofSeconds(30));
        assertThat(got).as("answers under read_committed").hasSize(BATCHES);
        JobTestSupport.assertAnswers(conf, sent, got);
        List<ConsumerRecord<byte[], byte[]>> everything = KafkaTestUtils.consume(KAFKA.bootstrapServers(),
                topics.gradients(), IsolationLevel.READ_UNCOMMITTED, BATCHES, Duration.ofSeconds(10));
        LOG.info("after the restart read_uncommitted sees {} answers, read_committed {}", everything.size(), got.size());
        assertThat(everything.size()).isGreaterThanOrEqualTo(BATCHES);
    }

}
