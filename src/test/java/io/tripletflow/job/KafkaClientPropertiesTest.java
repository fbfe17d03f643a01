package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.local.LocalMode;
import io.tripletflow.local.LocalModeOptions;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.junit.jupiter.api.Test;

/**
 * {@code --kafka.<property>}: Kafka's client properties as they are, from the command line and the
 * cluster's configuration, one key each; every client of the job gets them; what the job sets
 * itself is refused; secrets are masked wherever the job or Flink shows them.
 */
class KafkaClientPropertiesTest {
    private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required "
            + "username=\"u\" password=\"p4ss,w0rd:x\";";

    @Test
    void argumentsAndTheClusterConfigurationGiveKafkasOwnNames() {
        Configuration cluster = new Configuration();
        cluster.setString("tripletflow.kafka.ssl.truststore.password", "trust-me");
        cluster.setString("tripletflow.kafka.security.protocol", "SSL");
        Configuration conf = TripletFlowJob.configuration(cluster,
                "--kafka.security.protocol", "SASL_SSL",
                "--tripletflow.kafka.sasl.mechanism", "SCRAM-SHA-512",
                "--kafka.sasl.jaas.config=" + JAAS);
        assertThat(KafkaClientProperties.of(conf)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", JAAS,
                "ssl.truststore.password", "trust-me"));
        // One key per property, so that Flink's masking by name applies to each.
        assertThat(conf.toMap()).containsEntry("tripletflow.kafka.sasl.jaas.config", JAAS)
                .doesNotContainKey("tripletflow.kafka");
        assertThat(ConfigurationUtils.hideSensitiveValues(conf.toMap()))
                .containsEntry("tripletflow.kafka.sasl.jaas.config", GlobalConfiguration.HIDDEN_CONTENT)
                .containsEntry("tripletflow.kafka.ssl.truststore.password", GlobalConfiguration.HIDDEN_CONTENT)
                .containsEntry("tripletflow.kafka.security.protocol", "SASL_SSL");
    }

    /** What the source and a sink are built with: the source as the connector reports it (its lineage facet). */
    @Test
    void theSourceAndTheSinksGetThemUnderTheJobsOwnSettings() throws Exception {
        Configuration conf = TripletFlowJob.configuration(new Configuration(),
                "--kafka.security.protocol", "SASL_SSL", "--kafka.client.dns.lookup", "use_all_dns_ips",
                "--producer-linger", "3 ms", "--group-id", "g");
        Properties source = TripletFlowJob.source(conf, null).getLineageVertex().datasets().stream()
                .flatMap(d -> d.facets().values().stream()).filter(KafkaDatasetFacet.class::isInstance)
                .map(f -> ((KafkaDatasetFacet) f).getProperties()).findFirst().orElseThrow();
        assertThat(source).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("client.dns.lookup", "use_all_dns_ips")
                .containsEntry("isolation.level", "read_committed").containsEntry("group.id", "g");
        KafkaSink<StatisticsReport> statistics = TripletFlowJob.sink(conf, "statistics", new StatisticsSerializer("s"));
        Method producerConfig = KafkaSink.class.getDeclaredMethod("getKafkaProducerConfig"); // @VisibleForTesting
        producerConfig.setAccessible(true);
        assertThat((Properties) producerConfig.invoke(statistics)).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("client.dns.lookup", "use_all_dns_ips")
                .containsEntry("linger.ms", "3");
        assertThat(KafkaClientProperties.of(TripletFlowJob.configuration(new Configuration()))).isEmpty();
    }

    @Test
    void whatTheJobSetsItselfIsRefusedNamingTheOptionToUse() {
        assertThatThrownBy(() -> TripletFlowJob.configuration(new Configuration(), "--kafka.bootstrap.servers", "x:9092"))
                .hasMessage("--kafka.bootstrap.servers: the job sets bootstrap.servers from --bootstrap-servers");
        assertThatThrownBy(() -> TripletFlowJob.configuration(new Configuration(), "--kafka.isolation.level",
                "read_uncommitted")).hasMessageContaining("read_committed");
        Configuration cluster = new Configuration();
        cluster.setString("tripletflow.kafka.group.id", "other");
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster)).hasMessageContaining("--group-id");
    }

    @Test
    void theMapFormIsRefusedBecauseFlinkCouldNotMaskItsSecrets() {
        assertThatThrownBy(() -> TripletFlowJob.configuration(new Configuration(), "--kafka", "sasl.jaas.config:x"))
                .hasMessageContaining("--kafka.<property> VALUE").hasMessageNotContaining("sasl.jaas.config:x");
        Configuration cluster = new Configuration();
        cluster.setString("tripletflow.kafka", "sasl.jaas.config:x");
        assertThatThrownBy(() -> TripletFlowJob.configuration(cluster)).hasMessageContaining("not as one map")
                .hasMessageNotContaining("sasl.jaas.config:x");
        assertThatThrownBy(() -> TripletFlowJob.configuration(new Configuration(), "--kafka.", "x"))
                .hasMessageContaining("unknown option --kafka.");
    }

    @Test
    void secretsAreWhatFlinkMasksOrKafkaCallsAPassword() {
        for (String secret : new String[] {"sasl.jaas.config", "ssl.truststore.password", "ssl.keystore.password",
                "ssl.key.password", "ssl.keystore.key", "sasl.oauthbearer.client.credentials.client.secret",
                "sasl.oauthbearer.assertion.private.key.passphrase"}) {
            assertThat(KafkaClientProperties.isSecret(secret)).as(secret).isTrue();
        }
        assertThat(KafkaClientProperties.isSecret("security.protocol")).isFalse();
        assertThat(KafkaClientProperties.isSecret("ssl.truststore.location")).isFalse();
        String masked = KafkaClientProperties.masked(Map.of("sasl.jaas.config", JAAS, "ssl.keystore.key", "-----BEGIN",
                "security.protocol", "SASL_SSL"));
        assertThat(masked).isEqualTo("{sasl.jaas.config=******, security.protocol=SASL_SSL, ssl.keystore.key=******}");
        // Flink's dashboard masks our keys for the usual secrets, not for a PEM key or a passphrase.
        assertThat(KafkaClientProperties.secretsFlinkShows(Map.of("sasl.jaas.config", JAAS,
                "ssl.truststore.password", "x", "ssl.keystore.key", "-----BEGIN",
                "sasl.oauthbearer.assertion.private.key.passphrase", "y", "security.protocol", "SSL")))
                .containsExactly("sasl.oauthbearer.assertion.private.key.passphrase", "ssl.keystore.key");
    }

    @Test
    void localModePassesThemToTheJobButRefusesAnotherProtocolThanItsBrokers() {
        LocalModeOptions plain = LocalModeOptions.parse(new String[] {"local", "--kafka.client.dns.lookup",
                "use_all_dns_ips", "--neg-num", "4"}, 1);
        assertThat(KafkaClientProperties.of(LocalMode.jobConfiguration(plain)))
                .containsEntry("client.dns.lookup", "use_all_dns_ips");
        LocalModeOptions secured = LocalModeOptions.parse(new String[] {"local", "--kafka.security.protocol",
                "SASL_SSL"}, 1);
        assertThatThrownBy(() -> LocalMode.jobConfiguration(secured))
                .hasMessageContaining("--kafka.security.protocol SASL_SSL")
                .hasMessageContaining("embedded Kafka broker listens PLAINTEXT");
    }
}
