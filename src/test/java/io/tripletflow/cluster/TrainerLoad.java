package io.tripletflow.cluster;

import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.RandomBatches;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Trainers under way: a thread that publishes valid embedding batches (N x D unit rows, labels in
 * pairs) at a steady rate, round robin over the stream keys, batch ids 1, 2, 3, ... and model step =
 * id per key, key = stream key (so one key stays on one partition). It keeps sending through
 * broker restarts (an idempotent producer that waits for the broker); a batch counts as sent
 * when the broker acknowledged it.
 */
final class TrainerLoad implements AutoCloseable {
    /** One acknowledged batch. */
    record Sent(String key, long batchId, byte[] value, long ackNanos) {
        Batch batch() {
            return new Batch(key, batchId);
        }
    }

    /** A batch's identity: (stream key, batch id). */
    record Batch(String key, long batchId) {}

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final List<String> keys;
    private final int rows;
    private final int dimension;
    private final long periodNanos;
    private final RandomBatches random;
    private final List<Sent> acknowledged = new ArrayList<>();
    private final List<Exception> failures = new ArrayList<>();
    private final Map<Batch, byte[]> values = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private int attempted;

    private TrainerLoad(String bootstrapServers, String topic, List<String> keys, int batchesPerSecond, int rows,
                        int dimension, long seed) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "trainer-load");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        // Through a broker restart: keep retrying rather than fail a batch.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "180000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "180000");
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        this.topic = topic;
        this.keys = List.copyOf(keys);
        this.rows = rows;
        this.dimension = dimension;
        this.periodNanos = TimeUnit.SECONDS.toNanos(1) / batchesPerSecond;
        this.random = new RandomBatches(seed);
        this.thread = new Thread(this::run, "trainer-load");
        this.thread.setDaemon(true);
    }

    /** Starts publishing {@code batchesPerSecond} batches of {@code rows} x {@code dimension} to {@code topic}. */
    static TrainerLoad start(String bootstrapServers, String topic, List<String> keys, int batchesPerSecond, int rows,
                             int dimension, long seed) {
        TrainerLoad load = new TrainerLoad(bootstrapServers, topic, keys, batchesPerSecond, rows, dimension, seed);
        load.thread.start();
        return load;
    }

    private void run() {
        Map<String, Long> ids = new HashMap<>();
        long next = System.nanoTime();
        int k = 0;
        while (running) {
            LockSupport.parkNanos(next - System.nanoTime());
            next += periodNanos;
            String key = keys.get(k++ % keys.size());
            long id = ids.merge(key, 1L, Long::sum);
            byte[] value = EmbeddingRecords.record(id, id, System.currentTimeMillis(), rows, dimension,
                    random.pairedLabels(rows, rows / 4, 0.0), random.unitEmbeddings(rows, dimension));
            synchronized (this) {
                attempted++;
                values.put(new Batch(key, id), value);
            }
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value), (meta, e) -> {
                synchronized (TrainerLoad.this) {
                    if (e == null) {
                        acknowledged.add(new Sent(key, id, value, System.nanoTime()));
                    } else {
                        failures.add(e);
                    }
                }
            });
        }
    }

    /** The record sent as {@code batch} (acknowledged or not yet), or null. */
    synchronized byte[] value(Batch batch) {
        return values.get(batch);
    }

    /** The batches acknowledged so far. */
    synchronized List<Sent> acknowledged() {
        return List.copyOf(acknowledged);
    }

    /** Stops sending and waits until every batch sent is acknowledged or failed. */
    void stop() throws InterruptedException {
        running = false;
        thread.join(10_000);
        producer.flush();
        synchronized (this) {
            if (!failures.isEmpty()) {
                throw new AssertionError(failures.size() + " batches were not acknowledged", failures.get(0));
            }
            if (acknowledged.size() != attempted) {
                throw new AssertionError(attempted + " batches sent, " + acknowledged.size() + " acknowledged");
            }
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(java.time.Duration.ofSeconds(5));
    }
}
