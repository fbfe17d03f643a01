package io.tripletflow.cluster;

import io.tripletflow.cluster.TrainerLoad.Batch;
import io.tripletflow.cluster.TrainerLoad.Sent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A parameter server's view of the gradients topic: a thread that reads every partition from the
 * beginning, with the given isolation level, through broker restarts, and keeps every record
 * (every copy of every answer) in the order of its partition.
 */
final class AnswerCollector implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final IsolationLevel isolation;
    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    private final Set<Batch> answered = new HashSet<>();
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Exception failure;

    private AnswerCollector(String bootstrapServers, String topic, IsolationLevel isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "answer-collector-" + topic);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.toString().toLowerCase(Locale.ROOT));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(p);
        this.topic = topic;
        this.isolation = isolation;
        this.thread = new Thread(this::run, "answer-collector");
        this.thread.setDaemon(true);
    }

    /** Starts reading {@code topic} (which must exist) from its beginning. */
    static AnswerCollector start(String bootstrapServers, String topic, IsolationLevel isolation) {
        AnswerCollector c = new AnswerCollector(bootstrapServers, topic, isolation);
        for (PartitionInfo info : c.consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            c.partitions.add(new TopicPartition(topic, info.partition()));
        }
        c.consumer.assign(c.partitions);
        c.consumer.seekToBeginning(c.partitions);
        c.thread.start();
        return c;
    }

    private void run() {
        try {
            while (running) {
                var polled = consumer.poll(Duration.ofMillis(100));
                synchronized (this) {
                    for (ConsumerRecord<byte[], byte[]> r : polled) {
                        records.add(r);
                        answered.add(batchOf(r));
                    }
                }
                for (TopicPartition tp : consumer.assignment()) {
                    positions.put(tp, consumer.position(tp, Duration.ofSeconds(30)));
                }
            }
        } catch (Exception e) {
            if (running) {
                failure = e;
            }
        } finally {
            consumer.close();
        }
    }

    /** The stream key and batch id of an answer (record key; batch id at offset 8 of the value). */
    static Batch batchOf(ConsumerRecord<byte[], byte[]> r) {
        return new Batch(new String(r.key(), StandardCharsets.UTF_8),
                ByteBuffer.wrap(r.value()).order(ByteOrder.LITTLE_ENDIAN).getLong(8));
    }

    /** Every record read so far, per partition in offset order. */
    synchronized List<ConsumerRecord<byte[], byte[]>> records() {
        return List.copyOf(records);
    }

    /** How many of {@code sent} have at least one answer. */
    synchronized int answeredOf(Collection<Sent> sent) {
        int n = 0;
        for (Sent s : sent) {
            if (answered.contains(s.batch())) {
                n++;
            }
        }
        return n;
    }

    /** Waits until every batch of {@code sent} has an answer. */
    void awaitAnswers(Collection<Sent> sent, Duration timeout) throws Exception {
        Waits.until(() -> "answers to " + sent.size() + " batches (" + answeredOf(sent) + " in)", timeout, () -> {
            if (failure != null) {
                throw new IllegalStateException("the collector failed", failure);
            }
            return answeredOf(sent) == sent.size();
        });
    }

    /**
     * Waits until the collector has read to the end of every partition as its isolation level sees
     * it now (the last stable offset under read_committed): nothing written before this call is left.
     */
    void awaitEndOfTopic(Admin admin, Duration timeout) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (TopicPartition tp : partitions) {
            request.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(request, new ListOffsetsOptions(isolation)).all().get(30, TimeUnit.SECONDS)
                .forEach((tp, info) -> end.put(tp, info.offset()));
        Waits.until(() -> "end of " + topic + " " + end + " (read to " + positions + ")", timeout,
                () -> end.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue()));
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
