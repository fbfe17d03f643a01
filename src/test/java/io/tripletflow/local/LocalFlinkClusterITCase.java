package io.tripletflow.local;

import io.tripletflow.testutils.KafkaRecordSerializer;
import io.tripletflow.job.KafkaRecordDeserializer;
import io.tripletflow.testutils.ReverseValue;
import io.tripletflow.job.KafkaRecord;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local mode as {@code LocalFlinkCluster} sets it up: in-JVM cluster with the web dashboard on
 * 127.0.0.1, RocksDB, exactly-once checkpoints, embedded Kafka in and out.
 */
class LocalFlinkClusterITCase {

    private static final Logger LOG = LoggerFactory.getLogger(LocalFlinkClusterITCase.class);

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    private static final Pattern COMPLETED =
            Pattern.compile("\"counts\"\\s*:\\s*\\{[^}]*\"completed\"\\s*:\\s*(\\d+)");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void runsWithDashboardRocksDbAndCheckpoints() throws Exception {
        int k = 1200;
        String run = UUID.randomUUID().toString().substring(0, 8);
        String in = "local-in-" + run;
        String out = "local-out-" + run;
        KAFKA.createTopics(2, in, out);
        List<KV> input = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            input.add(new KV(("key-" + (i % 11)).getBytes(StandardCharsets.UTF_8),
                    ("value-" + i).getBytes(StandardCharsets.UTF_8)));
        }
        KafkaTestUtils.produce(KAFKA.bootstrapServers(), in, input);

        int webPort = Loopback.freePort();
        try (LocalFlinkCluster local = LocalFlinkCluster.builder()
                .webPort(webPort)
                .parallelism(2)
                .checkpointInterval(Duration.ofMillis(300))
                .build()) {
            assertThat(local.webUiUrl()).isEqualTo("http://127.0.0.1:" + webPort + "/");
            StreamExecutionEnvironment env = local.createEnvironment();
            env.fromSource(KafkaSource.<KafkaRecord>builder()
                                    .setBootstrapServers(KAFKA.bootstrapServers())
                                    .setTopics(in)
                                    .setGroupId("local-" + run)
                                    .setStartingOffsets(OffsetsInitializer.earliest())
                                    .setBounded(OffsetsInitializer.latest())
                                    .setDeserializer(new KafkaRecordDeserializer())
                                    .build(),
                            WatermarkStrategy.noWatermarks(), "kafka-in")
                    .map(new Throttle()) // keeps the source running for a few seconds
                    .keyBy(KafkaRecord::keyAsString)
                    .map(new ReverseValue())
                    .returns(KafkaRecord.class)
                    .sinkTo(KafkaSink.<KafkaRecord>builder()
                            .setBootstrapServers(KAFKA.bootstrapServers())
                            .setRecordSerializer(new KafkaRecordSerializer(out))
                            .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                            .setTransactionalIdPrefix("tf-local-" + run)
                            .build());

            JobClient client = env.executeAsync("local-mode smoke");
            JobID id = client.getJobID();

            String overview = awaitGet(local.webUiUrl() + "overview", Duration.ofSeconds(30));
            assertThat(overview).contains("flink-version");
            String index = awaitGet(local.webUiUrl(), Duration.ofSeconds(5));
            assertThat(index).containsIgnoringCase("<html");
            String cpConfig = awaitGet(local.webUiUrl() + "jobs/" + id + "/checkpoints/config",
                    Duration.ofSeconds(10));
            LOG.info("checkpoint config: {}", cpConfig);
            assertThat(cpConfig).containsIgnoringCase("rocksdb").contains("exactly_once");
            long completed = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (completed == 0 && System.nanoTime() < deadline) {
                if (client.getJobStatus().get().isGloballyTerminalState()) {
                    client.getJobExecutionResult().get(); // throws if the job failed
                    break;
                }
                String cps = awaitGet(local.webUiUrl() + "jobs/" + id + "/checkpoints", Duration.ofSeconds(5));
                Matcher m = COMPLETED.matcher(cps);
                completed = m.find() ? Long.parseLong(m.group(1)) : 0;
                if (completed == 0) {
                    LOG.info("checkpoints: {}", cps);
                    Thread.sleep(100);
                }
            }
            assertThat(completed).as("checkpoints completed while running").isPositive();

            client.getJobExecutionResult().get(60, TimeUnit.SECONDS);
        }

        List<ConsumerRecord<byte[], byte[]>> got =
                KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(), out, k, Duration.ofSeconds(30));
        assertThat(got).hasSize(k);
    }

    private String awaitGet(String url, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return r.body();
                }
                last = new IllegalStateException(url + " -> HTTP " + r.statusCode() + ": " + r.body());
            } catch (java.io.IOException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no 200 from " + url, last);
    }


    /** Passes records through, 5 ms each (so the job runs for about 3 s). */
    static final class Throttle implements MapFunction<KafkaRecord, KafkaRecord> {
        @Override
        public KafkaRecord map(KafkaRecord r) throws Exception {
            Thread.sleep(5);
            return r;
        }
    }
}
