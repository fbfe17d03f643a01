package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.ConfigOption;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningOptions.RngKind;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

/** docs/configuration.md shows exactly the options the code has; arguments map onto them. */
class ConfigurationTableTest {

    @Test
    void theDocumentedTableIsTheGeneratedOne() throws Exception {
        String doc = Files.readString(Path.of("docs/configuration.md"), StandardCharsets.UTF_8);
        int begin = doc.indexOf(ConfigurationTable.BEGIN);
        int end = doc.indexOf(ConfigurationTable.END);
        assertThat(begin).as("table markers in docs/configuration.md").isNotNegative();
        assertThat(end).isGreaterThan(begin);
        String documented = doc.substring(begin, end + ConfigurationTable.END.length() + 1);
        assertThat(documented).isEqualTo(ConfigurationTable.markdown());
    }

    @Test
    void everyOptionHasADescriptionAndTheTripletflowPrefix() {
        assertThat(TripletFlowOptions.all()).hasSizeGreaterThan(30);
        for (ConfigOption<?> option : TripletFlowOptions.all()) {
            assertThat(option.key()).startsWith(TripletFlowOptions.PREFIX);
            assertThat(option.hasDefaultValue()).as(option.key()).isTrue();
            assertThat(option.description().getBlocks()).as(option.key()).isNotEmpty();
        }
    }

    @Test
    void argumentsOverrideTheClusterConfigurationWithOrWithoutPrefix() {
        Configuration cluster = new Configuration();
        cluster.setString("tripletflow.neg-num", "8");
        cluster.setString("tripletflow.margin", "0.5");
        Configuration conf = TripletFlowJob.configuration(cluster, "--neg-num", "6", "--tripletflow.miner", "batch-hard");
        assertThat(conf.get(TripletFlowOptions.NEG_NUM)).isEqualTo(6);
        assertThat(conf.get(TripletFlowOptions.MARGIN)).isEqualTo(0.5f);
        assertThat(TripletFlowOptions.miningOptions(conf).miner().name()).isEqualTo("BATCH_HARD");
    }

    @Test
    void badValuesFailAtSubmissionNamingTheOption() {
        Configuration cluster = new Configuration();
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster, "--distance", "manhattan"))
                .hasMessageContaining("distance must be one of neg-dot, squared-euclidean, euclidean, cosine");
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster, "--neg-num", "0"))
                .hasMessageContaining("neg-num must be >= 1");
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster, "--no-such-thing", "1"))
                .hasMessageContaining("unknown option --no-such-thing");
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster, "--on-stale", "ignore"))
                .hasMessageContaining("--on-stale").hasMessageContaining("answer").hasMessageContaining("drop");
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster, "--delivery-guarantee", "twice"))
                .hasMessageContaining("--delivery-guarantee").hasMessageContaining("idempotent");
    }

    @Test
    void enumOptionsTakeTheirDocumentedNamesFromArgumentsAndTheCluster() {
        Configuration cluster = new Configuration();
        cluster.setString("tripletflow.starting-offsets", "latest");
        cluster.setString("tripletflow.on-stale", "drop");
        Configuration conf = TripletFlowJob.configuration(cluster, "--delivery-guarantee", "exactly-once");
        assertThat(conf.get(TripletFlowOptions.DELIVERY_GUARANTEE)).isEqualTo(DeliveryMode.EXACTLY_ONCE);
        assertThat(conf.get(TripletFlowOptions.STARTING_OFFSETS)).isEqualTo(StartingOffsets.LATEST);
        assertThat(conf.get(TripletFlowOptions.ON_STALE)).isEqualTo(OnStale.DROP);
        assertThat(TripletFlowJob.configuration(new Configuration()).get(TripletFlowOptions.DELIVERY_GUARANTEE))
                .as("the default").isEqualTo(DeliveryMode.IDEMPOTENT);
        assertThat(DeliveryMode.IDEMPOTENT.sinkGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(DeliveryMode.EXACTLY_ONCE.sinkGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    }

    @Test
    void everyMiningOptionIsAJobOptionWithTheEnginesDefault() {
        assertThat(TripletFlowOptions.all()).containsAll(TripletFlowOptions.mining());
        assertThat(TripletFlowOptions.miningOptions(new Configuration()).toString())
                .isEqualTo(MiningOptions.defaults().toString());
    }

    @Test
    void theIdempotentModeRefusesAGeneratorWhoseReplaysDiffer() {
        assertThatThrownBy(() -> TripletFlowJob.configuration(new Configuration(), "--rng", "seed-compat"))
                .hasMessageContaining("delivery-guarantee idempotent needs rng counter");
        assertThat(TripletFlowJob.configuration(new Configuration(), "--rng", "seed-compat",
                "--delivery-guarantee", "exactly-once").get(TripletFlowOptions.RNG)).isEqualTo(RngKind.SEED_COMPAT);
    }
}
