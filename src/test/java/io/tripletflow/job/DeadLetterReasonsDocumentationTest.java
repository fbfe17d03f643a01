package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.engine.BatchRule;
import io.tripletflow.wire.InvalidRecordReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The dead-letter reasons table of docs/operations.md lists exactly the codes the job can write. */
class DeadLetterReasonsDocumentationTest {

    @Test
    void everyReasonTheJobWritesIsDocumentedAndNoOther() throws Exception {
        String doc = Files.readString(Path.of("docs/operations.md"));
        int start = doc.indexOf("## Dead-letter reasons");
        assertThat(start).as("section").isNotNegative();
        String section = doc.substring(start, doc.indexOf("\n## ", start + 1));
        List<String> documented = new ArrayList<>();
        Matcher row = Pattern.compile("(?m)^\\| `([a-z-]+)` \\|").matcher(section);
        while (row.find()) {
            documented.add(row.group(1));
        }
        List<String> codes = Stream.concat(Stream.of(InvalidRecordReason.values()).map(InvalidRecordReason::code),
                Stream.of(BatchRule.values()).map(BatchRule::code)).distinct().toList();
        assertThat(documented).containsExactlyInAnyOrderElementsOf(codes);
    }
}
