package io.tripletflow.trainer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Where the gradient receiver starts reading: at the end of every partition of the gradient
 * topic(s), resolved before the client is returned, so no answer to a batch submitted afterwards
 * can be missed.
 */
final class GradientPartitions {

    private GradientPartitions() {}

    /**
     * Assigns every partition of {@code topics} to {@code consumer} and fixes its position at their
     * current end, waiting up to {@code timeout} for the topics' metadata and for each position.
     *
     * @param brokers the brokers and how they are spoken to, for the error messages
     * @throws IllegalStateException if no broker answers, or a topic does not exist, within {@code timeout}
     */
    static void assignAtEnd(KafkaConsumer<?, ?> consumer, List<String> topics, Duration timeout, String brokers) {
        List<TopicPartition> partitions = partitionsOf(consumer, topics, timeout, brokers);
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        // seekToEnd is lazy: resolve it now, so the start position is fixed before any submit.
        for (TopicPartition tp : partitions) {
            consumer.position(tp, timeout);
        }
    }

    private static List<TopicPartition> partitionsOf(KafkaConsumer<?, ?> consumer, List<String> topics, Duration timeout,
                                                     String brokers) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<TopicPartition> out = new ArrayList<>();
        boolean answered = false;
        for (String topic : topics) {
            while (true) {
                List<PartitionInfo> infos;
                try {
                    infos = consumer.partitionsFor(topic, Duration.ofMillis(Math.max(1, Math.min(2_000,
                            TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))));
                    answered = true;
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    infos = List.of();
                }
                if (infos != null && !infos.isEmpty()) {
                    for (PartitionInfo info : infos) {
                        out.add(new TopicPartition(topic, info.partition()));
                    }
                    break;
                }
                if (System.nanoTime() > deadline) {
                    // A TLS or SASL listener drops a client that speaks another protocol without a word.
                    throw new IllegalStateException(answered
                            ? "gradient topic '" + topic + "' not found within " + timeout
                                    + " (is the job running, or the topic created?)"
                            : "no Kafka broker at " + brokers + " answered within " + timeout
                                    + ": a wrong address, or a listener that speaks another security.protocol "
                                    + "(a SASL_SSL or SSL listener closes a PLAINTEXT connection without an answer)");
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while looking up topic '" + topic + "'", e);
                }
            }
        }
        return out;
    }
}
