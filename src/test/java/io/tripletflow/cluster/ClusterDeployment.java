package io.tripletflow.cluster;

import io.tripletflow.job.TripletFlowJob;
import io.tripletflow.local.TemporaryDirectory;
import io.tripletflow.stats.SavepointStatistics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension: tripletflow deployed as on real machines, one per test class. A Kafka
 * broker ({@link KafkaBrokerProcess}), a Flink standalone session cluster with two TaskManagers of
 * two slots ({@link StandaloneFlinkCluster}, configured from {@code flink-conf/config.yaml}), the
 * job jar ({@link JobJar}) and Flink's command line client ({@link FlinkCommandLine}); each its
 * own JVM on 127.0.0.1. Every process is killed after the class, also when a test failed; the
 * logs of every JVM stay under {@code target/cluster-itcase/<class>/} (the state is deleted).
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ClusterDeployment DEPLOYMENT = new ClusterDeployment();
 * ...
 * ClusterDeployment.Topics topics = DEPLOYMENT.topics("run-1");
 * String job = DEPLOYMENT.submit(DEPLOYMENT.jobJar(), 2, null, DEPLOYMENT.jobArgs(topics));
 * }</pre>
 *
 * <p>Deviations from {@code flink-conf/config.yaml}, for a test on one small machine: checkpoints
 * every second (both {@code execution.checkpointing.interval} and
 * {@code tripletflow.checkpoint-interval}), heartbeats every second with a 10 s timeout (a killed
 * TaskManager is written off in seconds, not 50 s), no Prometheus reporter.
 */
final class ClusterDeployment implements BeforeAllCallback, AfterAllCallback {
    /** TaskManagers at the start; each has {@code taskmanager.numberOfTaskSlots} (2) slots. */
    static final int TASK_MANAGERS = 2;
    static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(1);

    /** Topic names of one job run. */
    record Topics(String embeddings, String gradients, String deadLetters, String statistics) {}

    private Path work;
    private KafkaBrokerProcess broker;
    private StandaloneFlinkCluster flink;
    private FlinkCommandLine cli;
    private Path jobJar;
    private final Map<String, Long> startup = new LinkedHashMap<>();

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        work = TestClassPath.buildDirectory().resolve("cluster-itcase")
                .resolve(context.getRequiredTestClass().getSimpleName());
        TemporaryDirectory.delete(work);
        Files.createDirectories(work);
        long t0 = System.nanoTime();
        try {
            broker = KafkaBrokerProcess.format(work.resolve("kafka"));
            broker.start();
            startup.put("kafka broker", millisSince(t0));
            long t1 = System.nanoTime();
            FlinkConfigDirectory conf = FlinkConfigDirectory.write(Path.of("flink-conf", "config.yaml"),
                    work.resolve("conf"), work.resolve("state"), Map.of(
                            "tripletflow.bootstrap-servers", broker.bootstrapServers(),
                            "execution.checkpointing.interval", seconds(CHECKPOINT_INTERVAL),
                            "tripletflow.checkpoint-interval", seconds(CHECKPOINT_INTERVAL),
                            "heartbeat.interval", "1 s",
                            "heartbeat.timeout", "10 s"));
            flink = StandaloneFlinkCluster.start(conf, TASK_MANAGERS);
            startup.put("flink cluster", millisSince(t1));
            cli = new FlinkCommandLine(conf);
            jobJar = JobJar.build(TestClassPath.jobClasses(), work.resolve("jars/tripletflow-job.jar"), "cluster-test",
                    Map.of());
        } catch (Exception | Error e) {
            afterAll(context);
            throw e;
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() + " ms";
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (flink != null) {
            flink.close();
        }
        if (broker != null) {
            broker.close();
        }
        try {
            System.out.println("WARN and ERROR lines of the deployment's logs (count | file | level logger: message):");
            ClusterLogs.warningsAndErrors(ClusterLogs.logsUnder(work))
                    .forEach((line, count) -> System.out.printf("%5d | %s%n", count, line));
        } catch (java.io.IOException e) {
            System.out.println("(logs not readable: " + e + ")");
        }
        // What a run leaves besides its logs (state, RocksDB's and the RPC system's unpacked jars
        // of every TaskManager, the broker's data) is some 250 MB.
        TemporaryDirectory.delete(work.resolve("state"));
        TemporaryDirectory.delete(work.resolve("kafka").resolve("data"));
        System.out.println("cluster logs: " + work);
    }

    /** Creates the run's topics: embeddings (4 partitions: up to parallelism 4), gradients (2), dead letters, statistics. */
    Topics topics(String run) {
        Topics t = new Topics("embeddings-" + run, "gradients-" + run, "dead-letters-" + run, "statistics-" + run);
        broker.createTopics(4, t.embeddings());
        broker.createTopics(2, t.gradients());
        broker.createTopics(1, t.deadLetters(), t.statistics());
        return t;
    }

    /** The job's arguments for a run on {@code topics}, as an operator passes them to {@code flink run}; then {@code extra}. */
    List<String> jobArgs(Topics topics, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--bootstrap-servers", broker.bootstrapServers(),
                "--embeddings-topics", topics.embeddings(),
                "--gradients-topic", topics.gradients(),
                "--dead-letter-topic", topics.deadLetters(),
                "--statistics-topic", topics.statistics(),
                "--group-id", "tf-" + topics.embeddings(),
                "--transactional-id-prefix", "tf-" + topics.embeddings(),
                "--backend", "cpu"));
        args.addAll(List.of(extra));
        return args;
    }

    /** The job's options as the job itself resolves them on this cluster ({@code config.yaml}, then the arguments). */
    Configuration jobConfiguration(List<String> jobArgs) {
        return TripletFlowJob.configuration(flink.conf().load(), jobArgs.toArray(String[]::new));
    }

    /** {@code flink run -d}: the jar with the job's dependencies on the user class path; returns the job id. */
    String submit(Path jar, int parallelism, String savepoint, List<String> jobArgs) throws Exception {
        String job = cli.run(jar, TestClassPath.jobDependencies(), parallelism, savepoint, jobArgs);
        Waits.until("job " + job + " running with every task", Duration.ofSeconds(120),
                () -> flink.rest().allTasksRunning(job));
        return job;
    }

    /** {@code flink stop --savepointPath}: returns the savepoint's path. */
    String stopWithSavepoint(String job) {
        return cli.stop(job, work.resolve("state").resolve("savepoints"));
    }

    /** The per-key statistics in a savepoint, as {@code bin/tripletflow stats --savepoint PATH --json} prints them. */
    static List<Map<String, Object>> statistics(String savepoint) throws Exception {
        return SavepointStatistics.read(savepoint, SavepointStatistics.MINING_UID);
    }

    /** A second job jar for an upgrade: the same classes, another version in the manifest and an extra resource. */
    Path upgradedJobJar(String version) throws Exception {
        return JobJar.build(TestClassPath.jobClasses(), work.resolve("jars/tripletflow-job-" + version + ".jar"), version,
                Map.of("META-INF/tripletflow-release.txt", "tripletflow " + version + "\n"));
    }

    KafkaBrokerProcess broker() {
        return broker;
    }

    StandaloneFlinkCluster flink() {
        return flink;
    }

    Path jobJar() {
        return jobJar;
    }

    /** Milliseconds the broker and the cluster took to start. */
    Map<String, Long> startup() {
        return startup;
    }

    /** Every JVM of the deployment that runs now: the cluster's and the broker. */
    List<JavaProcess> processes() {
        List<JavaProcess> all = new ArrayList<>(flink.processes());
        all.add(broker.process());
        return all;
    }
}
