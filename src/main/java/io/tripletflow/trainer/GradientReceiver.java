package io.tripletflow.trainer;

import io.tripletflow.batch.GradientBatch;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.InvalidRecordException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the gradient topic(s) on its own thread and hands each answer that passes the wire checks
 * on; records that fail them are counted as invalid and skipped. The thread blocks in {@code poll}
 * and wakes when an answer arrives, so it adds no wait of its own to the round trip.
 *
 * <pre>{@code
 * GradientReceiver receiver = new GradientReceiver(properties, topics, Duration.ofSeconds(30), codec, counters);
 * receiver.start("trainer-receiver", pending::take, failure -> pending.failAll(failure));
 * ...
 * receiver.close();
 * }</pre>
 */
final class GradientReceiver {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerClient.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final GradientBatchCodec codec;
    private final ClientCounters counters;
    private volatile Thread thread;
    private volatile boolean closed;

    /**
     * Connects and positions the consumer at the end of every partition of {@code topics} (see
     * {@link GradientPartitions}); closes it again if that fails.
     */
    GradientReceiver(Properties properties, List<String> topics, Duration startTimeout, GradientBatchCodec codec,
            ClientCounters counters) {
        this.topics = topics;
        this.codec = codec;
        this.counters = counters;
        this.consumer = new KafkaConsumer<>(properties);
        String brokers = properties.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) + " (security.protocol "
                + properties.getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG,
                        CommonClientConfigs.DEFAULT_SECURITY_PROTOCOL) + ")";
        try {
            GradientPartitions.assignAtEnd(consumer, topics, startTimeout, brokers);
        } catch (AuthenticationException e) {
            consumer.close(Duration.ofSeconds(1));
            throw new IllegalStateException("the Kafka brokers at " + brokers + " refused the trainer: "
                    + (e instanceof SslAuthenticationException ? "TLS handshake failed" : "authentication failed"
                            + " (sasl.mechanism " + properties.getOrDefault(SaslConfigs.SASL_MECHANISM,
                                    SaslConfigs.DEFAULT_SASL_MECHANISM) + ")")
                    + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            consumer.close(Duration.ofSeconds(1));
            throw e;
        }
    }

    /**
     * Starts receiving on a daemon thread: every valid answer goes to {@code answers}; if reading
     * fails (other than by {@link #close()}), {@code onFailure} is told once and receiving ends.
     */
    void start(String threadName, Consumer<GradientBatch> answers, Consumer<Throwable> onFailure) {
        Thread t = new Thread(() -> receive(answers, onFailure), threadName);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    private void receive(Consumer<GradientBatch> answers, Consumer<Throwable> onFailure) {
        try {
            while (!closed) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    GradientBatch g = decode(record);
                    if (g != null) {
                        answers.accept(g);
                    }
                }
            }
        } catch (WakeupException e) {
            // close()
        } catch (Throwable t) {
            if (!closed) {
                LOG.error("gradient receiver of {} failed", topics, t);
                onFailure.accept(t);
            }
        } finally {
            try {
                consumer.close(Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                LOG.debug("closing the gradient consumer", e);
            }
        }
    }

    /** The answer in {@code record}, or null (counted) if it fails the wire checks. */
    private GradientBatch decode(ConsumerRecord<byte[], byte[]> record) {
        try {
            return codec.decode(record.key(), record.value());
        } catch (InvalidRecordException e) {
            counters.countInvalid();
            LOG.warn("ignoring an invalid gradient record at {}-{}@{}: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            return null;
        }
    }

    /**
     * Stops receiving and waits (up to 5 s) until the consumer is closed, unless called on the
     * receiving thread itself (from an answer's callback), which must not wait for itself.
     */
    void close() {
        closed = true;
        try {
            consumer.wakeup();
        } catch (RuntimeException e) {
            LOG.debug("waking the gradient receiver", e);
        }
        Thread t = thread;
        if (t != null && Thread.currentThread() != t) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
