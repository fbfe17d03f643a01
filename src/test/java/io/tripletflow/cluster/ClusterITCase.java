package io.tripletflow.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.cluster.ClusterDeployment.Topics;
import io.tripletflow.cluster.DeliveryVerdict.Counts;
import io.tripletflow.cluster.TrainerLoad.Sent;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.OfflineEngine;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CoreOptions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * tripletflow on a real Flink cluster under faults, in both delivery modes: Flink's own
 * JobManager and TaskManagers and a Kafka broker, each its own JVM ({@link ClusterDeployment}),
 * the job submitted with {@code flink run}, trainers publishing all along ({@link TrainerLoad}).
 * While they publish: {@code kill -9} of a TaskManager that runs tasks and a replacement started,
 * {@code kill -9} of the broker and a restart on its data, another TaskManager killed. Then the
 * job is stopped with a savepoint, and:
 *
 * <ul>
 *   <li>every (stream key, batch id) sent was applied exactly once by the parameter servers:
 *       through the {@link io.tripletflow.delivery.Deduplicator} in the {@code idempotent} mode,
 *       as read with {@code read_committed} in the {@code exactly-once} mode (no copy at all twice);</li>
 *   <li>every copy of every answer is the offline engine's answer byte for byte;</li>
 *   <li>the savepoint's per-key statistics are those of every batch folded once, in order (the
 *       state is exactly-once across the failures).</li>
 * </ul>
 *
 * {@link ClusterRescaleITCase} takes the job through savepoints, rescaling and an upgrade.
 */
class ClusterITCase {
    static final List<String> KEYS = List.of("trainer-a", "trainer-b", "trainer-c", "trainer-d");
    static final int BATCHES_PER_SECOND = 20;
    static final int ROWS = 16;
    static final int DIMENSION = 8;
    static final Duration CATCH_UP = Duration.ofSeconds(120);

