package io.tripletflow.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one argument parser: forms, flags, errors, and what a command passes on. */
class CommandLineTest {

    @Test
    void readsBothFormsFlagsAndTheLastOfARepeatedOption() {
        CommandLine line = CommandLine.parse(new String[] {"cmd", "--input", "a", "--mask", "--output=b", "--input", "c"},
                1, Set.of("mask"), List.of("input", "output")::contains, CommandLine.listing(List.of("input", "output")));
        assertThat(line.get("input")).isEqualTo("c");
        assertThat(line.require("output")).isEqualTo("b");
        assertThat(line.flag("mask")).isTrue();
        assertThat(line.values().keySet()).containsExactly("input", "mask", "output");
        assertThat(line.passedOn()).isEmpty();
    }

    @Test
    void unknownNamesAreErrorsOrPassedOnInOrder() {
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--margin", "1"}, 0, Set.of(), Set.of("input")::contains,
                CommandLine.listing(List.of("input"))))
                .hasMessage("unknown option --margin; known: --input");
        CommandLine line = CommandLine.parse(new String[] {"--margin", "0.5", "--forever", "--duration", "2s", "--neg-num=8"},
                0, Set.of("forever"), Set.of("duration")::contains, null);
        assertThat(line.passedOn()).containsExactly("--margin", "0.5", "--neg-num", "8");
        assertThat(line.flag("forever")).isTrue();
        assertThat(line.get("duration")).isEqualTo("2s");
    }

    @Test
    void malformedArgumentsSayWhatIsWrong() {
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"input"}, 0, Set.of(), n -> true, null))
                .hasMessage("unexpected argument 'input'");
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--input"}, 0, Set.of(), n -> true, null))
                .hasMessage("--input needs a value");
        assertThatThrownBy(() -> CommandLine.parse(new String[] {}, 0, Set.of(), n -> true, null).require("input"))
                .hasMessage("--input is required");
    }
}
