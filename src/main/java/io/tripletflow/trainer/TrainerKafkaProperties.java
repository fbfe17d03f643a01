package io.tripletflow.trainer;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka settings of a {@link TrainerClient}'s producer and consumer: what a short round trip
 * and exactly-once answers need, then the properties of both clients (security settings), then
 * each client's own overrides (applied last).
 */
final class TrainerKafkaProperties {

    private TrainerKafkaProperties() {}

    /** The embeddings producer: idempotent, {@code acks=all}, each batch sent at once. */
    static Properties producer(String bootstrapServers, String clientId, Map<String, String> common,
                               Map<String, String> overrides) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-embeddings");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Send each batch at once (Kafka's default waits 5 ms for company).
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putAll(common);
        p.putAll(overrides);
        return p;
    }

    /** The gradients consumer: {@code read_committed}, no group offsets, fetches returned at once. */
    static Properties consumer(String bootstrapServers, String clientId, Map<String, String> common,
                               Map<String, String> overrides) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-gradients");
        // Exactly-once answers become visible when the job's transaction commits; never read aborted ones.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        // A fetch returns as soon as an answer is there (fetch.min.bytes 1); the wait only bounds
        // how long an idle fetch is held at the broker.
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.putAll(common);
        p.putAll(overrides);
        return p;
    }
}
