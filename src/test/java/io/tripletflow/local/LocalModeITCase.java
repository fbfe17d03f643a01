package io.tripletflow.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.GradientBatch;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.trainer.TrainerClient;
import io.tripletflow.wire.GradientBatchCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tripletflow local} end to end, as {@link io.tripletflow.cli.LocalCommand} runs it:
 * embedded Kafka, a local Flink cluster running the job with exactly-once checkpoints, and the
 * demo model training through it (15 s). Ephemeral ports; about 25 s.
 */
class LocalModeITCase {
    private static final Logger LOG = LoggerFactory.getLogger(LocalModeITCase.class);

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void theDemoModelTrainsThroughTheJob() throws Exception {
        LocalModeOptions options = new LocalModeOptions()
                .duration(Duration.ofSeconds(15))
                .webPort(0)
                .kafkaPort(0)
                .parallelism(2)
                .progressInterval(Duration.ofSeconds(5));
        List<DemoTrainer.Progress> progress = new ArrayList<>();
        Path workDir;
        try (LocalMode local = LocalMode.start(options, System.out)) {
            workDir = local.workDir();
            assertThat(local.bootstrapServers()).startsWith("127.0.0.1:");
            assertThat(local.webUiUrl()).startsWith("http://127.0.0.1:");
            HttpResponse<String> overview = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(local.webUiUrl() + "overview")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(overview.statusCode()).isEqualTo(200);
            assertThat(overview.body()).contains("flink-version");
            assertThat(local.backend()).startsWith("cpu");

            DemoTrainer.Summary s = local.runDemoTrainer(p -> {
                LOG.info("progress {}", p);
                progress.add(p);
            });
            LOG.info("summary {}", s);
            TrainerClient.Stats c = local.clientStats();
            LOG.info("client {}", c);

            assertThat(local.jobEnded()).as("the job keeps running").isNull();
            // Batches were answered, and every answer matched a batch the trainer had submitted.
            assertThat(s.answered()).isGreaterThanOrEqualTo(10);
            assertThat(s.failed()).isZero();
            assertThat(s.unmatchedAnswers()).isZero();
            assertThat(c.answered()).isEqualTo(s.answered());
            assertThat(c.unknownAnswers()).isZero();
            assertThat(c.duplicateAnswers()).isZero();
            assertThat(c.invalidAnswers()).isZero();
            assertThat(s.modelSteps()).isEqualTo(s.answered());
            // Exactly-once: an answer becomes visible at the checkpoint after its batch.
            assertThat(s.latencyP50Millis()).isPositive();
            assertThat(progress).isNotEmpty();

            // The model learned: recall@1 on held-out data rose clearly.
            assertThat(s.recallAfter()).isGreaterThan(s.recallBefore() + 0.15);
            assertThat(s.lastLoss()).isLessThan(s.firstLoss());

            // What the gradient topic holds (read_committed): one answer per submitted batch id, no strays.
            List<ConsumerRecord<byte[], byte[]>> records = KafkaTestUtils.consumeCommitted(
                    local.bootstrapServers(), local.topics().gradients(), (int) s.answered(), Duration.ofSeconds(30));
            GradientBatchCodec codec = new GradientBatchCodec();
            Set<Long> ids = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                GradientBatch g = codec.decode(r.key(), r.value());
                assertThat(g.streamKey()).isEqualTo(options.demo().streamKey());
                assertThat(g.batchId()).isBetween(1L, s.submitted());
                assertThat(ids.add(g.batchId())).as("one answer for batch %d", g.batchId()).isTrue();
            }
            assertThat((long) ids.size()).isGreaterThanOrEqualTo(s.answered()).isLessThanOrEqualTo(s.submitted());
        }
        assertThat(Files.exists(workDir)).as("temporary files removed").isFalse();
    }
}
