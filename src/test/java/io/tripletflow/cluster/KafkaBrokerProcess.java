package io.tripletflow.cluster;

import io.tripletflow.local.EmbeddedKafkaBroker;

import io.tripletflow.local.Loopback;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;

/**
 * A Kafka 4 broker as its own JVM, as an installation runs it: {@code kafka.tools.StorageTool
 * format} on a fresh data directory, then {@code kafka.Kafka server.properties}. One KRaft node
 * (broker and controller), every listener on 127.0.0.1, set up for transactions on one node (the
 * settings of {@code EmbeddedKafkaBroker}). {@link #kill()} is {@code kill -9}; {@link #start()}
 * after it restarts the broker on the same data directory and ports.
 */
final class KafkaBrokerProcess implements AutoCloseable {
    private static final String HOST = Loopback.HOST;

    private final Path dir;
    private final Path serverProperties;
    private final int port;
    private int starts;
    private JavaProcess process;

    private KafkaBrokerProcess(Path dir, Path serverProperties, int port) {
        this.dir = dir;
        this.serverProperties = serverProperties;
        this.port = port;
    }

    /** Writes {@code server.properties} under {@code dir} (free ports) and formats the storage. */
    static KafkaBrokerProcess format(Path dir) throws IOException {
        Files.createDirectories(dir);
        int port = Loopback.freePort();
        int controllerPort = Loopback.freePort();
        while (controllerPort == port) {
            controllerPort = Loopback.freePort();
        }
        Properties props = serverProperties(port, controllerPort, dir.resolve("data").toAbsolutePath().toString());
        Path file = dir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, "tripletflow cluster test: one KRaft node on 127.0.0.1");
        }
        Files.writeString(dir.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = File",
                "appender.file.name = File",
                "appender.file.type = File",
                "appender.file.fileName = ${sys:kafka.logs.dir}/server.log",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "logger.state.name = state.change.logger",
                "logger.state.level = WARN",
                ""));
        KafkaBrokerProcess broker = new KafkaBrokerProcess(dir, file, port);
        JavaProcess format = JavaProcess.start("kafka-storage format", broker.jvmOptions(), TestClassPath.kafka(),
                "kafka.tools.StorageTool",
                List.of("format", "-t", Uuid.randomUuid().toString(), "-c", file.toString()),
                dir.resolve("format.out"), Map.of());
        int status = format.await(Duration.ofSeconds(60));
        if (status != 0) {
            throw new IllegalStateException("kafka-storage format failed (" + status + "):\n" + format.output());
        }
        return broker;
    }

    /**
     * {@link EmbeddedKafkaBroker#serverProperties}, with the transaction timeout limit of
     * docker-compose.yml (15 min, above tripletflow.transaction-timeout).
     */
    static Properties serverProperties(int port, int controllerPort, String logDir) {
        Properties props = EmbeddedKafkaBroker.serverProperties(port, controllerPort, logDir);
        props.put("transaction.max.timeout.ms", "900000");
        return props;
    }

    private List<String> jvmOptions() {
        return List.of("-Xms256m", "-Xmx768m", "-XX:+UseParallelGC", "-Djava.awt.headless=true",
                "-Dkafka.logs.dir=" + dir.toAbsolutePath(),
                "-Dlog4j2.configurationFile=" + dir.resolve("log4j2.properties").toUri());
    }

    /** Starts {@code kafka.Kafka} (again, after {@link #kill()}) and returns once it answers. */
    void start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("the broker runs already");
        }
        starts++;
        process = JavaProcess.start("kafka broker #" + starts, jvmOptions(), TestClassPath.kafka(), "kafka.Kafka",
                List.of(serverProperties.toString()), dir.resolve("broker-" + starts + ".out"), Map.of());
        awaitReady(Duration.ofSeconds(90));
    }

    /** {@code kill -9} of the broker's JVM. */
    void kill() {
        process.kill();
    }

    JavaProcess process() {
        return process;
    }

    String bootstrapServers() {
        return HOST + ":" + port;
    }

    Admin admin() {
        Map<String, Object> conf = new LinkedHashMap<>();
        conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        conf.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return Admin.create(conf);
    }

    /**
     * The broker answers, and its group and transaction coordinators are loaded (a restarted
     * broker reads {@code __consumer_offsets} and {@code __transaction_state} back first).
     */
    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the broker exited:\n" + process.output());
                }
                try {
                    admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                    expect(() -> admin.describeConsumerGroups(List.of("warm-up")).all().get(5, TimeUnit.SECONDS),
                            GroupIdNotFoundException.class);
                    expect(() -> admin.describeTransactions(List.of("warm-up")).all().get(5, TimeUnit.SECONDS),
                            TransactionalIdNotFoundException.class);
                    return;
                } catch (Exception e) {
                    last = e;
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("the broker did not get ready within " + timeout, last);
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void expect(Call call, Class<? extends Exception> expected) throws Exception {
        try {
            call.run();
        } catch (ExecutionException e) {
            if (!expected.isInstance(e.getCause())) {
                throw e;
            }
        }
    }

    /** Creates the topics unless they exist and waits until each partition's leader answers for it. */
    void createTopics(int partitions, String... names) {
        List<NewTopic> topics = new ArrayList<>();
        for (String name : names) {
            topics.add(new NewTopic(name, partitions, (short) 1));
        }
        try (Admin admin = admin()) {
            for (var f : admin.createTopics(topics).values().values()) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
                    admin.describeTopics(Arrays.asList(names)).allTopicNames().get(10, TimeUnit.SECONDS).values()
                            .forEach(t -> t.partitions().forEach(p -> request.put(
                                    new TopicPartition(t.name(), p.partition()), OffsetSpec.latest())));
                    admin.listOffsets(request).all().get(10, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("could not create topics " + Arrays.toString(names), e);
        }
    }

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }
}
