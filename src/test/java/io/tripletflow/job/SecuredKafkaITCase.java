package io.tripletflow.job;

import static io.tripletflow.job.JobTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.local.EmbeddedKafkaBroker;
import io.tripletflow.local.LocalFlinkCluster;
import io.tripletflow.local.TemporaryDirectory;
import io.tripletflow.stats.StatisticsExporter;
import io.tripletflow.testutils.CapturedLogs;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.RandomBatches;
import io.tripletflow.testutils.SelfSignedTls;
import io.tripletflow.trainer.TrainerClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job and its trainers on a secured Kafka: a broker whose client listener speaks SASL_SSL
 * (TLS with a self-signed certificate for 127.0.0.1, SCRAM-SHA-512 users created at format time),
 * the job configured with {@code --kafka.<property>} options (and, as a cluster's
 * {@code config.yaml} would hold them, the secrets under {@code tripletflow.kafka.*}), a
 * {@link TrainerClient} and the {@link StatisticsExporter} with the same properties. A trainer with a wrong password, or without
 * credentials, is refused with an error that says so, within its start timeout. No password
 * reaches the logs of the run or the REST API of the dashboard.
 */
class SecuredKafkaITCase {
    private static final String MECHANISM = "SCRAM-SHA-512";
    private static final String USER = "tripletflow";
    /** Random, so that a match in the logs can only come from this run. */
    private static final String PASSWORD = "scram-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
    private static final Path TLS_DIR = temporaryDirectory();
    private static final SelfSignedTls TLS = SelfSignedTls.generate(TLS_DIR);
    /** What a cluster's config.yaml would hold: the secrets, under their tripletflow.kafka.* keys. */
    private static final Configuration CLUSTER = clusterConfiguration();
    private static final int D = 16;

    @RegisterExtension
    @Order(1)
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension(EmbeddedKafkaBroker.builder()
            .saslSslListener(TLS.saslSslListener(MECHANISM, Map.of(USER, PASSWORD))));

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = LoopbackMiniCluster.extension(2, CLUSTER);

    @TempDir
    Path checkpoints;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterAll
    static void deleteStores() {
        TemporaryDirectory.delete(TLS_DIR);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void theJobAnswersATrainerOverSaslSslAndNoSecretIsShown(@InjectClusterRESTAddress URI rest) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        JobTestSupport.Topics topics = JobTestSupport.Topics.of(run);
        KAFKA.createTopics(2, topics.embeddings(), topics.gradients());
        KAFKA.createTopics(1, topics.deadLetters(), topics.statistics());
        String secured = KAFKA.broker().saslSslBootstrapServers();
        try (CapturedLogs logs = CapturedLogs.start(Level.INFO,
                "org.apache.kafka.common.security", "org.apache.kafka.common.network")) {
            // flink run tripletflow-job.jar --kafka.security.protocol SASL_SSL ... on a cluster whose
            // config.yaml holds the JAAS config and the trust store's password.
            Configuration conf = JobTestSupport.jobConfiguration(CLUSTER, secured, run, topics,
                    "--statistics-interval", "300 ms",
                    "--kafka.security.protocol", "SASL_SSL",
                    "--kafka.sasl.mechanism", MECHANISM,
                    "--kafka.ssl.truststore.location", TLS.trustStore().toString(),
                    "--kafka.ssl.truststore.type", "PKCS12");
            StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, 2, "restart-strategy.type", "none");
            TripletFlowJob.build(env, conf);
            JobClient job = env.executeAsync("tripletflow secured");
            try {
                // The trainer with the job's own Kafka properties: the same credentials.
                try (TrainerClient client = TrainerClient.builder(secured)
                        .embeddingsTopic(topics.embeddings())
                        .gradientsTopic(topics.gradients())
                        .streamKeys("secured")
                        .kafkaProperties(KafkaClientProperties.of(conf))
                        .build()) {
                    RandomBatches random = new RandomBatches(11);
                    for (long id = 1; id <= 5; id++) {
                        int n = 16;
                        EmbeddingBatch batch = new EmbeddingBatch("secured", id, id, System.currentTimeMillis(), n, D,
                                random.pairedLabels(n, 4, 0.0), random.unitEmbeddings(n, D));
                        GradientBatch g = client.exchange(batch, Duration.ofSeconds(30));
                        assertThat(g.batchId()).isEqualTo(id);
                        assertThat(g.gradients()).hasSize(n * D);
                        assertThat(g.loss()).isFinite();
                    }
                    assertThat(client.stats().answered()).isEqualTo(5);
                }
                // A record the job refuses: its dead letter and the statistics come out of the other
                // two sinks, which write over SASL_SSL too (read here on the broker's own listener).
                byte[] bad = EmbeddingRecords.withBadCrc(EmbeddingRecords.record(99, 9, System.currentTimeMillis(), 8, D,
                        new RandomBatches(5).pairedLabels(8, 2, 0.0), new RandomBatches(5).unitEmbeddings(8, D)));
                KafkaTestUtils.produce(KAFKA.bootstrapServers(), topics.embeddings(), List.of(new KV(utf8("secured"), bad)));
                assertThat(KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(), topics.deadLetters(), 1,
                        Duration.ofSeconds(30))).hasSize(1);
                List<ConsumerRecord<byte[], byte[]>> reports = KafkaTestUtils.consumeCommitted(
                        KAFKA.bootstrapServers(), topics.statistics(), 1, Duration.ofSeconds(30));
                assertThat(reports).isNotEmpty();
                assertThat(utf8(reports.get(0).key())).isEqualTo("secured");
                // The statistics exporter reads them with the same properties.
                try (StatisticsExporter exporter = new StatisticsExporter(secured, topics.statistics(), "127.0.0.1", 0,
                        Duration.ofHours(1), KafkaClientProperties.of(conf))) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (exporter.streams() == 0 && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                    assertThat(exporter.streams()).as("stream keys the exporter read over SASL_SSL").isEqualTo(1);
                }

                // The dashboard: the job's pages and the configuration (Flink masks our keys by name).
                Map<String, String> pages = new LinkedHashMap<>();
                for (String path : List.of("/jobmanager/config", "/jobs/" + job.getJobID(),
                        "/jobs/" + job.getJobID() + "/config", "/jobs/" + job.getJobID() + "/plan",
                        "/jobs/" + job.getJobID() + "/jobmanager/config")) {
                    pages.put(path, get(rest.resolve(path)));
                }
                pages.forEach((path, body) -> assertThat(body).as(path).isNotEmpty()
                        .doesNotContain(PASSWORD).doesNotContain(TLS.password()));
                assertThat(pages.get("/jobmanager/config"))
                        .contains("\"key\":\"tripletflow.kafka.sasl.jaas.config\",\"value\":\"******\"")
                        .contains("\"key\":\"tripletflow.kafka.ssl.truststore.password\",\"value\":\"******\"");
            } finally {
                job.cancel().get(30, TimeUnit.SECONDS);
            }

