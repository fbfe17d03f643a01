package io.tripletflow.local;

import static io.tripletflow.job.TripletFlowOptions.BACKEND;
import static io.tripletflow.job.TripletFlowOptions.BOOTSTRAP_SERVERS;
import static io.tripletflow.job.TripletFlowOptions.CHECKPOINT_INTERVAL;
import static io.tripletflow.job.TripletFlowOptions.DEAD_LETTER_TOPIC;
import static io.tripletflow.job.TripletFlowOptions.DELIVERY_GUARANTEE;
import static io.tripletflow.job.TripletFlowOptions.EMBEDDINGS_TOPICS;
import static io.tripletflow.job.TripletFlowOptions.GRADIENTS_TOPIC;
import static io.tripletflow.job.TripletFlowOptions.STATISTICS_TOPIC;

import io.tripletflow.engine.MiningOptions;
import io.tripletflow.job.DeliveryMode;
import io.tripletflow.job.KafkaClientProperties;
import io.tripletflow.job.TripletFlowJob;
import io.tripletflow.job.TripletFlowOptions;
import io.tripletflow.trainer.TrainerClient;
import io.tripletflow.wire.GradientsTopic;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Everything of a local run in one process: an embedded Kafka broker, the topics, a local Flink
 * cluster (web dashboard, RocksDB, checkpoints) running the tripletflow job, and optionally the
 * {@link DemoTrainer} talking to it through a {@link TrainerClient}. All on 127.0.0.1; all
 * temporary files under one directory that {@link #close()} deletes.
 *
 * <pre>{@code
 * try (LocalMode local = LocalMode.start(LocalModeOptions.parse(args, 0), System.out)) {
 *     DemoTrainer.Summary s = local.runDemoTrainer(progress -> System.out.println(progress));
 * }
 * }</pre>
 */
public final class LocalMode implements AutoCloseable {

    /** The topics of the run. {@code gradients} may be a template with {@code {key}}. */
    public record Topics(List<String> embeddings, String gradients, String deadLetters, String statistics) {}

    private final LocalModeOptions options;
    private final PrintStream log;
    private final Configuration conf;
    private Path workDir;
    private EmbeddedKafkaBroker broker;
    private LocalFlinkCluster cluster;
    private JobClient job;
    private Topics topics;
    private String backend;
    private volatile String jobEnded;

    private volatile boolean stopping;
    private volatile boolean stopRequested;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile DemoTrainer trainer;
    private volatile TrainerClient client;
    private volatile TrainerClient.Stats clientStats;
    private boolean closed;

    /**
     * A local run of these options, not started yet: see {@link #start()}.
     *
     * @throws IllegalArgumentException for an invalid job option
     */
    public LocalMode(LocalModeOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
        this.conf = jobConfiguration(options); // a bad job option fails here, before anything starts
    }

    /** {@code new LocalMode(options, log).start()}. */
    public static LocalMode start(LocalModeOptions options, PrintStream log) throws Exception {
        return new LocalMode(options, log).start();
    }

    /**
     * Starts broker, topics, cluster and job; returns once the job's tasks run (or after 60 s).
     * On failure, or if {@link #stop()} is called meanwhile, everything started is closed again
     * and the exception is thrown ({@link IllegalStateException} for a stop).
     */
    public LocalMode start() throws Exception {
        try {
            startAll();
            return this;
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /**
     * The job's configuration from the options' job arguments, with local mode's checkpoint
     * interval (1 s) unless one was given; the broker address is added by {@link #start}.
     * {@code --kafka.<property>} options reach the job and the demo trainer alike; the embedded
     * broker listens {@code PLAINTEXT} only, so another {@code security.protocol} is refused.
     *
     * @throws IllegalArgumentException for an unknown option or an invalid value
     */
    public static Configuration jobConfiguration(LocalModeOptions options) {
        Configuration conf = TripletFlowJob.configuration(new Configuration(), options.jobArgs());
        String protocol = KafkaClientProperties.of(conf).getOrDefault("security.protocol", "PLAINTEXT");
        if (!protocol.equalsIgnoreCase("PLAINTEXT")) {
            throw new IllegalArgumentException("--kafka.security.protocol " + protocol + ": local mode's embedded "
                    + "Kafka broker listens PLAINTEXT on " + Loopback.HOST + "; secured Kafka is for a cluster of "
                    + "your own: run the job there (see 'Secured Kafka' in docs/configuration.md)");
        }
        if (!conf.contains(CHECKPOINT_INTERVAL)) {
            conf.set(CHECKPOINT_INTERVAL, LocalModeOptions.DEFAULT_CHECKPOINT_INTERVAL);
        }
        return conf;
    }

    private void startAll() throws Exception {
        synchronized (this) {
            if (workDir != null || closed) {
                throw new IllegalStateException("a LocalMode starts once");
            }
            workDir = Files.createTempDirectory("tripletflow-local-");
        }
        int kafkaPort = choosePort("kafka-port", options.kafkaPort(), options.kafkaPortGiven());
        broker = EmbeddedKafkaBroker.builder().port(kafkaPort).build().start();
        conf.set(BOOTSTRAP_SERVERS, broker.bootstrapServers());
        checkNotStopping();

        List<String> embeddings = Arrays.stream(conf.get(EMBEDDINGS_TOPICS).split(","))
                .map(String::trim).filter(t -> !t.isEmpty()).toList();
        topics = new Topics(embeddings, conf.get(GRADIENTS_TOPIC), conf.get(DEAD_LETTER_TOPIC), conf.get(STATISTICS_TOPIC));
        broker.createTopics(2, embeddings.toArray(new String[0]));
        Set<String> others = new LinkedHashSet<>();
        if (!GradientsTopic.of(topics.gradients).perKey()) {
            others.add(topics.gradients);
        } else if (options.trainer()) {
            others.add(GradientsTopic.of(topics.gradients).forKey(options.demo().streamKey()));
        } // else: created by the job's first answer for each key (auto.create.topics.enable)
        others.add(topics.deadLetters);
        others.add(topics.statistics);
        broker.createTopics(1, others.toArray(new String[0]));
        checkNotStopping();

        int webPort = choosePort("web-port", options.webPort(), options.webPortGiven());
        Path tmp = Files.createDirectories(workDir.resolve("flink-tmp"));
        cluster = LocalFlinkCluster.builder()
                .webPort(webPort)
                .parallelism(options.parallelism())
                .checkpointInterval(conf.get(CHECKPOINT_INTERVAL))
                .checkpointDir(workDir.resolve("checkpoints"))
                .set("io.tmp.dirs", tmp.toString())
                .set("web.tmpdir", tmp.resolve("web").toString())
                .set("blob.storage.directory", tmp.resolve("blobs").toString())
                // The dashboard's metrics refresh every second (default 10 s).
                .set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL.key(), "1 s")
                .build();
        StreamExecutionEnvironment env = cluster.createEnvironment();
        TripletFlowJob.build(env, conf);
        job = env.executeAsync("tripletflow (local)");
        job.getJobExecutionResult().whenComplete((result, error) -> {
            jobEnded = error == null ? "finished" : "ended: " + rootMessage(error);
            if (!stopping) {
                log.println("tripletflow local: the job " + jobEnded);
                stop();
            }
        });
        FlinkRest rest = new FlinkRest(webUiUrl() + "jobs/" + job.getJobID());
        awaitTasksRunning(rest, Duration.ofSeconds(60));
        checkNotStopping();
        backend = rest.miningBackend(Duration.ofSeconds(15));
        if (backend == null) {
            backend = conf.get(BACKEND) + " (not reported yet)";
        }
    }

    private void checkNotStopping() {
        if (stopRequested) {
            throw new IllegalStateException("local mode was stopped while starting");
        }
    }

    // ---- What runs

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** {@code http://127.0.0.1:<port>/}, the Flink dashboard. */
    public String webUiUrl() {
        return cluster.webUiUrl();
    }

    public Topics topics() {
        return topics;
    }

    public JobID jobId() {
        return job.getJobID();
    }

    /** The job's effective configuration (job options, broker address, checkpoint interval). */
    public Configuration configuration() {
        return new Configuration(conf);
    }

    /** The mining backend the job reports (its {@code tripletflow.backend} metric), e.g. {@code cpu (vector API, 1 threads)}. */
    public String backend() {
        return backend;
    }

    /** A one-line description of the mining and delivery settings. */
    public String describeJob() {
        MiningOptions m = TripletFlowOptions.miningOptions(conf);
        return MiningOptions.optionName(m.miner()) + " / " + MiningOptions.optionName(m.distance()) + " / "
                + MiningOptions.optionName(m.loss()) + ", margin " + m.margin() + ", neg-num " + m.negNum()
                + (m.memoryRows() == 0 ? "" : ", cross-batch memory " + m.memoryRows() + " rows per key (warm-up "
                        + m.memoryWarmUp() + " batches)")
                + "; " + conf.get(DELIVERY_GUARANTEE) + ", checkpoints every "
                + conf.get(CHECKPOINT_INTERVAL).toMillis() + " ms, RocksDB";
    }

    /** The job's delivery mode ({@code tripletflow.delivery-guarantee}). */
    public DeliveryMode deliveryMode() {
        return conf.get(DELIVERY_GUARANTEE);
    }

    /** Why the job is no longer running, or null while it runs. */
    public String jobEnded() {
        return jobEnded;
    }

    public LocalModeOptions options() {
        return options;
    }

    /**
     * Runs the demo trainer against the job for the options' duration (or until {@link #stop()}),
     * reporting progress every progress interval. Returns its summary; {@link #clientStats()} then
     * holds the client's counters.
     */
    public DemoTrainer.Summary runDemoTrainer(Consumer<DemoTrainer.Progress> progress) {
        DemoTrainer.Settings demo = options.demo();
        TrainerClient c = TrainerClient.builder(bootstrapServers())
                .embeddingsTopic(topics.embeddings.get(0))
                .gradientsTopic(topics.gradients)
                .streamKeys(demo.streamKey())
                .maxInFlight(options.maxInFlight())
                .clientId("tripletflow-demo")
                .kafkaProperties(KafkaClientProperties.of(conf))
                .build();
        client = c;
        DemoTrainer t = new DemoTrainer(demo);
        trainer = t;
        if (stopping) {
            t.stop();
        }
        try {
            return t.train(c, options.effectiveDuration(), progress);
        } finally {
            clientStats = c.stats();
            c.close();
            client = null;
        }
    }

    /** The demo's trainer (null before {@link #runDemoTrainer}). */
    public DemoTrainer trainer() {
        return trainer;
    }

    /** The trainer client's counters after {@link #runDemoTrainer}, or live while it runs. */
    public TrainerClient.Stats clientStats() {
        TrainerClient c = client;
        return c != null ? c.stats() : clientStats;
    }

    /** Waits until {@link #stop()} (or the duration, if given; null = no limit). */
    public void awaitStop(Duration limit) throws InterruptedException {
        if (limit == null) {
            stopped.await();
        } else {
            stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Asks the run to end: the trainer stops, {@link #awaitStop} returns. From any thread. */
    public void stop() {
        stopRequested = true;
        stopping = true;
        DemoTrainer t = trainer;
        if (t != null) {
            t.stop();
        }
        stopped.countDown();
    }

    /** Whether {@link #stop()} was called. */
    public boolean isStopRequested() {
        return stopRequested;
    }

    /**
     * Cancels the job and waits for the cluster to go, closes the broker and deletes the
     * temporary directory. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        stopped.countDown();
        DemoTrainer t = trainer;
        if (t != null) {
            t.stop();
        }
        TrainerClient c = client;
        if (c != null) {
            c.close();
        }
        if (job != null && cluster != null) {
            try {
                if (!job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                    job.cancel().get(30, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                // already gone, or shutting down concurrently
            }
            try {
                job.getJobExecutionResult().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                // cancelled: expected
            }
            awaitPortClosed(cluster.webPort(), Duration.ofSeconds(15));
        }
        if (cluster != null) {
            cluster.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (workDir != null) {
            TemporaryDirectory.delete(workDir);
        }
    }

    // ---- Helpers

    /** The preferred port if free (or, given explicitly, required free); 0 = any free port. */
    static int choosePort(String name, int requested, boolean explicit) {
        if (requested == 0) {
            return Loopback.freePort();
        }
        if (Loopback.isFree(requested)) {
            return requested;
        }
        if (explicit) {
            throw new IllegalStateException(name + " " + requested + " on " + Loopback.HOST + " is in use");
        }
        return Loopback.freePort();
    }

    /** Polls the REST API until every vertex of the job is RUNNING. */
    private void awaitTasksRunning(FlinkRest rest, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && jobEnded == null && !stopping) {
            if (rest.allVerticesRunning()) {
                return;
            }
            Thread.sleep(100);
        }
    }

    /** The few REST calls local mode makes to its own cluster. */
    private final class FlinkRest {
        private final ObjectMapper json = new ObjectMapper();
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        private final String jobUrl;

        FlinkRest(String jobUrl) {
            this.jobUrl = jobUrl;
        }

        JsonNode get(String url) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 ? json.readTree(r.body()) : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        boolean allVerticesRunning() {
            JsonNode job = get(jobUrl);
            if (job == null || !job.has("vertices") || job.get("vertices").isEmpty()) {
                return false;
            }
            for (JsonNode v : job.get("vertices")) {
                if (!"RUNNING".equals(v.path("status").asText())) {
                    return false;
                }
            }
            return true;
        }

        /** The mining operator's {@code tripletflow.backend} gauge (subtask 0), or null. */
        String miningBackend(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && jobEnded == null && !stopping) {
                JsonNode job = get(jobUrl);
                if (job != null) {
                    for (JsonNode v : job.path("vertices")) {
                        if (v.path("name").asText().contains("mine triplets")) {
                            String metricsUrl = jobUrl + "/vertices/" + v.path("id").asText() + "/metrics";
                            String value = gauge(metricsUrl, ".tripletflow.backend");
                            if (value != null) {
                                return value;
                            }
                        }
                    }
                }
                Thread.sleep(250);
            }
            return null;
        }

        private String gauge(String metricsUrl, String suffix) {
            JsonNode available = get(metricsUrl);
            if (available == null) {
                return null;
            }
            for (JsonNode m : available) {
                String id = m.path("id").asText();
                if (id.endsWith(suffix)) {
                    JsonNode values = get(metricsUrl + "?get=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
                    if (values != null && values.size() > 0 && values.get(0).has("value")) {
                        return values.get(0).get("value").asText();
                    }
                }
            }
            return null;
        }
    }

    private static void awaitPortClosed(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(Loopback.HOST, port), 200);
            } catch (IOException e) {
                return; // nothing listens any more: the cluster is down
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        List<Throwable> seen = new ArrayList<>();
        while (root.getCause() != null && !seen.contains(root.getCause())) {
            seen.add(root);
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** The temporary directory of this run (deleted by {@link #close()}); null before {@link #start()}. */
    public Path workDir() {
        return workDir;
    }
}
