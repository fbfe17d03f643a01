package io.tripletflow.stats;

import io.tripletflow.local.Loopback;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The per-stream-key statistics of the job's statistics topic as Prometheus metrics: reads the
 * topic ({@code read_committed}, every partition from the beginning, the newest report per key
 * wins) and serves {@code GET /metrics} in the Prometheus text format. Flink's own metrics are per
 * operator subtask; these are per stream key, for the dashboard's per-key table and the alerts
 * that are about one trainer (collapse, staleness, silence).
 *
 * <pre>
 *   java -cp tripletflow-job.jar io.tripletflow.stats.StatisticsExporter \
 *       --bootstrap-servers kafka:19092 --topic mining-statistics --bind 0.0.0.0 --port 9250
 * </pre>
 *
 * A secured cluster: Kafka's client properties as {@code --kafka.<property> VALUE}, as for the job
 * ({@code --kafka.security.protocol SASL_SSL --kafka.sasl.mechanism SCRAM-SHA-512 ...}).
 *
 * Every metric has the label {@code stream_key}; see {@link #METRICS}. A key whose newest report
 * is older than {@code --forget-after} (default 1 h) is dropped.
 */
public final class StatisticsExporter implements AutoCloseable {

    /** A metric: name, Prometheus type, the report member it comes from, help text. */
    public record Metric(String name, String type, String member, String help) {}

    /** Every per-key metric, from the members of {@code StreamStatistics.toJson}. */
    public static final List<Metric> METRICS = List.of(
            new Metric("tripletflow_stream_batches_total", "counter", "batches", "Batches answered for the key."),
            new Metric("tripletflow_stream_rows_total", "counter", "rows", "Embedding rows mined for the key."),
            new Metric("tripletflow_stream_triplets_total", "counter", "triplets", "Triplets selected."),
            new Metric("tripletflow_stream_nonzero_hinge_terms_total", "counter", "nonzero_hinge_terms",
                    "Hinge terms with a non-zero value."),
            new Metric("tripletflow_stream_dead_letters_total", "counter", "dead_letters",
                    "Records of the key sent to the dead-letter topic."),
            new Metric("tripletflow_stream_stale_batches_total", "counter", "stale_batches",
                    "Batches more than max-staleness model steps behind."),
            new Metric("tripletflow_stream_dropped_stale_batches_total", "counter", "dropped_stale_batches",
                    "Stale batches dropped without an answer (on-stale = drop)."),
            new Metric("tripletflow_stream_label_mismatches_total", "counter", "label_mismatches",
                    "Positives whose label differs from the anchor's."),
            new Metric("tripletflow_stream_mean_loss", "gauge", "mean_loss", "Mean loss over all batches."),
            new Metric("tripletflow_stream_loss", "gauge", "decayed.loss", "Decayed loss (follows training now)."),
            new Metric("tripletflow_stream_nonzero_hinge_share", "gauge", "decayed.nonzero_hinge_share",
                    "Decayed share of hinge terms that are non-zero; near 0 means all triplets are easy."),
            new Metric("tripletflow_stream_hard_share", "gauge", "decayed.hard_share",
                    "Decayed share of selected negatives that were hard."),
            new Metric("tripletflow_stream_no_candidate_share", "gauge", "decayed.no_candidate_share",
                    "Decayed share of anchors without any candidate negative."),
            new Metric("tripletflow_stream_latency_ms", "gauge", "decayed.latency_ms",
                    "Decayed latency from the trainer's created time to the answer, ms."),
            new Metric("tripletflow_stream_staleness_steps", "gauge", "decayed.staleness",
                    "Decayed model steps behind the newest batch of the key."),
            new Metric("tripletflow_stream_all_easy", "gauge", "all_easy",
                    "1 when all-easy-batches consecutive batches had no non-zero hinge (the collapse signal)."),
            new Metric("tripletflow_stream_consecutive_all_easy_batches", "gauge", "consecutive_all_easy_batches",
                    "Consecutive batches without a non-zero hinge."),
            new Metric("tripletflow_stream_memory_rows", "gauge", "memory_rows",
                    "Rows of the key's cross-batch memory its last batch was mined against."),
            new Metric("tripletflow_stream_memory_negative_share", "gauge", "decayed.memory_negative_share",
                    "Decayed share of selected triplets whose negative came from the cross-batch memory."),
            new Metric("tripletflow_stream_memory_age_steps", "gauge", "decayed.memory_age",
                    "Decayed mean age (model steps) of the memory rows selected as negatives."),
            new Metric("tripletflow_stream_newest_model_step", "gauge", "newest_model_step",
                    "Newest model step seen for the key."),
            new Metric("tripletflow_stream_last_batch_timestamp_seconds", "gauge", "last_batch_ms",
                    "When the key's last batch was answered (Unix time, s)."),
            new Metric("tripletflow_stream_published_timestamp_seconds", "gauge", "published_ms",
                    "When the job published this report (Unix time, s)."));

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final HttpServer server;
    private final Thread poller;
    private final long forgetAfterMillis;
    private final Map<String, Map<String, Object>> latest = new ConcurrentHashMap<>();
    private final AtomicLong reports = new AtomicLong();
    private final AtomicLong invalidReports = new AtomicLong();
    private volatile boolean running = true;

    /**
     * Starts consuming {@code topic} and serving {@code /metrics} on {@code bind:port} (port 0: a
     * free one, see {@link #port()}).
     */
    public StatisticsExporter(String bootstrapServers, String topic, String bind, int port, Duration forgetAfter)
            throws IOException {
        this(bootstrapServers, topic, bind, port, forgetAfter, Map.of());
    }

    /**
     * As above, with Kafka client properties for the consumer ({@code --kafka.<property>}, the
     * job's {@code tripletflow.kafka.*}): a secured cluster's {@code security.protocol}, SASL and
     * TLS settings.
     */
    public StatisticsExporter(String bootstrapServers, String topic, String bind, int port, Duration forgetAfter,
                              Map<String, String> kafkaProperties) throws IOException {
        this.topic = topic;
        this.forgetAfterMillis = forgetAfter.toMillis();
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "tripletflow-statistics-exporter-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Never create the (compacted) statistics topic with the broker's defaults by reading it.
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer = new KafkaConsumer<>(p);
        server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        server.createContext("/metrics", exchange -> {
            byte[] body = render().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        poller = new Thread(this::poll, "statistics-exporter");
        poller.setDaemon(true);
        poller.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Stream keys with a report, for tests and logs. */
    public int streams() {
        return latest.size();
    }

    private void poll() {
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            while (running && partitions.isEmpty()) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                if (infos != null) {
                    infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
                }
                if (partitions.isEmpty()) {
                    Thread.sleep(1000);
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    accept(r.value());
                }
                forget(System.currentTimeMillis());
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            if (running) {
                System.err.println("statistics-exporter: stopped reading " + topic + ": " + e);
            }
        } finally {
            consumer.close();
        }
    }

    /** Takes one report (the statistics topic's JSON value). */
    void accept(byte[] value) {
        reports.incrementAndGet();
        try {
            Map<String, Object> report = Json.parseObject(new String(value, StandardCharsets.UTF_8));
            Object key = report.get("stream_key");
            if (!(key instanceof String k)) {
                throw new IllegalArgumentException("no stream_key");
            }
            Map<String, Object> previous = latest.get(k);
            if (previous == null || Json.number(previous, "published_ms") <= Json.number(report, "published_ms")) {
                latest.put(k, report);
            }
        } catch (RuntimeException e) {
            invalidReports.incrementAndGet();
        }
    }

    private void forget(long nowMillis) {
        latest.values().removeIf(r -> nowMillis - Json.number(r, "published_ms") > forgetAfterMillis);
    }

    /** The Prometheus text exposition of the newest report of every key. */
    public String render() {
        StringBuilder b = new StringBuilder(4096);
        Map<String, Map<String, Object>> sorted = new TreeMap<>(latest);
        for (Metric m : METRICS) {
            b.append("# HELP ").append(m.name).append(' ').append(m.help).append('\n');
            b.append("# TYPE ").append(m.name).append(' ').append(m.type).append('\n');
            for (Map.Entry<String, Map<String, Object>> e : sorted.entrySet()) {
                double v = Json.number(e.getValue(), m.member);
                if (Double.isNaN(v)) {
                    continue;
                }
                if (m.member.endsWith("_ms") && m.name.endsWith("_seconds")) {
                    v /= 1000.0;
                }
                b.append(m.name).append("{stream_key=\"").append(labelValue(e.getKey())).append("\"} ")
                        .append(number(v)).append('\n');
            }
        }
        b.append("# HELP tripletflow_exporter_reports_total Statistics reports read.\n")
                .append("# TYPE tripletflow_exporter_reports_total counter\n")
                .append("tripletflow_exporter_reports_total ").append(reports.get()).append('\n');
        b.append("# HELP tripletflow_exporter_invalid_reports_total Statistics reports that were not valid JSON reports.\n")
                .append("# TYPE tripletflow_exporter_invalid_reports_total counter\n")
                .append("tripletflow_exporter_invalid_reports_total ").append(invalidReports.get()).append('\n');
        b.append("# HELP tripletflow_exporter_streams Stream keys with a report.\n")
                .append("# TYPE tripletflow_exporter_streams gauge\n")
                .append("tripletflow_exporter_streams ").append(sorted.size()).append('\n');
        return b.toString();
    }

    private static String labelValue(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.9g", v);
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        server.stop(0);
        try {
            poller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = Loopback.HOST + ":9092";
        String topic = "mining-statistics";
        String bind = Loopback.HOST;
        int port = 9250;
        Duration forget = Duration.ofHours(1);
        Map<String, String> kafka = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            if (a.startsWith("--kafka.") && a.length() > "--kafka.".length()) {
                kafka.put(a.substring("--kafka.".length()), v);
                continue;
            }
            switch (a) {
                case "--bootstrap-servers": bootstrap = v; break;
                case "--topic": topic = v; break;
                case "--bind": bind = v; break;
                case "--port": port = Integer.parseInt(v); break;
                case "--forget-after-seconds": forget = Duration.ofSeconds(Long.parseLong(v)); break;
                default:
                    System.err.println("usage: StatisticsExporter [--bootstrap-servers HOST:PORT] [--topic T] "
                            + "[--bind ADDRESS] [--port P] [--forget-after-seconds S] [--kafka.<property> VALUE ...]");
                    System.exit(64);
            }
        }
        StatisticsExporter exporter = new StatisticsExporter(bootstrap, topic, bind, port, forget, kafka);
        System.out.println("statistics-exporter: " + topic + " on " + bootstrap + " -> http://" + bind + ":"
                + exporter.port() + "/metrics");
        Runtime.getRuntime().addShutdownHook(new Thread(exporter::close));
        Thread.currentThread().join();
    }
}
