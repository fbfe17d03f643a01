package io.tripletflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.stats.Json;
import io.tripletflow.stats.StatisticsExporter;
import io.tripletflow.testutils.KafkaTestUtils.KV;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Grafana dashboard and the Prometheus alert rules against the metrics the job really exposes:
 * the real job runs on an in-JVM cluster with Flink's Prometheus reporter (the push variant, into a
 * loopback stub: same names and labels as the pull reporter of {@code flink-conf/config.yaml}, with
 * the same reporter options), and the statistics exporter reads the job's statistics topic. Every
 * metric name, label and literal label value that a dashboard query or an alert uses must be one of
 * those; the dashboard must show every numeric metric of {@code MiningMetrics}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DashboardMetricsITCase {
    private static final String[] PREFIXES = {"flink_", "tripletflow_"};
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,\\s*([a-zA-Z_]+)\\s*\\)");
    private static final Pattern LITERAL_MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*=\\s*\"([^\"$]*)\"");

    private static final Map<String, Set<String>> LABELS = new TreeMap<>();
    private static final Map<String, Set<String>> VALUES = new TreeMap<>();   // "metric|label" -> values
    private static final List<PrometheusText.Sample> FLINK = new ArrayList<>();
    private static final List<PrometheusText.Sample> EXPORTER = new ArrayList<>();

    @BeforeAll
    static void runTheJob() throws Exception {
        Map<String, String> reporter = new LinkedHashMap<>();
        reporter.put("metrics.reporter.push.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusPushGatewayReporterFactory");
        reporter.put("metrics.reporter.push.jobName", "tripletflow-test");
        reporter.put("metrics.reporter.push.randomJobNameSuffix", "false");
        reporter.put("metrics.reporter.push.deleteOnShutdown", "false");
        reporter.put("metrics.reporter.push.interval", "1 s");
        // The production reporter's options (scope variables ...), but not its class and port.
        Configuration conf = FlinkConfigurationTest.configuration();
        for (String key : conf.keySet()) {
            if (key.startsWith("metrics.reporter.prom.") && !key.endsWith(".factory.class") && !key.endsWith(".port")) {
                reporter.put("metrics.reporter.push." + key.substring("metrics.reporter.prom.".length()),
                        conf.getString(key, null));
            }
        }
        try (PushGatewayStub gateway = new PushGatewayStub()) {
            reporter.put("metrics.reporter.push.hostUrl", gateway.url());
            try (JobHarness job = JobHarness.start(reporter)) {
                List<KV> input = new ArrayList<>(JobHarness.batches("alpha", 4, 8, 4, 1));
                input.add(new KV("beta".getBytes(StandardCharsets.UTF_8), new byte[50])); // bad magic: a dead letter
                job.produce(input);
                assertThat(job.awaitRecords(JobHarness.GRADIENTS, 4, Duration.ofSeconds(60))).hasSize(4);
                assertThat(job.awaitRecords(JobHarness.DEAD_LETTERS, 1, Duration.ofSeconds(30))).hasSize(1);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (true) {
                    List<PrometheusText.Sample> latest = gateway.latest();
                    if (sum(latest, "flink_taskmanager_job_task_operator_tripletflow_batches") >= 4
                            && sum(latest, "flink_taskmanager_job_task_operator_tripletflow_deadLetters") >= 1
                            && sum(latest, "flink_jobmanager_job_numberOfCompletedCheckpoints") >= 1) {
                        FLINK.addAll(latest);
                        break;
                    }
                    assertThat(System.nanoTime()).as("metrics pushed in time").isLessThan(deadline);
                    Thread.sleep(250);
                }
                try (StatisticsExporter exporter = new StatisticsExporter(job.bootstrapServers(), JobHarness.STATISTICS,
                        "127.0.0.1", 0, Duration.ofHours(1))) {
                    while (exporter.streams() < 2 || !exporter.render().contains("tripletflow_stream_batches_total{stream_key=\"alpha\"} 4")) {
                        assertThat(System.nanoTime()).as("statistics exported in time").isLessThan(deadline);
                        Thread.sleep(250);
                    }
                    HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + exporter.port() + "/metrics")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(scrape.statusCode()).isEqualTo(200);
                    assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(
                            v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
                    EXPORTER.addAll(PrometheusText.parse(scrape.body()));
                }
            }
        }
        List<PrometheusText.Sample> all = new ArrayList<>(FLINK);
        all.addAll(EXPORTER);
        LABELS.putAll(PrometheusText.labelsByMetric(all));
        for (PrometheusText.Sample s : all) {
            s.labels().forEach((k, v) -> VALUES.computeIfAbsent(s.name() + "|" + k, x -> new HashSet<>()).add(v));
        }
    }

    @AfterAll
    static void clear() {
        LABELS.clear();
        VALUES.clear();
        FLINK.clear();
        EXPORTER.clear();
    }

    private static double sum(List<PrometheusText.Sample> samples, String name) {
        return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(PrometheusText.Sample::value).sum();
    }

    @Test
    void flinkExposesMiningMetricsUnderTheNamesTheDashboardUses() {
        assertThat(sum(FLINK, "flink_taskmanager_job_task_operator_tripletflow_batches")).isEqualTo(4);
        assertThat(sum(FLINK, "flink_taskmanager_job_task_operator_tripletflow_rows")).isEqualTo(32);
        assertThat(sum(FLINK, "flink_taskmanager_job_task_operator_tripletflow_deadLetters")).isEqualTo(1);
        assertThat(sum(FLINK, "flink_taskmanager_job_task_operator_tripletflow_latencyMillis_count")).isEqualTo(4);
        assertThat(VALUES.get("flink_taskmanager_job_task_operator_tripletflow_latencyMillis|quantile"))
                .contains("0.5", "0.95", "0.99");
        assertThat(VALUES.get("flink_taskmanager_job_task_operator_tripletflow_loss|operator_name"))
                .containsExactly("mine_triplets");
        assertThat(VALUES.get("flink_jobmanager_job_uptime|job_name")).containsExactly("tripletflow");
        // scope.variables.excludes of flink-conf/config.yaml applies
        assertThat(LABELS.get("flink_taskmanager_job_task_operator_tripletflow_loss")).doesNotContain("job_id");
    }

    @Test
    void exporterPublishesEveryPerKeyMetric() {
        Map<String, Double> alpha = new TreeMap<>();
        Map<String, Double> beta = new TreeMap<>();
        for (PrometheusText.Sample s : EXPORTER) {
            if ("alpha".equals(s.labels().get("stream_key"))) {
                alpha.put(s.name(), s.value());
            } else if ("beta".equals(s.labels().get("stream_key"))) {
                beta.put(s.name(), s.value());
            }
        }
        for (StatisticsExporter.Metric m : StatisticsExporter.METRICS) {
            assertThat(alpha).as("member '" + m.member() + "' of the job's report").containsKey(m.name());
        }
        assertThat(alpha).containsEntry("tripletflow_stream_batches_total", 4.0)
                .containsEntry("tripletflow_stream_rows_total", 32.0)
                .containsEntry("tripletflow_stream_dead_letters_total", 0.0)
                .containsEntry("tripletflow_stream_all_easy", 0.0)
                .containsEntry("tripletflow_stream_newest_model_step", 4.0);
        assertThat(alpha.get("tripletflow_stream_last_batch_timestamp_seconds"))
                .isBetween(System.currentTimeMillis() / 1000.0 - 300, System.currentTimeMillis() / 1000.0 + 5);
        assertThat(beta).containsEntry("tripletflow_stream_dead_letters_total", 1.0)
                .containsEntry("tripletflow_stream_batches_total", 0.0);
    }

    @Test
    void dashboardQueriesUseOnlyExposedMetricsAndLabels() {
        Map<String, Object> dashboard = Json.parseObject(Repo.read("deploy/grafana/dashboards/tripletflow.json"));
        List<String> exprs = new ArrayList<>();
        collect(dashboard, exprs);
        assertThat(exprs).hasSizeGreaterThan(15);
        checkExpressions("dashboard", exprs);
    }

    @Test
    void alertRulesUseOnlyExposedMetricsAndLabels() {
        Map<String, Object> rules = Repo.yaml("deploy/prometheus/alerts.yml");
        List<String> exprs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Object group : (List<?>) rules.get("groups")) {
            for (Object rule : (List<?>) ((Map<?, ?>) group).get("rules")) {
                Map<?, ?> r = (Map<?, ?>) rule;
                exprs.add(String.valueOf(r.get("expr")));
                names.add(String.valueOf(r.get("alert")));
            }
        }
        assertThat(names).contains("TripletflowAllEasy", "TripletflowDeadLetters", "TripletflowLatencyHigh",
                "TripletflowStaleBatches", "TripletflowCheckpointsStalled");
        checkExpressions("alerts", exprs);
        // docs/operations.md explains every alarm
        String docs = Repo.read("docs/operations.md");
        assertThat(names).allSatisfy(n -> assertThat(docs).as("docs/operations.md explains " + n).contains(n));
    }

    @Test
    void dashboardShowsWhatTheIssueAsksFor() {
        Map<String, Object> dashboard = Json.parseObject(Repo.read("deploy/grafana/dashboards/tripletflow.json"));
        List<String> titles = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        String tableExprs = "";
        for (Object p : (List<?>) dashboard.get("panels")) {
            Map<?, ?> panel = (Map<?, ?>) p;
            titles.add(String.valueOf(panel.get("title")).toLowerCase());
            List<String> e = new ArrayList<>();
            collect(panel, e);
            exprs.addAll(e);
            if ("table".equals(panel.get("type"))) {
                tableExprs += String.join("\n", e);
            }
        }
        assertThat(titles).anyMatch(t -> t.contains("loss")).anyMatch(t -> t.contains("non-zero hinges"))
                .anyMatch(t -> t.contains("throughput")).anyMatch(t -> t.contains("latency"))
                .anyMatch(t -> t.contains("dead letters")).anyMatch(t -> t.contains("per stream key"));
        assertThat(tableExprs).contains("stream_key", "tripletflow_stream_loss", "tripletflow_stream_all_easy");
        String all = String.join("\n", exprs);
        // Every numeric metric of MiningMetrics is on the dashboard.
        Set<String> mining = new LinkedHashSet<>();
        for (PrometheusText.Sample s : FLINK) {
            if (s.name().startsWith("flink_taskmanager_job_task_operator_tripletflow_")
                    && !s.name().endsWith("_count") && !s.name().endsWith("backend") && !s.name().endsWith("backendReason")
                    && !s.name().endsWith("_batches") && !s.name().endsWith("_rows")) {
                mining.add(s.name());
            }
        }
        assertThat(mining).hasSizeGreaterThanOrEqualTo(7);
        assertThat(mining).allSatisfy(m -> assertThat(all).as(m).contains(m));
    }

    private static void checkExpressions(String where, List<String> exprs) {
        List<String> problems = new ArrayList<>();
        for (String expr : exprs) {
            Set<String> metrics = PrometheusText.metricNames(expr, PREFIXES);
            Matcher lv = LABEL_VALUES.matcher(expr);
            while (lv.find()) {
                if (!LABELS.getOrDefault(lv.group(1), Set.of()).contains(lv.group(2))) {
                    problems.add(expr + ": " + lv.group(1) + " has no label " + lv.group(2));
                }
            }
            Set<String> available = new HashSet<>();
            for (String m : metrics) {
                if (!LABELS.containsKey(m)) {
                    problems.add(expr + ": no metric " + m);
                } else {
                    available.addAll(LABELS.get(m));
                }
            }
            PrometheusText.selectorLabels(expr).forEach((metric, labels) -> {
                for (String l : labels) {
                    if (LABELS.containsKey(metric) && !LABELS.get(metric).contains(l)) {
                        problems.add(expr + ": " + metric + " has no label " + l);
                    }
                }
            });
            Matcher sel = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)\\}").matcher(expr);
            while (sel.find()) {
                Matcher lit = LITERAL_MATCHER.matcher(sel.group(2));
                while (lit.find()) {
                    Set<String> seen = VALUES.get(sel.group(1) + "|" + lit.group(1));
                    if (seen != null && !seen.contains(lit.group(2))) {
                        problems.add(expr + ": " + sel.group(1) + "{" + lit.group(1) + "=\"" + lit.group(2)
                                + "\"} never seen; values: " + seen);
                    }
                }
            }
            for (String l : PrometheusText.groupingLabels(expr)) {
                if (!available.contains(l)) {
                    problems.add(expr + ": grouping by " + l + ", which none of " + metrics + " has");
                }
            }
        }
        assertThat(problems).as(where).isEmpty();
    }

    /** Every "expr" and templating "query" string under a JSON node. */
    private static void collect(Object node, List<String> out) {
        if (node instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if ("expr".equals(e.getKey()) && e.getValue() instanceof String s) {
                    out.add(s);
                } else if ("definition".equals(e.getKey()) && e.getValue() instanceof String s) {
                    out.add(s);
                } else {
                    collect(e.getValue(), out);
                }
            }
        } else if (node instanceof List<?> l) {
            l.forEach(x -> collect(x, out));
        }
    }
}
