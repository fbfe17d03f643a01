package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.RandomBatches;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Every field of the statistics JSON, per batch and per stream key, is described in docs/statistics.md. */
class StatisticsDocumentationTest {

    @Test
    void everyPublishedFieldIsDocumented() throws Exception {
        String doc = Files.readString(Path.of("docs/statistics.md"), StandardCharsets.UTF_8);
        RandomBatches random = new RandomBatches(3);
        int n = 32;
        int d = 8;
        MiningResult result;
        try (CpuMiningBackend backend = new CpuMiningBackend(MiningOptions.defaults(), 1)) {
            result = backend.mine(random.batch(random.pairedLabels(n, 4, 0), random.unitEmbeddings(n, d), d));
            StreamStatistics stats = new StreamStatistics();
            stats.observeModelStep(3);
            stats.add(n, result, 12, 1000, 0.9, 20);
            ObjectMapper json = new ObjectMapper();
            assertDocumented(doc, json.readTree(result.statistics().toJson()), "");
            assertDocumented(doc, json.readTree(stats.toJson("k", Map.of("1->2", 3L), 2000)), "");
        }
    }

    private static void assertDocumented(String doc, JsonNode node, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = prefix + field.getKey();
            assertThat(doc).as("docs/statistics.md describes '%s'", name).contains("`" + name + "`");
            if (field.getValue().isObject() && prefix.isEmpty() && field.getKey().equals("decayed")) {
                assertDocumented(doc, field.getValue(), "decayed.");
            }
        }
    }
}
