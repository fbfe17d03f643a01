package io.tripletflow.stats;

import static io.tripletflow.stats.StatisticsSavepointFixture.BATCHES;
import static io.tripletflow.stats.StatisticsSavepointFixture.ROWS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.deploy.JobHarness;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The savepoint that tripletflow 0.1 wrote ({@link StatisticsSavepointFixture}) is read and
 * restored by this version: the savepoint reader finds every stream key's statistics, and the job
 * started from it resumes after the fixture's input and counts on from the restored statistics.
 * Savepoint compatibility rests on operator uids, state names and state types; this test breaks
 * when one of them changes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StatisticsSavepointCompatibilityITCase {

    @Test
    void theStatisticsOfTheVersion01SavepointAreReadAndRestored() throws Exception {
        Path savepoint = StatisticsSavepointFixture.DIR.toAbsolutePath();
        assertThat(savepoint.resolve("_metadata")).as("the fixture").exists();

        List<Map<String, Object>> restored = SavepointStatistics.read(savepoint.toString(), SavepointStatistics.MINING_UID);
        assertThat(restored).extracting(s -> s.get("stream_key")).containsExactly("alpha", "beta", "gamma");
        Map<String, Map<String, Object>> before = new LinkedHashMap<>();
        for (Map<String, Object> s : restored) {
            String key = (String) s.get("stream_key");
            int n = BATCHES.get(key);
            assertThat(s.get("batches")).as(key).isEqualTo((long) n);
            assertThat(s.get("rows")).as(key).isEqualTo((long) n * ROWS);
            assertThat(s.get("newest_model_step")).as(key).isEqualTo((long) n);
            assertThat(s.get("dead_letters")).as(key).isEqualTo(key.equals("gamma") ? 1L : 0L);
            assertThat(Json.number(s, "triplets")).as(key).isPositive();
            assertThat((List<?>) s.get("hardest_label_pairs")).as(key).isNotEmpty();
            before.put(key, s);
        }

        // The job restored from the fixture: the fixture's input is on the topic again (the
        // restored offsets point past it), then one more batch per key.
        try (JobHarness job = JobHarness.start(
                Map.of("execution.state-recovery.path", savepoint.toUri().toString()),
                StatisticsSavepointFixture.input())) {
            job.produce(BATCHES.keySet().stream().map(StatisticsSavepointFixture::nextBatch).toList());
            List<ConsumerRecord<byte[], byte[]>> answers = job.awaitRecords(JobHarness.GRADIENTS, 3, Duration.ofSeconds(60));
            assertThat(JobHarness.countByKey(answers)).as("only the new batches are answered: the offsets were restored")
                    .containsExactlyInAnyOrderEntriesOf(Map.of("alpha", 1, "beta", 1, "gamma", 1));

            Map<String, Map<String, Object>> after = new LinkedHashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (after.size() < BATCHES.size() || after.values().stream().anyMatch(r -> Json.number(r, "batches")
                    < BATCHES.get((String) r.get("stream_key")) + 1)) {
                assertThat(System.nanoTime()).as("statistics published after the restore: " + after.keySet())
                        .isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> r : job.awaitRecords(JobHarness.STATISTICS, 1, Duration.ofSeconds(2))) {
                    Map<String, Object> report = Json.parseObject(new String(r.value(), StandardCharsets.UTF_8));
                    after.put((String) report.get("stream_key"), report);
                }
            }
            for (Map.Entry<String, Map<String, Object>> e : after.entrySet()) {
                String key = e.getKey();
                Map<String, Object> was = before.get(key);
                Map<String, Object> now = e.getValue();
                assertThat(Json.number(now, "batches")).as(key).isEqualTo(Json.number(was, "batches") + 1);
                assertThat(Json.number(now, "rows")).as(key).isEqualTo(Json.number(was, "rows") + ROWS);
                assertThat(Json.number(now, "dead_letters")).as(key).isEqualTo(Json.number(was, "dead_letters"));
                assertThat(Json.number(now, "newest_model_step")).as(key).isEqualTo(Json.number(was, "newest_model_step") + 1);
                assertThat(Json.number(now, "triplets")).as(key).isGreaterThan(Json.number(was, "triplets"));
            }
        }
    }

}
