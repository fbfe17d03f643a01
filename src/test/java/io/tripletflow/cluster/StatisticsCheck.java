package io.tripletflow.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.job.StreamStatistics;
import io.tripletflow.stats.Json;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The per-stream-key statistics a savepoint holds ({@code tripletflow stats --json}) against the
 * offline engine's fold over the batches the job had answered when it stopped: every member that
 * does not depend on the clock (latency, {@code last_batch_ms}) must be equal, the decayed values
 * and histograms included. Equal after a rescale or an upgrade means the state was carried over
 * whole: a lost or doubled batch changes the counts, a reordered one the decayed values.
 */
final class StatisticsCheck {
    /** Members compared, as dotted paths of the statistics JSON. */
    static final List<String> MEMBERS = List.of("batches", "rows", "triplets", "hard_selected", "random_selected",
            "nonzero_hinge_terms", "anchors", "anchors_without_candidate", "label_mismatches", "dead_letters",
            "stale_batches", "mean_loss", "newest_model_step", "last_staleness", "decayed.loss",
            "decayed.nonzero_hinge_share", "decayed.hard_share", "decayed.no_candidate_share", "decayed.staleness",
            "all_easy", "consecutive_all_easy_batches", "histogram.low", "histogram.high", "histogram.dis_ap",
            "histogram.dis_an");

    private StatisticsCheck() {}

    /** Asserts that {@code savepoint} holds exactly the keys of {@code expected}, each with equal statistics. */
    static void assertMatches(String what, List<Map<String, Object>> savepoint, Map<String, StreamStatistics> expected) {
        Map<String, Map<String, Object>> byKey = new TreeMap<>();
        for (Map<String, Object> s : savepoint) {
            byKey.put((String) s.get("stream_key"), s);
        }
        assertThat(byKey.keySet()).as("%s: stream keys", what).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((key, stats) -> {
            Map<String, Object> want = Json.parseObject(stats.toJson(key, Map.of(), 0));
            Map<String, Object> got = byKey.get(key);
            for (String member : MEMBERS) {
                assertThat(Json.at(got, member)).as("%s: %s of '%s'", what, member, key).isEqualTo(Json.at(want, member));
            }
            assertThat(((Number) got.get("terms")).longValue()).as("%s: terms of '%s'", what, key).isEqualTo(stats.terms);
        });
    }
}
