package io.tripletflow.testutils;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Producing keyed byte[] records to, and reading all records back from, a test broker. */
public final class KafkaTestUtils {

    /** A key/value pair of bytes (the key may be null). */
    public record KV(byte[] key, byte[] value) {
    }

    private KafkaTestUtils() {
    }

    /** Writes the records in order (idempotent producer, acks=all) and waits for every ack. */
    public static List<RecordMetadata> produce(String bootstrapServers, String topic, List<KV> records) {
        List<ProducerRecord<byte[], byte[]>> prs = new ArrayList<>(records.size());
        for (KV kv : records) {
            prs.add(new ProducerRecord<>(topic, kv.key(), kv.value()));
        }
        return produceRecords(bootstrapServers, prs);
    }

    /** Writes the records (partition, timestamp, headers as given) and waits for every ack. */
    public static List<RecordMetadata> produceRecords(String bootstrapServers,
                                                      List<ProducerRecord<byte[], byte[]>> records) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "test-producer-" + UUID.randomUUID());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
            for (ProducerRecord<byte[], byte[]> r : records) {
                futures.add(producer.send(r));
            }
            producer.flush();
            List<RecordMetadata> out = new ArrayList<>(futures.size());
            for (Future<RecordMetadata> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("produce failed", e);
        }
    }

    /**
     * Reads the topic from the beginning with {@code isolation.level=read_committed} until at
     * least {@code expectedCount} records were read AND every partition is read up to its end
     * (the last stable offset), or until the timeout. Returns whatever was read: a result
     * larger than {@code expectedCount} reveals duplicates, a smaller one missing records.
     */
    public static List<ConsumerRecord<byte[], byte[]>> consumeCommitted(
            String bootstrapServers, String topic, int expectedCount, Duration timeout) {
        return consume(bootstrapServers, topic, IsolationLevel.READ_COMMITTED, expectedCount, timeout);
    }

    /** As {@link #consumeCommitted} with the given isolation level. */
    public static List<ConsumerRecord<byte[], byte[]>> consume(
            String bootstrapServers, String topic, IsolationLevel isolation, int expectedCount,
            Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "test-consumer-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.toString().toLowerCase(Locale.ROOT));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = waitForPartitions(consumer, topic, deadline);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    out.add(r);
                }
                if (out.size() >= expectedCount && caughtUp(consumer, tps)) {
                    break;
                }
            }
        }
        return out;
    }

    private static List<TopicPartition> waitForPartitions(KafkaConsumer<?, ?> consumer, String topic,
                                                          long deadline) {
        while (true) {
            try {
                var infos = consumer.partitionsFor(topic, Duration.ofSeconds(2));
                if (infos != null && !infos.isEmpty()) {
                    return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition()))
                            .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
                            .collect(Collectors.toList());
                }
            } catch (org.apache.kafka.common.errors.TimeoutException ignored) {
                // not there (yet)
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic does not exist: " + topic);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static boolean caughtUp(KafkaConsumer<?, ?> consumer, List<TopicPartition> tps) {
        // Under read_committed, endOffsets are last stable offsets.
        Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(5));
        for (TopicPartition tp : tps) {
            if (consumer.position(tp, Duration.ofSeconds(5)) < end.getOrDefault(tp, 0L)) {
                return false;
            }
        }
        return true;
    }

    /** Records per partition, for diagnostics. */
    public static Map<Integer, Long> countByPartition(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<Integer, Long> m = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            m.merge(r.partition(), 1L, Long::sum);
        }
        return m;
    }
}
