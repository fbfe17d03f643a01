package io.tripletflow.job;

import static io.tripletflow.job.JobTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.local.LocalFlinkCluster;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;
import io.tripletflow.testutils.RandomBatches;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's {@code tripletflow} metrics as the dashboard sees them: through the REST API of a
 * MiniCluster bound to 127.0.0.1 on an ephemeral port, while the (unbounded) production job runs.
 */
class MetricsRestITCase {
    private static final int PARALLELISM = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    @Order(1)
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = LoopbackMiniCluster.extension(PARALLELISM, restConfiguration());

    @TempDir
    Path checkpoints;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static Configuration restConfiguration() {
        Configuration conf = LocalFlinkCluster.loopbackConfiguration(0);
        // The web frontend caches metrics for this long; the default (10 s) would slow the test down.
        conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofMillis(300));
        return conf;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tripletflowMetricsShowInTheRestApi(@InjectClusterRESTAddress URI rest) throws Exception {
        assertThat(rest.getHost()).isEqualTo("127.0.0.1");
        assertThat(rest.getPort()).isPositive();
        String run = UUID.randomUUID().toString().substring(0, 8);
        JobTestSupport.Topics topics = JobTestSupport.Topics.of(run);
        KAFKA.createTopics(2, topics.embeddings(), topics.gradients());
        KAFKA.createTopics(1, topics.deadLetters(), topics.statistics());
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--delivery-guarantee", "at-least-once", "--statistics-interval", "500 ms");

        RandomBatches random = new RandomBatches(3);
        int batches = 12;
        int d = 16;
        long rows = 0;
        List<KV> records = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            int n = 16 + 2 * (i % 4);
            rows += n;
            records.add(new KV(utf8("trainer-" + (i % 3)), EmbeddingRecords.record(i, i, System.currentTimeMillis(),
                    n, d, random.pairedLabels(n, 4, 0.0), random.unitEmbeddings(n, d))));
        }
        records.add(new KV(utf8("trainer-0"), EmbeddingRecords.withBadCrc(records.get(0).value())));
        records.add(new KV(null, records.get(1).value()));

        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                "restart-strategy.type", "none");
        TripletFlowJob.build(env, conf);
        JobClient job = env.executeAsync("tripletflow metrics");
        try {
            String jobUrl = rest.resolve("/jobs/" + job.getJobID()).toString();
            KafkaTestUtils.produce(KAFKA.bootstrapServers(), topics.embeddings(), records);

            String mining = vertex(jobUrl, "mine triplets");
            String source = vertex(jobUrl, "require stream key");
            String miningUrl = jobUrl + "/vertices/" + mining;

            // Aggregated over the subtasks; the counters reach their totals once every record was mined.
            Map<String, JsonNode> sums = poll(miningUrl + "/subtasks/metrics",
                    List.of("tripletflow.batches", "tripletflow.rows", "tripletflow.deadLetters",
                            "tripletflow.loss", "tripletflow.nonZeroHingeShare", "tripletflow.latencyMillis_p99",
                            "tripletflow.batchesPerSecond"),
                    // Meters update their rate every few seconds (Flink's view updater): wait for the first.
                    m -> sum(m, "tripletflow.batches") == batches && sum(m, "tripletflow.deadLetters") == 1
                            && m.get("tripletflow.batchesPerSecond").get("sum").asDouble() > 0);
            assertThat(sum(sums, "tripletflow.rows")).isEqualTo(rows);
            assertThat(sums.get("tripletflow.loss").get("max").asDouble()).as("loss gauge").isPositive().isFinite();
            assertThat(sums.get("tripletflow.nonZeroHingeShare").get("max").asDouble()).isBetween(0.0, 1.0);
            assertThat(sums.get("tripletflow.latencyMillis_p99").get("max").asDouble()).isGreaterThanOrEqualTo(0.0);
            assertThat(sums.get("tripletflow.batchesPerSecond").get("sum").asDouble())
                    .isGreaterThan(0.0).isLessThanOrEqualTo(batches);

            // Per subtask: the text gauges, which the aggregating endpoint leaves out.
            Map<String, JsonNode> subtask0 = poll(miningUrl + "/metrics",
                    List.of("0.tripletflow.backend", "0.tripletflow.backendReason", "1.tripletflow.backend"),
                    m -> m.size() == 3);
            assertThat(subtask0.get("0.tripletflow.backend").get("value").asText()).startsWith("cpu");
            assertThat(subtask0.get("1.tripletflow.backend").get("value").asText()).startsWith("cpu");
            assertThat(subtask0.get("0.tripletflow.backendReason").get("value").asText()).isEqualTo("backend = cpu");

            // The record without a key is a dead letter of the operator before the keyBy.
            Map<String, JsonNode> keyCheck = poll(jobUrl + "/vertices/" + source + "/subtasks/metrics",
                    List.of("tripletflow.deadLetters"), m -> sum(m, "tripletflow.deadLetters") == 1);
            assertThat(sum(keyCheck, "tripletflow.deadLetters")).isEqualTo(1);

            Map<String, JsonNode> restarts = poll(jobUrl + "/metrics", List.of("numRestarts"), m -> m.size() == 1);
            assertThat(restarts.get("numRestarts").get("value").asLong()).isZero();

            // The same counts on the statistics topic: the newest report per stream key.
            Map<String, JsonNode> reports = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline && !(reports.size() == 3
                    && reports.values().stream().allMatch(r -> r.get("batches").asLong() == batches / 3))) {
                for (var r : KafkaTestUtils.consumeCommitted(KAFKA.bootstrapServers(), topics.statistics(), 1,
                        Duration.ofSeconds(5))) {
                    reports.put(new String(r.key(), StandardCharsets.UTF_8), JSON.readTree(r.value()));
                }
                Thread.sleep(200);
            }
            assertThat(reports).containsOnlyKeys("trainer-0", "trainer-1", "trainer-2");
            for (Map.Entry<String, JsonNode> e : reports.entrySet()) {
                assertThat(e.getValue().get("stream_key").asText()).isEqualTo(e.getKey());
                assertThat(e.getValue().get("batches").asLong()).as("batches of %s", e.getKey()).isEqualTo(batches / 3);
                assertThat(e.getValue().get("dead_letters").asLong()).as("dead letters of %s", e.getKey())
                        .isEqualTo(e.getKey().equals("trainer-0") ? 1 : 0);
                assertThat(e.getValue().get("triplets").asLong()).isPositive();
            }
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    // ---------------------------------------------------------------------------------------

    /** The id of the job vertex whose name contains {@code operator}. */
    private String vertex(String jobUrl, String operator) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode job = get(jobUrl);
            if (job != null && job.has("vertices")) {
                for (JsonNode v : job.get("vertices")) {
                    if (v.get("name").asText().contains(operator)) {
                        return v.get("id").asText();
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no vertex with '" + operator + "' in " + get(jobUrl));
    }

    /**
     * Polls a metrics endpoint: finds the metrics whose ids end with the given suffixes (ids carry
     * the operator's name, e.g. {@code 0.mine_triplets.tripletflow.batches}), asks for their
     * values, and returns them by suffix once {@code done} holds.
     */
    private Map<String, JsonNode> poll(String url, List<String> suffixes, Predicate<Map<String, JsonNode>> done)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Map<String, JsonNode> last = Map.of();
        while (System.nanoTime() < deadline) {
            JsonNode available = get(url);
            Map<String, String> idBySuffix = new HashMap<>();
            if (available != null) {
                for (JsonNode m : available) {
                    String id = m.get("id").asText();
                    for (String suffix : suffixes) {
                        if (matches(id, suffix)) {
                            idBySuffix.put(suffix, id);
                        }
                    }
                }
            }
            if (!idBySuffix.isEmpty()) {
                String query = idBySuffix.values().stream()
                        .map(id -> URLEncoder.encode(id, StandardCharsets.UTF_8)).collect(Collectors.joining(","));
                JsonNode values = get(url + "?get=" + query);
                Map<String, JsonNode> bySuffix = new HashMap<>();
                if (values != null) {
                    for (JsonNode v : values) {
                        idBySuffix.forEach((suffix, id) -> {
                            if (id.equals(v.get("id").asText())) {
                                bySuffix.put(suffix, v);
                            }
                        });
                    }
                }
                last = bySuffix;
                if (bySuffix.size() == idBySuffix.size() && bySuffix.keySet().containsAll(suffixes) && done.test(bySuffix)) {
                    return bySuffix;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("metrics " + suffixes + " at " + url + " never became ready; last " + last);
    }

    /** {@code 0.tripletflow.backend} matches {@code 0.<operator>.tripletflow.backend}. */
    private static boolean matches(String id, String suffix) {
        int dot = suffix.indexOf('.');
        if (dot < 0) {
            return id.equals(suffix);
        }
        String head = suffix.substring(0, dot);
        if (head.chars().allMatch(Character::isDigit)) {
            return id.startsWith(head + ".") && id.endsWith("." + suffix.substring(dot + 1));
        }
        return id.equals(suffix) || id.endsWith("." + suffix);
    }

    private static long sum(Map<String, JsonNode> metrics, String suffix) {
        JsonNode m = metrics.get(suffix);
        return m == null ? -1 : Math.round(m.get("sum").asDouble());
    }

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    }
}
