package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * Each sink's producer takes the largest record it may be given: one it refuses (over
 * {@code max.request.size} or over its whole {@code buffer.memory}) fails the job, and again on
 * every replay, so a single such record would stop it for good.
 */
class SinkRecordSizeTest {

    @Test
    void theAnswerToA32MiBBatchFitsTheProducer() {
        Configuration conf = TripletFlowJob.configuration(new Configuration());
        Properties producer = TripletFlowJob.producerProperties(conf, TripletFlowJob.largestAnswerBytes(conf));
        // N = 8192, D = 1024, well within the defaults (a 32 MiB batch under max-record-bytes 64 MiB): its
        // answer, 64 + 4ND bytes, is already over Kafka's default buffer.memory (32 MiB).
        long answer = 64 + 4L * 8192 * 1024;
        assertThat(answer).isGreaterThan(32L << 20);
        assertThat(bytes(producer, "max.request.size")).isGreaterThan(answer);
        assertThat(bytes(producer, "buffer.memory")).isGreaterThanOrEqualTo(bytes(producer, "max.request.size"));
    }

    @Test
    void aDeadLetterFarOverMaxRecordBytesFitsTheProducer() {
        Configuration conf = TripletFlowJob.configuration(new Configuration(), "--max-record-bytes", "4096");
        Properties producer = TripletFlowJob.producerProperties(conf, TripletFlowJob.largestDeadLetterBytes(conf));
        // Any record a broker with default settings accepted (socket.request.max.bytes 100 MiB), with headers.
        assertThat(bytes(producer, "max.request.size")).isGreaterThan(100L << 20);
        assertThat(bytes(producer, "buffer.memory")).isGreaterThanOrEqualTo(bytes(producer, "max.request.size"));
    }

    /** A size property, Kafka's default where the job leaves it unset. */
    private static long bytes(Properties producer, String property) {
        String kafkaDefault = property.equals("buffer.memory") ? Long.toString(32L << 20) : Long.toString(1 << 20);
        return Long.parseLong(producer.getProperty(property, kafkaDefault));
    }
}
