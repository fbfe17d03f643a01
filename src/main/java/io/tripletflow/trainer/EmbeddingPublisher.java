package io.tripletflow.trainer;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.WireFormat;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes embedding batches to the embeddings topic: wire format v1, Kafka key = stream key (so
 * one stream's batches share a partition and keep their order).
 */
final class EmbeddingPublisher {
    private final String topic;
    private final EmbeddingBatchCodec codec;
    private final KafkaProducer<byte[], byte[]> producer;

    EmbeddingPublisher(Properties properties, String topic, EmbeddingBatchCodec codec) {
        this.topic = topic;
        this.codec = codec;
        this.producer = new KafkaProducer<>(properties);
    }

    /**
     * The record value of {@code batch}, made before the batch waits for a slot so that one which
     * cannot be sent fails at once.
     *
     * @throws IllegalArgumentException if the batch exceeds the wire bounds
     */
    byte[] encode(EmbeddingBatch batch) {
        return codec.encode(batch);
    }

    /** Sends {@code value}, the encoded {@code batch}; {@code onFailure} hears if that fails, now or later. */
    void publish(EmbeddingBatch batch, byte[] value, Consumer<Exception> onFailure) {
        try {
            producer.send(new ProducerRecord<>(topic, null, WireFormat.streamKeyBytes(batch.streamKey()), value),
                    (metadata, e) -> {
                        if (e != null) {
                            onFailure.accept(e);
                        }
                    });
        } catch (RuntimeException e) {
            onFailure.accept(e);
        }
    }

    void close(Duration timeout) {
        producer.close(timeout);
    }
}
