package io.tripletflow.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.job.TripletFlowOptions;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class LocalModeOptionsTest {

    @Test
    void defaults() {
        LocalModeOptions o = LocalModeOptions.parse(new String[] {"local"}, 1);
        assertThat(o.effectiveDuration()).isEqualTo(Duration.ofSeconds(60));
        assertThat(o.trainer()).isTrue();
        assertThat(o.webPort()).isEqualTo(8081);
        assertThat(o.webPortGiven()).isFalse();
        assertThat(o.kafkaPort()).isEqualTo(9092);
        assertThat(o.parallelism()).isEqualTo(2);
        assertThat(o.maxInFlight()).isEqualTo(8);
        assertThat(o.jobArgs()).isEmpty();
        Configuration conf = LocalMode.jobConfiguration(o);
        assertThat(conf.get(TripletFlowOptions.CHECKPOINT_INTERVAL)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void ownFlagsAndJobOptions() {
        LocalModeOptions o = LocalModeOptions.parse(new String[] {"--duration", "20s", "--web-port=0",
                "--parallelism", "3", "--neg-num", "8", "--delivery-guarantee", "at-least-once", "--max-in-flight", "4",
                "--batch-rows", "64", "--learning-rate", "0.5", "--seed", "3", "--checkpoint-interval", "2 s"}, 0);
        assertThat(o.effectiveDuration()).isEqualTo(Duration.ofSeconds(20));
        assertThat(o.webPort()).isZero();
        assertThat(o.webPortGiven()).isTrue();
        assertThat(o.parallelism()).isEqualTo(3);
        assertThat(o.maxInFlight()).isEqualTo(4);
        assertThat(o.demo().batchRows()).isEqualTo(64);
        assertThat(o.demo().learningRate()).isEqualTo(0.5);
        assertThat(o.demo().seed()).isEqualTo(3);
        assertThat(o.jobArgs()).containsExactly("--neg-num", "8", "--delivery-guarantee", "at-least-once",
                "--checkpoint-interval", "2 s");
        Configuration conf = LocalMode.jobConfiguration(o);
        assertThat(conf.get(TripletFlowOptions.NEG_NUM)).isEqualTo(8);
        assertThat(conf.get(TripletFlowOptions.CHECKPOINT_INTERVAL)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void foreverAndNoTrainerRunUntilStopped() {
        assertThat(LocalModeOptions.parse(new String[] {"--forever"}, 0).effectiveDuration()).isNull();
        LocalModeOptions noTrainer = LocalModeOptions.parse(new String[] {"--no-trainer"}, 0);
        assertThat(noTrainer.trainer()).isFalse();
        assertThat(noTrainer.effectiveDuration()).isNull();
        assertThat(LocalModeOptions.parse(new String[] {"--no-trainer", "--duration", "5s"}, 0).effectiveDuration())
                .isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void durations() {
        assertThat(LocalModeOptions.parseDuration("d", "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(LocalModeOptions.parseDuration("d", "30")).isEqualTo(Duration.ofSeconds(30));
        assertThat(LocalModeOptions.parseDuration("d", "1.5m")).isEqualTo(Duration.ofSeconds(90));
        assertThat(LocalModeOptions.parseDuration("d", "2 min")).isEqualTo(Duration.ofMinutes(2));
        assertThat(LocalModeOptions.parseDuration("d", "1h")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> LocalModeOptions.parseDuration("duration", "soon"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duration");
    }

    @Test
    void errors() {
        assertThatThrownBy(() -> LocalModeOptions.parse(new String[] {"--duration"}, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> LocalModeOptions.parse(new String[] {"oops"}, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unexpected");
        assertThatThrownBy(() -> LocalModeOptions.parse(new String[] {"--bootstrap-servers", "x:1"}, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("own Kafka broker");
        assertThatThrownBy(() -> LocalModeOptions.parse(new String[] {"--batch-rows", "7"}, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("even");
        assertThatThrownBy(() -> LocalModeOptions.parse(new String[] {"--web-port", "70000"}, 0))
                .isInstanceOf(IllegalArgumentException.class);
        LocalModeOptions unknown = LocalModeOptions.parse(new String[] {"--no-such-option", "1"}, 0);
        assertThatThrownBy(() -> LocalMode.jobConfiguration(unknown))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-option");
    }
}
