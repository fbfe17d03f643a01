package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.testutils.KafkaRecordSerializer;
import io.tripletflow.testutils.ReverseValue;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.FailAfterCheckpoints;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
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
 * Spike: embedded KRaft broker + Flink 2.2.1 MiniCluster + KafkaSource (bounded) + keyBy + map +
 * exactly-once KafkaSink, read back under read_committed.
 */
class ExactlyOnceKafkaPipelineITCase {

    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceKafkaPipelineITCase.class);

    private static final int PARALLELISM = 2;
    private static final int KEYS = 37;

    @RegisterExtension
    @Order(1)
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = LoopbackMiniCluster.extension(PARALLELISM);

    @TempDir
    Path checkpointDir;

    @BeforeEach
    void reset() {
        FailAfterCheckpoints.reset();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void copiesEveryRecordExactlyOnce() throws Exception {
        int k = 1000;
        String run = UUID.randomUUID().toString().substring(0, 8);
        String in = "in-" + run;
        String out = "out-" + run;
        KAFKA.createTopics(2, in, out);
        List<KV> input = input(k);
        KafkaTestUtils.produce(KAFKA.bootstrapServers(), in, input);

        StreamExecutionEnvironment env = env("restart-strategy.type", "none");
        env.fromSource(source(in, run), WatermarkStrategy.noWatermarks(), "kafka-in")
                .keyBy(KafkaRecord::keyAsString)
                .map(new ReverseValue())
                .sinkTo(sink(out, "tf-spike-" + run));
        long t0 = System.nanoTime();
        env.execute("exactly-once spike");
        LOG.info("job took {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

        List<ConsumerRecord<byte[], byte[]>> got =
                KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(), out, k, Duration.ofSeconds(30));
        assertThat(got).hasSize(k);
        assertThat(asStrings(got)).containsExactlyInAnyOrderElementsOf(expected(input));
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void survivesOneFailureWithoutDuplicates() throws Exception {
        int k = 2000;
        String run = UUID.randomUUID().toString().substring(0, 8);
        String in = "in-" + run;
        String out = "out-" + run;
        KAFKA.createTopics(2, in, out);
        List<KV> input = input(k);
        KafkaTestUtils.produce(KAFKA.bootstrapServers(), in, input);

        StreamExecutionEnvironment env = env(
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "3",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "200 ms");
        // The failing, throttling map is chained to the source: a source that already emitted
        // everything would be FINISHED, and checkpoints then only complete once the downstream
        // drained its input, i.e. never mid-stream.
        env.fromSource(source(in, run), WatermarkStrategy.noWatermarks(), "kafka-in")
                .map(FailAfterCheckpoints.once(200, 2))
                .keyBy(KafkaRecord::keyAsString)
                .map(new ReverseValue())
                .sinkTo(sink(out, "tf-spike-" + run));
        long t0 = System.nanoTime();
        env.execute("exactly-once spike with one failure");
        LOG.info("job with one failure took {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

        assertThat(FailAfterCheckpoints.FAILURES.get()).as("failures injected").isEqualTo(1);
        List<ConsumerRecord<byte[], byte[]>> got =
                KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(), out, k, Duration.ofSeconds(30));
        assertThat(got).hasSize(k);
        assertThat(asStrings(got)).containsExactlyInAnyOrderElementsOf(expected(input));

        List<ConsumerRecord<byte[], byte[]>> uncommitted = KafkaTestUtils.consume(
                KAFKA.bootstrapServers(), out, IsolationLevel.READ_UNCOMMITTED, k, Duration.ofSeconds(10));
        LOG.info("read_uncommitted sees {} records (aborted ones included), read_committed {}",
                uncommitted.size(), got.size());
        assertThat(uncommitted.size()).isGreaterThanOrEqualTo(k);
    }

    // ---------------------------------------------------------------------------------------

    private StreamExecutionEnvironment env(String... extra) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(500));
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(PipelineOptions.GENERIC_TYPES, false); // KafkaRecord must not fall back to Kryo
        for (int i = 0; i < extra.length; i += 2) {
            conf.setString(extra[i], extra[i + 1]);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        return env;
    }

    private static KafkaSource<KafkaRecord> source(String topic, String run) {
        return KafkaSource.<KafkaRecord>builder()
                .setBootstrapServers(KAFKA.bootstrapServers())
                .setTopics(topic)
                .setGroupId("spike-" + run)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.latest())
                .setDeserializer(new KafkaRecordDeserializer())
                .build();
    }

    private static KafkaSink<KafkaRecord> sink(String topic, String transactionalIdPrefix) {
        return KafkaSink.<KafkaRecord>builder()
                .setBootstrapServers(KAFKA.bootstrapServers())
                .setRecordSerializer(new KafkaRecordSerializer(topic))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .build();
    }

    private static List<KV> input(int k) {
        List<KV> input = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            input.add(new KV(utf8("key-" + (i % KEYS)), utf8("value-" + i)));
        }
        return input;
    }

    private static List<String> expected(List<KV> input) {
        List<String> out = new ArrayList<>(input.size());
        for (KV kv : input) {
            out.add(str(kv.key()) + "|" + str(ReverseValue.reverse(kv.value())));
        }
        return out;
    }

    private static List<String> asStrings(List<ConsumerRecord<byte[], byte[]>> records) {
        List<String> out = new ArrayList<>(records.size());
        for (ConsumerRecord<byte[], byte[]> r : records) {
            out.add(str(r.key()) + "|" + str(r.value()));
        }
        return out;
    }


    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }


}
