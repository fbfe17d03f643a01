package io.tripletflow.job;

import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Writes a dead letter unchanged, with reason and origin in headers (UTF-8 text). */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    public static final String REASON_HEADER = "tripletflow.reason";
    public static final String DETAIL_HEADER = "tripletflow.detail";
    public static final String SOURCE_TOPIC_HEADER = "tripletflow.source-topic";
    public static final String SOURCE_PARTITION_HEADER = "tripletflow.source-partition";
    public static final String SOURCE_OFFSET_HEADER = "tripletflow.source-offset";

    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetter d, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON_HEADER, utf8(d.reason));
        headers.add(DETAIL_HEADER, utf8(d.detail));
        headers.add(SOURCE_TOPIC_HEADER, utf8(d.sourceTopic));
        headers.add(SOURCE_PARTITION_HEADER, utf8(Integer.toString(d.sourcePartition)));
        headers.add(SOURCE_OFFSET_HEADER, utf8(Long.toString(d.sourceOffset)));
        return new ProducerRecord<>(topic, null, timestamp, d.key, d.value, headers);
    }

    private static byte[] utf8(String s) {
        return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    }
}
