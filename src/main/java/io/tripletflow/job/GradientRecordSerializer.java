package io.tripletflow.job;

import io.tripletflow.wire.GradientsTopic;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes a gradient batch to the topic its template names ({@code {key}} = stream key), keyed by
 * stream key, with {@code batch-id} and {@code model-step} also as headers (decimal text) so a
 * parameter server can route without decoding.
 */
public final class GradientRecordSerializer implements KafkaRecordSerializationSchema<GradientRecord> {
    private static final long serialVersionUID = 1L;
    public static final String BATCH_ID_HEADER = "batch-id";
    public static final String MODEL_STEP_HEADER = "model-step";

    private final GradientsTopic topic;

    public GradientRecordSerializer(GradientsTopic topic) {
        this.topic = topic;
    }


    @Override
    public ProducerRecord<byte[], byte[]> serialize(GradientRecord r, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(BATCH_ID_HEADER, Long.toString(r.batchId).getBytes(StandardCharsets.UTF_8));
        headers.add(MODEL_STEP_HEADER, Long.toString(r.modelStep).getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic.forKey(r.streamKey), null, timestamp,
                r.streamKey.getBytes(StandardCharsets.UTF_8), r.value, headers);
    }
}
