package io.tripletflow.cluster;

import io.tripletflow.cluster.TrainerLoad.Sent;
import io.tripletflow.job.StreamStatistics;
import io.tripletflow.testutils.OfflineEngine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What each stream key's state must hold after a set of batches: the offline engine's fold, per key in id order. */
final class ExpectedStatistics {
    private ExpectedStatistics() {}

    /** The statistics per stream key after every batch of {@code batches}, each once, in batch id order. */
    static Map<String, StreamStatistics> of(OfflineEngine engine, List<Sent> batches) throws Exception {
        Map<String, List<Sent>> byKey = new TreeMap<>();
        for (Sent s : batches) {
            byKey.computeIfAbsent(s.key(), k -> new ArrayList<>()).add(s);
        }
        Map<String, StreamStatistics> out = new TreeMap<>();
        for (Map.Entry<String, List<Sent>> e : byKey.entrySet()) {
            List<byte[]> values = e.getValue().stream().sorted(Comparator.comparingLong(Sent::batchId))
                    .map(Sent::value).toList();
            out.put(e.getKey(), engine.statistics(e.getKey().getBytes(StandardCharsets.UTF_8), values));
        }
        return out;
    }
}
