package io.tripletflow.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class EmbeddedKafkaBrokerTest {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBrokerTest.class);

    @Test
    void startsOnLoopbackCreatesTopicsAndCleansUp() throws Exception {
        java.nio.file.Path dir;
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.builder().build().start()) {
            dir = kafka.dataDir();
            assertThat(dir).isDirectory();
            LOG.info("embedded broker started in {} ms at {}", kafka.startupTime().toMillis(),
                    kafka.bootstrapServers());
            assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");

            kafka.createTopics(3, "t1", "t2");
            kafka.createTopics(3, "t1"); // exists: no error
            try (Admin admin = kafka.admin()) {
                assertThat(admin.listTopics().names().get()).contains("t1", "t2");
                assertThat(admin.describeTopics(Set.of("t1")).allTopicNames().get().get("t1").partitions())
                        .hasSize(3);
                ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
                Map<ConfigResource, Config> cfg = admin.describeConfigs(List.of(broker)).all().get();
                assertThat(cfg.get(broker).get("transaction.max.timeout.ms").value()).isEqualTo("3600000");
            }

            List<KV> records = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                records.add(new KV(("k" + i).getBytes(StandardCharsets.UTF_8),
                        ("v" + i).getBytes(StandardCharsets.UTF_8)));
            }
            KafkaTestUtils.produce(kafka.bootstrapServers(), "t1", records);
            List<ConsumerRecord<byte[], byte[]>> got =
                    KafkaTestUtils.consumeCommitted(kafka.bootstrapServers(), "t1", 10, Duration.ofSeconds(20));
            assertThat(got).hasSize(10);
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void honoursAConfiguredPort() throws Exception {
        int port = Loopback.freePort();
        EmbeddedKafkaBroker kafka = new EmbeddedKafkaBroker(port).start();
        try {
            assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            assertThat(kafka.isRunning()).isTrue();
        } finally {
            kafka.close();
        }
        assertThat(kafka.isRunning()).isFalse();
        assertThatThrownBy(kafka::bootstrapServers).isInstanceOf(IllegalStateException.class);
        kafka.close(); // idempotent
    }
}
