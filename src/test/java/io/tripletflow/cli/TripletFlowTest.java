package io.tripletflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.job.TripletFlowOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

/** {@code bin/tripletflow}'s usage lists compute's options from the job's {@code ConfigOption}s. */
class TripletFlowTest {

    @Test
    void helpPrintsTheUsage() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertThat(TripletFlow.run(new String[] {"help"}, new PrintStream(out, true, StandardCharsets.UTF_8), err))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("usage: tripletflow COMMAND [options]")
                .contains("  compute --input BATCH", "  local ", "  stats --savepoint PATH");
        assertThat(TripletFlow.run(new String[0], new PrintStream(new ByteArrayOutputStream()), err))
                .isEqualTo(TripletFlow.USAGE);
    }

    @Test
    void theUsageListsEveryMiningOptionWithItsDefaultOrChoices() {
        String usage = TripletFlow.usage();
        for (ConfigOption<?> option : TripletFlowOptions.batchMining()) {
            String name = "--" + TripletFlowOptions.commandLineName(option) + " ";
            assertThat(usage).contains(name);
            assertThat(usage).contains(name + (TripletFlowOptions.choices(option).isEmpty()
                    ? String.valueOf(option.defaultValue()) : String.join("|", TripletFlowOptions.choices(option))));
        }
        assertThat(usage).doesNotContain("--memory-rows");
        assertThat(usage).contains("--distance neg-dot|squared-euclidean|euclidean|cosine", "--neg-num 4",
                "--max-rows " + TripletFlowOptions.MAX_ROWS.defaultValue());
        assertThat(usage.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(100));
    }
}
