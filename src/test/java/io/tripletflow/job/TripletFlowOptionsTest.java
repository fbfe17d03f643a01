package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.distance.DistanceKind;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

/** The typed options: enum options read their documented text, bad values name the option and what it accepts. */
class TripletFlowOptionsTest {

    @Test
    void anEnumOptionReadsItsOptionText() {
        Configuration conf = new Configuration();
        conf.setString("tripletflow.distance", "squared-euclidean");
        assertThat(conf.get(TripletFlowOptions.DISTANCE)).isEqualTo(DistanceKind.SQUARED_EUCLIDEAN);
        assertThat(TripletFlowOptions.miningOptions(conf).distance()).isEqualTo(DistanceKind.SQUARED_EUCLIDEAN);
    }

    @Test
    void everyChoiceOfEveryEnumOptionReadsBack() {
        for (ConfigOption<?> option : TripletFlowOptions.all()) {
            List<String> choices = TripletFlowOptions.choices(option);
            if (!(option.defaultValue() instanceof Enum<?>)) {
                assertThat(choices).as(option.key()).isEmpty();
                continue;
            }
            assertThat(choices).as(option.key()).startsWith(String.valueOf(option.defaultValue())).doesNotHaveDuplicates();
            for (String choice : choices) {
                Configuration conf = new Configuration();
                conf.setString(option.key(), choice);
                assertThat(conf.get(option)).as(option.key()).hasToString(choice);
            }
        }
    }

    @Test
    void aBadValueNamesTheOptionAndWhatItAccepts() {
        Configuration conf = new Configuration();
        conf.setString("tripletflow.distance", "manhattan");
        assertThatThrownBy(() -> TripletFlowOptions.value(conf, TripletFlowOptions.DISTANCE))
                .hasMessage("--distance must be one of neg-dot, squared-euclidean, euclidean, cosine, got 'manhattan'");
        assertThatThrownBy(() -> TripletFlowOptions.miningOptions(conf))
                .hasMessage("--distance must be one of neg-dot, squared-euclidean, euclidean, cosine, got 'manhattan'");
        Configuration numbers = new Configuration();
        numbers.setString("tripletflow.neg-num", "x");
        numbers.setString("tripletflow.margin", "wide");
        assertThatThrownBy(() -> TripletFlowOptions.value(numbers, TripletFlowOptions.NEG_NUM))
                .hasMessage("--neg-num must be an integer, got 'x'");
        assertThatThrownBy(() -> TripletFlowOptions.value(numbers, TripletFlowOptions.MARGIN))
                .hasMessage("--margin must be a number, got 'wide'");
    }

    /** Each listed mining option reaches {@link MiningOptions}: a value off its default changes the result. */
    @Test
    void miningOptionsReadsEveryMiningOption() {
        String defaults = TripletFlowOptions.miningOptions(new Configuration()).toString();
        for (ConfigOption<?> option : TripletFlowOptions.mining()) {
            Configuration conf = new Configuration();
            conf.setString(option.key(), otherThanDefault(option));
            assertThat(TripletFlowOptions.miningOptions(conf).toString()).as(option.key())
                    .isNotEqualTo(defaults)
                    .contains(TripletFlowOptions.commandLineName(option) + "=" + otherThanDefault(option));
        }
    }

    private static String otherThanDefault(ConfigOption<?> option) {
        Object d = option.defaultValue();
        if (d instanceof Enum<?>) {
            return TripletFlowOptions.choices(option).get(1);
        } else if (d instanceof Integer i) {
            return Integer.toString(i + 1);
        } else if (d instanceof Long l) {
            return Long.toString(l + 1);
        } else if (d instanceof Boolean b) {
            return Boolean.toString(!b);
        }
        return Float.toString((Float) d + 0.25f);
    }

    @Test
    void theMiningFunctionsSettingsAreTheOptionsDefaultsAndTravelWithTheJobGraph() throws Exception {
        MiningFunction.Settings settings = InstantiationUtil.clone(MiningFunction.Settings.of(new Configuration()));
        assertThat(settings.backend).isEqualTo(TripletFlowOptions.BACKEND.defaultValue());
        assertThat(settings.cpuThreads).isEqualTo(TripletFlowOptions.CPU_THREADS.defaultValue());
        assertThat(settings.statisticsIntervalMillis)
                .isEqualTo(TripletFlowOptions.STATISTICS_INTERVAL.defaultValue().toMillis());
        assertThat(settings.decay).isEqualTo(TripletFlowOptions.STATISTICS_DECAY.defaultValue());
        assertThat(settings.stateTtl).isEqualTo(TripletFlowOptions.STATE_TTL.defaultValue());
    }
}
