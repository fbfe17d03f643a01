package io.tripletflow.testutils;

import io.tripletflow.job.KafkaRecord;
import java.util.Objects;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a {@link KafkaRecord}'s key and value to a fixed topic. The partition is left to the
 * producer's partitioner (by key), and the record's original timestamp is not carried over.
 */
public class KafkaRecordSerializer implements KafkaRecordSerializationSchema<KafkaRecord> {

    private static final long serialVersionUID = 1L;

    private final String topic;

    public KafkaRecordSerializer(String topic) {
        this.topic = Objects.requireNonNull(topic);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(KafkaRecord r, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, timestamp, r.key, r.value);
    }
}
