package io.tripletflow.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.deploy.JobHarness;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tripletflow stats}: the real job runs on an in-JVM cluster (RocksDB, incremental
 * checkpoints) over three stream keys, one with an invalid record; then a savepoint is taken, the
 * job is cancelled (its last checkpoint is retained), and the command reads both. The numbers must
 * be what was sent, and equal what the job itself published on its statistics topic.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class StatsCommandITCase {
    private static final Map<String, Integer> BATCHES = StatisticsSavepointFixture.BATCHES;
    private static final int ROWS = StatisticsSavepointFixture.ROWS;
    /** Three batches of 8 rows: alpha's first two batches are overwritten, beta's and gamma's are all there. */
    private static final int MEMORY_ROWS = 24;

    @TempDir
    Path tmp;

    @Test
    void readsTheStatisticsOfASavepointAndOfARetainedCheckpoint() throws Exception {
        String savepoint;
        List<Map<String, Object>> fromCheckpoint;
        Map<String, Map<String, Object>> published = new LinkedHashMap<>();
        try (JobHarness job = JobHarness.start(Map.of(
                "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION",
                "tripletflow.memory-rows", Integer.toString(MEMORY_ROWS)))) {
            job.produce(StatisticsSavepointFixture.input());
            assertThat(job.awaitRecords(JobHarness.GRADIENTS, 10, Duration.ofSeconds(60))).hasSize(10);
            assertThat(job.awaitRecords(JobHarness.DEAD_LETTERS, 1, Duration.ofSeconds(30))).hasSize(1);
            // What the job publishes on its statistics topic, newest per key, once every batch is in.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!complete(published)) {
                assertThat(System.nanoTime()).as("statistics published: " + published.keySet()).isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> r : job.awaitRecords(JobHarness.STATISTICS, 1, Duration.ofSeconds(2))) {
                    Map<String, Object> report = Json.parseObject(new String(r.value(), StandardCharsets.UTF_8));
                    published.put((String) report.get("stream_key"), report);
                }
            }
            savepoint = job.client().triggerSavepoint(tmp.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(60, TimeUnit.SECONDS);
            job.client().cancel().get(60, TimeUnit.SECONDS);
            // The last checkpoint is retained on cancellation: an incremental, native RocksDB one,
            // whose shared files live under the job's checkpoint directory (read before it goes).
            Path checkpoint = latestCheckpoint(job.checkpointDir());
            fromCheckpoint = SavepointStatistics.read(checkpoint.toString(), SavepointStatistics.MINING_UID);
        }
        checkExpected(fromCheckpoint, published);

        List<Map<String, Object>> fromSavepoint = SavepointStatistics.read(savepoint, SavepointStatistics.MINING_UID);
        checkExpected(fromSavepoint, published);

        Path savepointDir = Path.of(java.net.URI.create(savepoint.startsWith("file:") ? savepoint : "file://" + savepoint));
        assertThat(savepointDir.resolve("_metadata")).exists();

        // The command line: bin/tripletflow's JVM options, JSON on stdout.
        Path log4j = Files.writeString(tmp.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = WARN", "rootLogger.appenderRef.err.ref = Err",
                "appender.err.name = Err", "appender.err.type = Console", "appender.err.target = SYSTEM_ERR",
                "appender.err.layout.type = PatternLayout", "appender.err.layout.pattern = %p %c{1} %m%n", ""));
        Path out = tmp.resolve("stats.json");
        Path err = tmp.resolve("stats.err");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC",
                "-Dlog4j2.configurationFile=" + log4j.toUri(),
                "-cp", System.getProperty("java.class.path"), "io.tripletflow.cli.TripletFlow",
                "stats", "--savepoint", savepointDir.toString(), "--json")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        System.out.println("tripletflow stats --json:\n" + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
        System.out.println(StatisticsTable.table(fromSavepoint));
        Map<String, Object> json = Json.parseObject(Files.readString(out));
        assertThat(json.get("operator_uid")).isEqualTo("mine-triplets");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> streams = (List<Map<String, Object>>) json.get("streams");
        checkExpected(streams, published);

        String table = StatisticsTable.table(fromSavepoint);
        assertThat(table.lines().findFirst().orElseThrow()).startsWith("STREAM KEY").contains("BATCHES", "NONZERO", "ALL EASY");
        assertThat(table.lines().skip(1).map(l -> l.split("\\s+")[0]).toList()).containsExactly("alpha", "beta", "gamma");
        assertThat(table.lines().skip(1).map(l -> l.split("\\s+")[1]).toList()).containsExactly("5", "3", "2");

        assertThatThrownBy(() -> SavepointStatistics.read(tmp.resolve("nothing").toString(), SavepointStatistics.MINING_UID))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no savepoint or checkpoint");
        assertThatThrownBy(() -> SavepointStatistics.read(savepoint, "no-such-operator"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static boolean complete(Map<String, Map<String, Object>> published) {
        for (Map.Entry<String, Integer> e : BATCHES.entrySet()) {
            Map<String, Object> r = published.get(e.getKey());
            if (r == null || Json.number(r, "batches") < e.getValue()
                    || (e.getKey().equals("gamma") && Json.number(r, "dead_letters") < 1)) {
                return false;
            }
        }
        return true;
    }

    private static void checkExpected(List<Map<String, Object>> streams, Map<String, Map<String, Object>> published) {
        assertThat(streams).extracting(s -> s.get("stream_key")).containsExactly("alpha", "beta", "gamma");
        for (Map<String, Object> s : streams) {
            String key = (String) s.get("stream_key");
            int n = BATCHES.get(key);
            assertThat(s.get("batches")).as(key).isEqualTo((long) n);
            assertThat(s.get("rows")).as(key).isEqualTo((long) n * ROWS);
            assertThat(s.get("dead_letters")).as(key).isEqualTo(key.equals("gamma") ? 1L : 0L);
            assertThat(s.get("newest_model_step")).as(key).isEqualTo((long) n);
            assertThat(s.get("all_easy")).as(key).isEqualTo(false);
            assertThat(s.get("source")).isEqualTo("savepoint");
            assertThat(Json.number(s, "terms")).as(key).isPositive();
            assertThat(Json.number(s, "triplets")).as(key).isPositive();
            assertThat((List<?>) s.get("hardest_label_pairs")).as(key).isNotEmpty();
            // The cross-batch memory: fill and the model steps it spans (batch i has step i).
            assertThat(Json.at(s, "memory.rows")).as(key).isEqualTo((long) MEMORY_ROWS);
            assertThat(Json.at(s, "memory.filled")).as(key).isEqualTo((long) Math.min(MEMORY_ROWS, n * ROWS));
            assertThat(Json.at(s, "memory.batches")).as(key).isEqualTo((long) n);
            assertThat(Json.at(s, "memory.newest_model_step")).as(key).isEqualTo((long) n);
            assertThat(Json.at(s, "memory.oldest_model_step")).as(key)
                    .isEqualTo((long) Math.max(1, n - MEMORY_ROWS / ROWS + 1));
            Map<String, Object> p = published.get(key);
            for (String member : List.of("batches", "rows", "triplets", "hard_selected", "random_selected",
                    "nonzero_hinge_terms", "anchors", "dead_letters", "mean_loss", "newest_model_step", "last_batch_ms",
                    "decayed.loss", "decayed.nonzero_hinge_share", "consecutive_all_easy_batches", "histogram.dis_an",
                    "hardest_label_pairs")) {
                assertThat(Json.at(s, member)).as(key + " " + member + " = the job's own report").isEqualTo(Json.at(p, member));
            }
        }
    }

    private static Path latestCheckpoint(Path dir) throws Exception {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(p -> p.getFileName().toString().startsWith("chk-") && Files.exists(p.resolve("_metadata")))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(4))))
                    .orElseThrow(() -> new AssertionError("no retained checkpoint in " + dir));
        }
    }
}
