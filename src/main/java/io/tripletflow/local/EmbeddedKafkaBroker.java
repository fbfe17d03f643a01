package io.tripletflow.local;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka 4 (KRaft, combined broker + controller) running inside this JVM.
 *
 * <p>Everything binds to {@code 127.0.0.1}: the client listener ({@code PLAINTEXT}) and the
 * controller listener ({@code CONTROLLER}). Ports are either given or picked free. Storage lives
 * in a temporary directory that {@link #close()} deletes.
 *
 * <p>{@link Builder#saslSslListener} adds a {@code SASL_SSL} listener (TLS, SCRAM users created when
 * the storage is formatted) beside the {@code PLAINTEXT} one, which the broker keeps for itself
 * and for {@link #admin()}: {@link #saslSslBootstrapServers()} is the address of a secured cluster.
 *
 * <p>The broker is configured for exactly-once sinks on a single node: replication factor and
 * min-ISR 1 for the internal topics, {@code transaction.max.timeout.ms} = 1 h (so a Flink
 * {@code KafkaSink} with its default {@code transaction.timeout.ms} of 1 h is accepted) and
 * {@code group.initial.rebalance.delay.ms} = 0.
 *
 * <p>Needs {@code org.apache.kafka:kafka_2.13} (and its transitive server jars) on the class
 * path at run time; in this project that artifact is {@code provided}, which is the case for
 * local mode and tests but not for the job jar.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.builder().build().start()) {
 *     kafka.createTopics(2, "in", "out");
 *     String bootstrap = kafka.bootstrapServers();   // "127.0.0.1:<port>"
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /** Host every listener binds to and advertises. */
    public static final String HOST = Loopback.HOST;

    /** Default upper bound for transaction timeouts the broker accepts: 1 hour. */
    public static final long DEFAULT_TRANSACTION_MAX_TIMEOUT_MS = TimeUnit.HOURS.toMillis(1);

    private static final int NODE_ID = 1;
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String SASL_SSL_LISTENER = "SASL_SSL";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final int MAX_START_ATTEMPTS = 3;

    private final int requestedPort;
    private final int requestedControllerPort;
    private final Map<String, String> overrides;
    private final boolean quietLogging;
    private final Duration adminTimeout;
    private final SaslSslListener saslSsl;

    private KafkaRaftServer server;
    private Path dataDir;
    private int port = -1;
    private int controllerPort = -1;
    private int saslSslPort = -1;
    private Duration startupTime;

    private EmbeddedKafkaBroker(Builder builder) {
        this.requestedPort = builder.port;
        this.requestedControllerPort = builder.controllerPort;
        this.overrides = new LinkedHashMap<>(builder.overrides);
        this.quietLogging = builder.quietLogging;
        this.adminTimeout = builder.adminTimeout;
        this.saslSsl = builder.saslSsl;
    }

    /** A broker on a free port, with defaults. Call {@link #start()}. */
    public EmbeddedKafkaBroker() {
        this(new Builder());
    }

    /** A broker on the given client port (0 = a free one). Call {@link #start()}. */
    public EmbeddedKafkaBroker(int port) {
        this(new Builder().port(port));
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Formats a fresh temporary storage directory and starts the broker+controller; returns once
     * the broker is unfenced and answers admin requests. Idempotent while running.
     */
    public synchronized EmbeddedKafkaBroker start() {
        if (server != null) {
            return this;
        }
        if (quietLogging) {
            QuietLogging.kafka();
        }
        long t0 = System.nanoTime();
        RuntimeException last = null;
        int attempts = (requestedPort == 0 || requestedControllerPort == 0) ? MAX_START_ATTEMPTS : 1;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                startOnce();
                startupTime = Duration.ofNanos(System.nanoTime() - t0);
                return this;
            } catch (RuntimeException e) {
                // A free port picked by us can be taken by someone else before the broker binds it.
                last = e;
                stopQuietly();
            }
        }
        throw new IllegalStateException("Could not start the embedded Kafka broker", last);
    }

    private void startOnce() {
        try {
            dataDir = Files.createTempDirectory("tripletflow-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        port = requestedPort > 0 ? requestedPort : Loopback.freePort();
        controllerPort = requestedControllerPort > 0 ? requestedControllerPort : Loopback.freePort();
        while (controllerPort == port) {
            controllerPort = Loopback.freePort();
        }
        saslSslPort = -1;
        if (saslSsl != null) {
            do {
                saslSslPort = Loopback.freePort();
            } while (saslSslPort == port || saslSslPort == controllerPort);
        }
        String logDir = dataDir.resolve("log").toAbsolutePath().toString();

        Properties props = serverProperties(port, controllerPort, logDir);
        if (saslSsl != null) {
            String secured = "," + SASL_SSL_LISTENER + "://" + HOST + ":" + saslSslPort;
            props.put("listeners", props.getProperty("listeners") + secured);
            props.put("advertised.listeners", props.getProperty("advertised.listeners") + secured);
            props.put("listener.security.protocol.map",
                    props.getProperty("listener.security.protocol.map") + "," + SASL_SSL_LISTENER + ":SASL_SSL");
            saslSsl.addTo(props, "listener.name." + SASL_SSL_LISTENER.toLowerCase(Locale.ROOT) + ".");
        }
        props.putAll(overrides);

        KafkaConfig config = KafkaConfig.fromProps(props, false);
        format(logDir);
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        awaitReady();
    }

    /**
     * The settings of a single-node KRaft broker on 127.0.0.1 (broker and controller in one, one
     * replica of everything, records up to the job's default bounds): this broker's, and the
     * cluster tests' broker JVM's ({@code kafka.Kafka server.properties}).
     */
    public static Properties serverProperties(int port, int controllerPort, String logDir) {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        props.put("listeners",
                BROKER_LISTENER + "://" + HOST + ":" + port + ","
                        + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
        props.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + port);
        props.put("listener.security.protocol.map",
                BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", BROKER_LISTENER);
        props.put("log.dirs", logDir);
        props.put("metadata.log.dir", logDir);
        // Single node: internal topics with one replica, few partitions (fast start).
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "5");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "5");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("default.replication.factor", "1");
        props.put("min.insync.replicas", "1");
        props.put("num.partitions", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        // Flink's KafkaSink defaults transaction.timeout.ms to 1 h; the broker default max is 15 min.
        props.put("transaction.max.timeout.ms", String.valueOf(DEFAULT_TRANSACTION_MAX_TIMEOUT_MS));
        // Batches and answers up to the job's default tripletflow.max-record-bytes (64 MiB), mask included.
        props.put("message.max.bytes", "70000000");
        props.put("auto.create.topics.enable", "true");
        props.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        props.put("num.network.threads", "2");
        props.put("num.io.threads", "4");
        props.put("background.threads", "2");
        props.put("log.message.timestamp.after.max.ms", String.valueOf(Long.MAX_VALUE));
        return props;
    }

    private void format(String logDir) {
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .setDirectories(List.of(logDir))
                .setMetadataLogDirectory(logDir)
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setControllerListenerName(CONTROLLER_LISTENER);
        if (saslSsl != null) {
            formatter.setScramArguments(saslSsl.scramArguments()); // the users exist from the first start
        }
        try {
            formatter.run();
        } catch (Exception e) {
            throw new IllegalStateException("Could not format Kafka storage in " + logDir, e);
        }
    }

    private void awaitReady() {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(adminTimeout.toMillis(), TimeUnit.MILLISECONDS);
            // Looking up a group coordinator creates __consumer_offsets now rather than on the
            // first consumer commit (which would log CoordinatorNotAvailable warnings).
            try {
                admin.describeConsumerGroups(List.of("embedded-kafka-warmup")).all()
                        .get(adminTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                    throw e;
                }
            }
            // Likewise __transaction_state, which the first transactional producer (an
            // exactly-once sink) would otherwise wait for in initTransactions().
            try {
                admin.describeTransactions(List.of("embedded-kafka-warmup")).all()
                        .get(adminTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TransactionalIdNotFoundException)) {
                    throw e;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the broker", e);
        } catch (Exception e) {
            throw new IllegalStateException("The embedded broker did not answer", e);
        }
    }

    /** {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        checkRunning();
        return HOST + ":" + port;
    }

    /**
     * {@code 127.0.0.1:<port>} of the {@code SASL_SSL} listener.
     *
     * @throws IllegalStateException if the broker has none ({@link Builder#saslSslListener})
     */
    public String saslSslBootstrapServers() {
        checkRunning();
        if (saslSsl == null) {
            throw new IllegalStateException("this broker has no SASL_SSL listener");
        }
        return HOST + ":" + saslSslPort;
    }

    /** The client (PLAINTEXT) port. */
    public int port() {
        checkRunning();
        return port;
    }

    /** The KRaft controller port. */
    public int controllerPort() {
        checkRunning();
        return controllerPort;
    }

    /** Wall time {@link #start()} took (formatting + startup + first admin round trip). */
    public Duration startupTime() {
        checkRunning();
        return startupTime;
    }

    /** The temporary storage directory (deleted by {@link #close()}). */
    public Path dataDir() {
        checkRunning();
        return dataDir;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** A new admin client for this broker; the caller closes it. */
    public Admin admin() {
        Map<String, Object> conf = new LinkedHashMap<>();
        conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, HOST + ":" + port);
        conf.put(CommonClientConfigs.CLIENT_ID_CONFIG, "embedded-kafka-admin");
        conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) adminTimeout.toMillis());
        conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) adminTimeout.toMillis());
        return Admin.create(conf);
    }

    /**
     * Creates the topics (replication factor 1) unless they exist, and waits until every
     * partition's leader answers for it (so that producers can write at once).
     */
    public void createTopics(int partitions, String... names) {
        checkRunning();
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1: " + partitions);
        }
        List<NewTopic> topics = new ArrayList<>();
        for (String name : names) {
            topics.add(new NewTopic(Objects.requireNonNull(name), partitions, (short) 1));
        }
        long timeoutMs = adminTimeout.toMillis();
        try (Admin admin = admin()) {
            for (var e : admin.createTopics(topics).values().entrySet()) {
                try {
                    e.getValue().get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw ex;
                    }
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            // The metadata cache (what describeTopics and producers see) can name a leader before
            // the leader has created the partition's log; a producer sending then gets
            // NOT_LEADER_OR_FOLLOWER, and an idempotent one can get stuck retrying with
            // OUT_OF_ORDER_SEQUENCE_NUMBER. ListOffsets is answered by the partition leader
            // itself, so its success means the partitions are writable.
            while (true) {
                try {
                    Map<String, TopicDescription> d = admin.describeTopics(Arrays.asList(names))
                            .allTopicNames().get(timeoutMs, TimeUnit.MILLISECONDS);
                    Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
                    for (TopicDescription t : d.values()) {
                        t.partitions().forEach(p ->
                                request.put(new TopicPartition(t.name(), p.partition()), OffsetSpec.latest()));
                    }
                    if (!request.isEmpty()) {
                        admin.listOffsets(request).all().get(timeoutMs, TimeUnit.MILLISECONDS);
                        return;
                    }
                } catch (ExecutionException ignored) {
                    // unknown topic / not leader yet while metadata propagates: retry
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Topics not ready in time: " + Arrays.toString(names));
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating topics", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Could not create topics " + Arrays.toString(names), e);
        }
    }

    /** Stops the server and deletes its storage. Safe to call more than once. */
    @Override
    public synchronized void close() {
        stopQuietly();
    }

    private void stopQuietly() {
        KafkaRaftServer s = server;
        server = null;
        if (s != null) {
            try {
                s.shutdown();
                s.awaitShutdown();
            } catch (Throwable ignored) {
                // best effort
            }
        }
        if (dataDir != null) {
            TemporaryDirectory.delete(dataDir);
            dataDir = null;
        }
    }

    private void checkRunning() {
        if (server == null) {
            throw new IllegalStateException("The embedded Kafka broker is not running");
        }
    }


    /**
     * A {@code SASL_SSL} listener: TLS with the certificate and key in {@code keyStore} (PKCS12), SCRAM
     * with {@code mechanism} for the {@code users} (name to password; neither may contain
     * {@code ,}, {@code =} or brackets).
     */
    public record SaslSslListener(String mechanism, Path keyStore, String keyStorePassword, Map<String, String> users) {
        public SaslSslListener {
            if (!mechanism.equals("SCRAM-SHA-256") && !mechanism.equals("SCRAM-SHA-512")) {
                throw new IllegalArgumentException("mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512: " + mechanism);
            }
            Objects.requireNonNull(keyStore, "keyStore");
            Objects.requireNonNull(keyStorePassword, "keyStorePassword");
            users = Map.copyOf(users);
            for (Map.Entry<String, String> u : users.entrySet()) {
                if ((u.getKey() + u.getValue()).matches(".*[,=\\[\\]].*")) {
                    throw new IllegalArgumentException("SCRAM user names and passwords here must not contain , = [ ]");
                }
            }
        }

        /** The listener's broker properties, each key starting with {@code prefix} ({@code listener.name.<name>.}). */
        void addTo(Properties props, String prefix) {
            props.put("sasl.enabled.mechanisms", mechanism);
            props.put(prefix + "sasl.enabled.mechanisms", mechanism);
            props.put(prefix + mechanism.toLowerCase(Locale.ROOT) + ".sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            props.put(prefix + "ssl.keystore.type", "PKCS12");
            props.put(prefix + "ssl.keystore.location", keyStore.toAbsolutePath().toString());
            props.put(prefix + "ssl.keystore.password", keyStorePassword);
            props.put(prefix + "ssl.key.password", keyStorePassword);
        }

        /** The users as the storage formatter takes them ({@code kafka-storage format --add-scram}). */
        List<String> scramArguments() {
            List<String> args = new ArrayList<>();
            users.forEach((name, password) -> args.add(mechanism + "=[name=" + name + ",password=" + password + "]"));
            return args;
        }
    }

    /** Options for {@link EmbeddedKafkaBroker}. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private boolean quietLogging = true;
        private Duration adminTimeout = Duration.ofSeconds(30);
        private SaslSslListener saslSsl;

        private Builder() {
        }

        /**
         * Adds a {@code SASL_SSL} listener on 127.0.0.1 (a free port, see
         * {@link #saslSslBootstrapServers()}); the {@code PLAINTEXT} listener stays, for the broker's
         * own traffic and {@link #admin()}.
         */
        public Builder saslSslListener(SaslSslListener listener) {
            this.saslSsl = Objects.requireNonNull(listener);
            return this;
        }

        /** Client port; 0 (default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port: " + port);
            }
            this.port = port;
            return this;
        }

        /** Controller port; 0 (default) picks a free one. */
        public Builder controllerPort(int controllerPort) {
            if (controllerPort < 0 || controllerPort > 65535) {
                throw new IllegalArgumentException("controllerPort: " + controllerPort);
            }
            this.controllerPort = controllerPort;
            return this;
        }

        /** Any broker property; applied last (overrides the defaults above). */
        public Builder brokerProperty(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        /**
         * When true (default), raises the Kafka server and client loggers to WARN if Log4j 2
         * is the logging backend; otherwise leaves logging alone.
         */
        public Builder quietLogging(boolean quietLogging) {
            this.quietLogging = quietLogging;
            return this;
        }

        /** Timeout of admin calls (readiness check, topic creation); default 30 s. */
        public Builder adminTimeout(Duration adminTimeout) {
            this.adminTimeout = Objects.requireNonNull(adminTimeout);
            return this;
        }

        public EmbeddedKafkaBroker build() {
            return new EmbeddedKafkaBroker(this);
        }
    }
}