            String text = logs.text();
            assertThat(text).as("the job logs its Kafka properties, masked")
                    .contains("sasl.jaas.config=" + KafkaClientProperties.MASK, "security.protocol=SASL_SSL");
            assertThat(text).as("Kafka's clients log their configuration").contains("sasl.jaas.config = [hidden]");
            assertThat(text).as("%d log events of the run", logs.events())
                    .doesNotContain(PASSWORD).doesNotContain(TLS.password());
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aTrainerWithAWrongPasswordIsRefusedNamingTheAuthenticationFailure() {
        KAFKA.createTopics(1, "gradients-refused");
        Map<String, String> wrong = credentials("not-" + PASSWORD);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> TrainerClient.builder(KAFKA.broker().saslSslBootstrapServers())
                .gradientsTopic("gradients-refused")
                .kafkaProperties(wrong)
                .startTimeout(Duration.ofSeconds(20))
                .build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("refused the trainer: authentication failed (sasl.mechanism " + MECHANISM + ")")
                .hasMessageContaining("invalid credentials")
                .hasMessageContaining(KAFKA.broker().saslSslBootstrapServers());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("refused at once, not after the start timeout")
                .isLessThan(Duration.ofSeconds(15));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aTrainerWithoutCredentialsIsRefusedRatherThanLeftWaiting() {
        String secured = KAFKA.broker().saslSslBootstrapServers();
        // PLAINTEXT against the TLS listener: the broker drops the connection without an answer.
        assertThatThrownBy(() -> TrainerClient.builder(secured)
                .gradientsTopic("gradients-refused")
                .startTimeout(Duration.ofSeconds(3))
                .build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no Kafka broker at " + secured + " (security.protocol PLAINTEXT) answered")
                .hasMessageContaining("security.protocol");
        // SASL_SSL without a JAAS configuration: refused before anything is sent.
        Map<String, String> noLogin = new LinkedHashMap<>(credentials(PASSWORD));
        noLogin.remove("sasl.jaas.config");
        assertThatThrownBy(() -> TrainerClient.builder(secured).gradientsTopic("gradients-refused")
                .kafkaProperties(noLogin).startTimeout(Duration.ofSeconds(3)).build())
                .rootCause().hasMessageContaining("JAAS");
    }

    /** What a client of the SASL_SSL listener sets, with {@code password}. */
    private static Map<String, String> credentials(String password) {
        Map<String, String> p = new LinkedHashMap<>(TLS.clientProperties());
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", jaas(password));
        return p;
    }

    private static String jaas(String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + USER
                + "\" password=\"" + password + "\";";
    }

    private static Configuration clusterConfiguration() {
        Configuration conf = LocalFlinkCluster.loopbackConfiguration(0);
        conf.setString("tripletflow.kafka.sasl.jaas.config", jaas(PASSWORD));
        conf.setString("tripletflow.kafka.ssl.truststore.password", TLS.password());
        return conf;
    }

    private String get(URI uri) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", uri).isEqualTo(200);
        return r.body();
    }

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("tripletflow-tls-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