    @RegisterExtension
    static final ClusterDeployment DEPLOYMENT = new ClusterDeployment();

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyProcessListensOnLoopbackOnlyAndHasFlinksJava17Options() throws Exception {
        List<String> java17 = StandaloneFlinkCluster.words(DEPLOYMENT.flink().conf().load()
                .get(CoreOptions.FLINK_DEFAULT_JVM_OPTIONS));
        assertThat(java17).as("env.java.default-opts.all of flink-conf/config.yaml")
                .contains("--add-opens=java.base/java.util=ALL-UNNAMED");
        for (JavaProcess p : DEPLOYMENT.flink().processes()) {
            List<String> running = ProcessHandle.of(p.pid()).flatMap(h -> h.info().arguments()).map(List::of)
                    .orElse(p.command());
            assertThat(running).as("command line of %s", p).containsAll(java17).contains("jdk.incubator.vector");
        }
        if (ListeningSockets.available()) {
            List<ListeningSockets.Listener> listeners = ListeningSockets.of(DEPLOYMENT.processes());
            System.out.println("listening: " + listeners);
            assertThat(listeners).as("listening sockets").isNotEmpty()
                    .anyMatch(l -> l.port() == DEPLOYMENT.flink().conf().restPort())
                    .allMatch(ListeningSockets.Listener::loopback);
        }
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void exactlyOnceDeliveryAcrossTaskManagerKillsAndABrokerRestart() throws Exception {
        underFaults("exactly-once", false);
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void idempotentDeliveryAcrossTaskManagerKillsAndABrokerRestart() throws Exception {
        underFaults("idempotent", true);
    }

    private void underFaults(String mode, boolean deduplicate) throws Exception {
        long t0 = System.nanoTime();
        KafkaBrokerProcess broker = DEPLOYMENT.broker();
        Topics topics = DEPLOYMENT.topics(mode);
        List<String> args = DEPLOYMENT.jobArgs(topics, "--delivery-guarantee", mode);
        LinkedHashMap<String, Long> phases = new LinkedHashMap<>();
        String job = null;
        try (AnswerCollector answers = AnswerCollector.start(broker.bootstrapServers(), topics.gradients(),
                IsolationLevel.READ_COMMITTED);
             TrainerLoad load = TrainerLoad.start(broker.bootstrapServers(), topics.embeddings(), KEYS,
                     BATCHES_PER_SECOND, ROWS, DIMENSION, mode.hashCode())) {
            phases.put("flink run, steady", System.nanoTime());
            job = DEPLOYMENT.submit(DEPLOYMENT.jobJar(), 2, null, args);
            answers.awaitAnswers(load.acknowledged(), CATCH_UP);

            phases.put("kill -9 TaskManager (1)", System.nanoTime());
            killTaskManagerWithTasks();
            answers.awaitAnswers(load.acknowledged(), CATCH_UP);

            phases.put("kill -9 broker, restart", System.nanoTime());
            broker.kill();
            broker.start();
            answers.awaitAnswers(load.acknowledged(), CATCH_UP);

            phases.put("kill -9 TaskManager (2)", System.nanoTime());
            killTaskManagerWithTasks();
            answers.awaitAnswers(load.acknowledged(), CATCH_UP);

            phases.put("trainers stop, flink stop", System.nanoTime());
            load.stop();
            answers.awaitAnswers(load.acknowledged(), CATCH_UP);
            List<Map<String, Object>> failures = DEPLOYMENT.flink().rest().failures(job);
            String savepoint = DEPLOYMENT.stopWithSavepoint(job);
            job = null;
            try (Admin admin = broker.admin()) {
                answers.awaitEndOfTopic(admin, Duration.ofSeconds(60));
            }
            phases.put("end", System.nanoTime());

            List<Sent> sent = load.acknowledged();
            try (OfflineEngine engine = new OfflineEngine(DEPLOYMENT.jobConfiguration(args))) {
                DeliveryVerdict verdict = DeliveryVerdict.of(sent, answers.records(), deduplicate, engine);
                Counts all = verdict.counts("all", sent);
                RunReport.print(mode, DEPLOYMENT, t0, phases, verdict, sent, failures);
                if (!deduplicate) {
                    int uncommitted = KafkaTestUtils.consume(broker.bootstrapServers(), topics.gradients(),
                            IsolationLevel.READ_UNCOMMITTED, verdict.records(), Duration.ofSeconds(20)).size();
                    System.out.printf("%s: %d records read_uncommitted, %d read_committed: %d copies of aborted "
                            + "transactions that read_committed readers never see%n", mode, uncommitted,
                            verdict.records(), uncommitted - verdict.records());
                }

                assertThat(failures.size()).as("%s: failovers of the job (two TaskManagers killed)", mode)
                        .isGreaterThanOrEqualTo(2);
                assertThat(all.sent()).as("batches sent").isGreaterThan(0);
                assertThat(all.lost()).as("%s: batches never answered", mode).isZero();
                assertThat(all.appliedTwice()).as("%s: batches applied twice", mode).isZero();
                assertThat(verdict.unknownAnswers()).as("%s: answers to batches never sent", mode).isEmpty();
                assertThat(verdict.wrongBytes()).as("%s: copies that differ from the offline engine's answer", mode)
                        .isEmpty();
                if (deduplicate) {
                    assertThat(verdict.dropped()).as("copies the deduplicator dropped").isEqualTo(all.duplicates());
                } else {
                    assertThat(all.duplicates()).as("exactly-once: copies read twice with read_committed").isZero();
                }
                StatisticsCheck.assertMatches(mode + " savepoint after the faults", ClusterDeployment.statistics(savepoint),
                        ExpectedStatistics.of(engine, sent));
            }
        } finally {
            if (job != null) {
                DEPLOYMENT.flink().rest().cancelQuietly(job);
            }
        }
    }

    /** {@code kill -9} of a TaskManager that runs tasks of the job, and a replacement started. */
    private static void killTaskManagerWithTasks() throws Exception {
        StandaloneFlinkCluster flink = DEPLOYMENT.flink();
        List<String> busy = flink.taskManagersWithTasks();
        assertThat(busy).as("TaskManagers running tasks").isNotEmpty();
        flink.kill(busy.get(0));
        flink.awaitRegistered(flink.startTaskManager(), Duration.ofSeconds(90));
    }
}
