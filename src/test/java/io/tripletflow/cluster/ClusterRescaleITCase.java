package io.tripletflow.cluster;

import static io.tripletflow.cluster.ClusterITCase.BATCHES_PER_SECOND;
import static io.tripletflow.cluster.ClusterITCase.CATCH_UP;
import static io.tripletflow.cluster.ClusterITCase.DIMENSION;
import static io.tripletflow.cluster.ClusterITCase.KEYS;
import static io.tripletflow.cluster.ClusterITCase.ROWS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.cluster.ClusterDeployment.Topics;
import io.tripletflow.cluster.DeliveryVerdict.Counts;
import io.tripletflow.cluster.TrainerLoad.Batch;
import io.tripletflow.cluster.TrainerLoad.Sent;
import io.tripletflow.testutils.OfflineEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's path through savepoints on a real Flink cluster ({@link ClusterDeployment}), with
 * trainers publishing all along, also while no job runs: {@code flink run} at parallelism 2,
 * {@code flink stop} with a savepoint, {@code flink run -s} at parallelism 3, back to 2, then a new
 * job jar at parallelism 3. After each stop the savepoint's per-key statistics must be exactly
 * those of the batches answered so far (the offline engine's fold: nothing of the state lost,
 * doubled or reordered by the rescale); at the end every batch was answered exactly once, no copy
 * twice (a savepoint replays nothing), each answer the offline engine's byte for byte.
 */
class ClusterRescaleITCase {
    @RegisterExtension
    static final ClusterDeployment DEPLOYMENT = new ClusterDeployment();

    /** One job run: which jar, at which parallelism. */
    private record Step(String name, Path jar, int parallelism) {}

    @Test
    @Timeout(value = 330, unit = TimeUnit.SECONDS)
    void statisticsSurviveRescalingTwoThreeTwoAndAnUpgradeOfTheJar() throws Exception {
        long t0 = System.nanoTime();
        KafkaBrokerProcess broker = DEPLOYMENT.broker();
        Topics topics = DEPLOYMENT.topics("rescale");
        List<String> args = DEPLOYMENT.jobArgs(topics);   // the default delivery mode: idempotent
        List<Step> steps = List.of(
                new Step("flink run -p 2", DEPLOYMENT.jobJar(), 2),
                new Step("flink run -p 3 -s", DEPLOYMENT.jobJar(), 3),
                new Step("flink run -p 2 -s", DEPLOYMENT.jobJar(), 2),
                new Step("upgraded jar, -p 3 -s", DEPLOYMENT.upgradedJobJar("0.1.0-upgrade"), 3));
        LinkedHashMap<String, Long> phases = new LinkedHashMap<>();
        List<String> savepoints = new ArrayList<>();
        String job = null;
        try (AnswerCollector answers = AnswerCollector.start(broker.bootstrapServers(), topics.gradients(),
                IsolationLevel.READ_COMMITTED);
             TrainerLoad load = TrainerLoad.start(broker.bootstrapServers(), topics.embeddings(), KEYS,
                     BATCHES_PER_SECOND, ROWS, DIMENSION, 7);
             OfflineEngine engine = new OfflineEngine(DEPLOYMENT.jobConfiguration(args));
             Admin admin = broker.admin()) {
            String savepoint = null;
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                phases.put(step.name(), System.nanoTime());
                job = DEPLOYMENT.submit(step.jar(), step.parallelism(), savepoint, args);
                assertThat(DEPLOYMENT.flink().rest().parallelism(job)).as("%s: parallelism of every operator", step.name())
                        .containsOnly(step.parallelism());
                // Caught up with everything published meanwhile, also while no job ran.
                answers.awaitAnswers(load.acknowledged(), CATCH_UP);
                if (i == steps.size() - 1) {
                    load.stop();
                    answers.awaitAnswers(load.acknowledged(), CATCH_UP);
                }
                savepoint = DEPLOYMENT.stopWithSavepoint(job);
                job = null;
                savepoints.add(savepoint);
                answers.awaitEndOfTopic(admin, Duration.ofSeconds(60));
                List<Sent> answered = answeredSoFar(answers.records(), load);
                System.out.printf("%s: savepoint %s covers %d batches%n", step.name(), savepoint, answered.size());
                StatisticsCheck.assertMatches("savepoint after '" + step.name() + "'",
                        ClusterDeployment.statistics(savepoint), ExpectedStatistics.of(engine, answered));
            }
            phases.put("end", System.nanoTime());

            List<Sent> sent = load.acknowledged();
            DeliveryVerdict verdict = DeliveryVerdict.of(sent, answers.records(), true, engine);
            Counts all = verdict.counts("all", sent);
            RunReport.print("savepoints, rescale 2-3-2, upgrade", DEPLOYMENT, t0, phases, verdict, sent, List.of());
            assertThat(all.lost()).as("batches never answered").isZero();
            assertThat(all.appliedTwice()).as("batches applied twice").isZero();
            assertThat(all.duplicates()).as("copies written twice: a stop with a savepoint replays nothing").isZero();
            assertThat(verdict.unknownAnswers()).as("answers to batches never sent").isEmpty();
            assertThat(verdict.wrongBytes()).as("copies that differ from the offline engine's answer").isEmpty();
            assertThat(savepoints).hasSize(steps.size());
        } finally {
            if (job != null) {
                DEPLOYMENT.flink().rest().cancelQuietly(job);
            }
        }
    }

    /**
     * The batches the job has answered, per stream key a prefix 1..k of what was sent (a key's
     * batches are read in order), with their records.
     */
    private static List<Sent> answeredSoFar(List<ConsumerRecord<byte[], byte[]>> records, TrainerLoad load) {
        Map<String, Set<Long>> ids = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Batch b = AnswerCollector.batchOf(r);
            ids.computeIfAbsent(b.key(), k -> new LinkedHashSet<>()).add(b.batchId());
        }
        List<Sent> out = new ArrayList<>();
        ids.forEach((key, answered) -> {
            List<Long> sorted = answered.stream().sorted().toList();
            assertThat(sorted).as("answered batches of '%s': 1..k, no gap", key)
                    .isEqualTo(LongStream.rangeClosed(1, sorted.size()).boxed().toList());
            for (long id : sorted) {
                out.add(new Sent(key, id, load.value(new Batch(key, id)), 0));
            }
        });
        return out;
    }
}
