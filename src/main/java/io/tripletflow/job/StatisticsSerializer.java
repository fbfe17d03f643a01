package io.tripletflow.job;

import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes a statistics report as a JSON value keyed by stream key. */
public final class StatisticsSerializer implements KafkaRecordSerializationSchema<StatisticsReport> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public StatisticsSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(StatisticsReport r, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, timestamp, r.streamKey.getBytes(StandardCharsets.UTF_8),
                r.json.getBytes(StandardCharsets.UTF_8));
    }
}
