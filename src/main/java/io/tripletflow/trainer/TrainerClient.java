package io.tripletflow.trainer;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.delivery.Deduplicator;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.GradientsTopic;
import io.tripletflow.wire.InvalidRecordException;
import io.tripletflow.wire.WireBounds;
import io.tripletflow.wire.WireFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's side of tripletflow, with nothing but {@code kafka-clients}: publishes embedding
 * batches (wire format v1, Kafka key = stream key) and hands back the gradient batch that answers
 * each one, matched by stream key and batch id.
 *
 * <pre>{@code
 * try (TrainerClient client = TrainerClient.builder("127.0.0.1:9092")
 *         .embeddingsTopic("embeddings")      // the job's tripletflow.embeddings-topics
 *         .gradientsTopic("gradients")        // the job's tripletflow.gradients-topic
 *         .maxInFlight(8)
 *         .build()) {
 *     EmbeddingBatch batch = new EmbeddingBatch("trainer-1", batchId, modelStep,
 *             System.currentTimeMillis(), n, d, labels, embeddings);
 *     client.submit(batch)                     // blocks while 8 batches are outstanding
 *           .thenAccept(g -> model.backward(g.gradients()));
 *     // or one blocking round trip:
 *     GradientBatch g = client.exchange(nextBatch, Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * <p><b>Receiving.</b> The client reads the gradient topic with its own consumer
 * ({@code isolation.level=read_committed}, so answers of aborted exactly-once attempts are never
 * seen). {@link Builder#build()} assigns every partition of the gradient topic(s) and resolves
 * their end offsets <em>before</em> returning, so no answer to a batch submitted afterwards can
 * be missed. Answers whose batch id this client never submitted (another trainer, an earlier
 * run) are ignored and counted as {@linkplain Stats#unknownAnswers() unknown}; records that fail
 * the wire checks are counted as {@linkplain Stats#invalidAnswers() invalid}.
 *
 * <p><b>Each batch once.</b> In the job's default {@code idempotent} delivery mode an answer is
 * written again when the job replays its batch after a failure. Every answer passes a
 * {@link Deduplicator} (per stream key, a window of {@link Builder#deduplicationWindow} batch ids):
 * a future completes with the first answer to its batch, and every later one (a replay, or an
 * answer arriving after its future was cancelled or timed out) is ignored and counted as a
 * {@linkplain Stats#duplicateAnswers() duplicate}. Batch ids must therefore increase per stream key
 * ({@link #submit} refuses one the deduplicator would refuse). With {@code exactly-once} delivery
 * there are no duplicates to drop and answers arrive at each checkpoint.
 *
 * <p><b>Latency.</b> The producer sends each batch at once ({@code linger.ms 0}); the receiver
 * thread blocks in {@code poll} and wakes when an answer arrives, so neither side adds a wait of
 * its own to the round trip. {@link #exchange} is the synchronous call; {@link #submit} pipelines
 * up to {@code maxInFlight} batches.
 *
 * <p><b>Back-pressure.</b> At most {@code maxInFlight} batches are outstanding: {@link #submit}
 * blocks until an answer (or a failure, cancellation or timeout of an earlier future) frees a slot.
 * A future that the caller cancels or times out ({@code future.orTimeout(...)}) frees its slot.
 *
 * <p><b>Threads.</b> All methods are thread-safe. Futures complete on the client's receiver
 * thread: keep callbacks short or use the {@code ...Async} variants. Stream keys and batch ids
 * are chosen by the trainer; a batch id must not be submitted twice while it is in flight.
 *
 * <p>If the gradient topic is a template with {@code {key}} (e.g. {@code gradients.{key}}), the
 * stream keys must be declared with {@link Builder#streamKeys} so the client can read their
 * topics; declared keys also restrict what {@link #submit} accepts.
 */
public final class TrainerClient implements GradientService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerClient.class);
    private static final long POLL_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** A batch's identity: batch ids are unique per stream key. */
    private record BatchKey(String streamKey, long batchId) {}

    /** Counters of one client; a consistent-enough snapshot (each value is read once). */
    public record Stats(
            long submitted,
            long answered,
            long failed,
            long duplicateAnswers,
            long unknownAnswers,
            long invalidAnswers,
            int inFlight) {

        /** Answers that matched nothing outstanding: duplicates, unknown ids and invalid records. */
        public long unmatchedAnswers() {
            return duplicateAnswers + unknownAnswers + invalidAnswers;
        }
    }

    private final String embeddingsTopic;
    private final GradientsTopic gradientsTopic;
    private final Set<String> streamKeys;
    private final List<String> gradientTopics;
    private final int maxInFlight;
    private final EmbeddingBatchCodec embeddingCodec;
    private final GradientBatchCodec gradientCodec;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread receiver;

    private final Semaphore slots;
    private final Map<BatchKey, CompletableFuture<GradientBatch>> pending = new ConcurrentHashMap<>();
    /** The answers taken, per stream key; guarded by itself. */
    private final Deduplicator answers;

    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();

    private volatile boolean closed;
    private volatile Throwable receiverFailure;

    private TrainerClient(Builder b) {
        this.embeddingsTopic = b.embeddingsTopic;
        this.gradientsTopic = GradientsTopic.of(b.gradientsTopic);
        this.streamKeys = b.streamKeys.isEmpty() ? null : Collections.unmodifiableSet(new LinkedHashSet<>(b.streamKeys));
        boolean templated = gradientsTopic.perKey();
        if (templated && streamKeys == null) {
            throw new IllegalArgumentException("gradients topic '" + gradientsTopic
                    + "' depends on the stream key: declare the keys with streamKeys(...)");
        }
        Set<String> topics = new LinkedHashSet<>();
        if (templated) {
            for (String key : streamKeys) {
                topics.add(gradientsTopic.forKey(key));
            }
        } else {
            topics.add(gradientsTopic.toString());
        }
        this.gradientTopics = List.copyOf(topics);
        this.maxInFlight = b.maxInFlight;
        this.slots = new Semaphore(maxInFlight);
        this.embeddingCodec = new EmbeddingBatchCodec(b.bounds);
        this.gradientCodec = new GradientBatchCodec(b.bounds);
        this.answers = new Deduplicator(Math.max(b.deduplicationWindow, maxInFlight),
                streamKeys == null ? Deduplicator.DEFAULT_STREAM_KEYS : streamKeys.size());

        String clientId = b.clientId != null ? b.clientId : "tripletflow-trainer-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaProducer<byte[], byte[]> p = null;
        KafkaConsumer<byte[], byte[]> c = null;
        try {
            p = new KafkaProducer<>(producerProperties(b, clientId));
            c = new KafkaConsumer<>(consumerProperties(b, clientId));
            List<TopicPartition> partitions = partitionsOf(c, gradientTopics, b.startTimeout);
            c.assign(partitions);
            c.seekToEnd(partitions);
            // seekToEnd is lazy: resolve it now, so the start position is fixed before any submit.
            for (TopicPartition tp : partitions) {
                c.position(tp, b.startTimeout);
            }
        } catch (RuntimeException e) {
            if (c != null) {
                c.close(Duration.ofSeconds(1));
            }
            if (p != null) {
                p.close(Duration.ofSeconds(1));
            }
            throw e;
        }
        this.producer = p;
        this.consumer = c;
        this.receiver = new Thread(this::receive, clientId + "-receiver");
        this.receiver.setDaemon(true);
        this.receiver.start();
    }

    /** A builder for a client of the broker(s) at {@code bootstrapServers}. */
    public static Builder builder(String bootstrapServers) {
        return new Builder(bootstrapServers);
    }

    // ---- Submitting

    /**
     * Publishes a batch and returns the future of its answer; blocks while {@code maxInFlight}
     * batches are outstanding.
     *
     * @throws IllegalArgumentException if the batch exceeds the wire bounds, its stream key was not
     *         declared, a batch with the same stream key and id is still in flight, or its id was
     *         answered before or lies below the deduplication window (ids must increase per key)
     * @throws IllegalStateException if the client is closed or its receiver failed
     * @throws InterruptedException if interrupted while waiting for a slot
     */
    @Override
    public CompletableFuture<GradientBatch> submit(EmbeddingBatch batch) throws InterruptedException {
        try {
            return submit(batch, null);
        } catch (TimeoutException e) {
            throw new AssertionError("no timeout was given", e);
        }
    }

    /**
     * As {@link #submit(EmbeddingBatch)}, waiting at most {@code maxWait} for a free slot
     * ({@code null}: no limit).
     *
     * @throws TimeoutException if no slot became free in time (nothing was published)
     */
    public CompletableFuture<GradientBatch> submit(EmbeddingBatch batch, Duration maxWait)
            throws InterruptedException, TimeoutException {
        Objects.requireNonNull(batch, "batch");
        checkStreamKey(batch.streamKey());
        byte[] value = embeddingCodec.encode(batch);
        BatchKey key = new BatchKey(batch.streamKey(), batch.batchId());
        synchronized (answers) {
            if (answers.wouldRefuse(key.streamKey(), key.batchId())) {
                throw new IllegalArgumentException(batch.describe() + ": its answer would be dropped as a duplicate, "
                        + "because batch " + key.batchId() + " of this stream was answered before or lies below the "
                        + "deduplication window of " + answers.window() + " batches; batch ids must increase per stream key");
            }
        }
        acquireSlot(maxWait);
        CompletableFuture<GradientBatch> answer = new CompletableFuture<>();
        if (pending.putIfAbsent(key, answer) != null) {
            slots.release();
            throw new IllegalArgumentException(batch.describe() + " is already in flight");
        }
        // The caller's future completes after the bookkeeping, so stats() and inFlight() are
        // current when it sees the answer. Cancelling it or timing it out frees the slot.
        CompletableFuture<GradientBatch> result = new CompletableFuture<>();
        answer.whenComplete((g, e) -> {
            finish(key, answer);
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(g);
            }
        });
        result.whenComplete((g, e) -> {
            if (!answer.isDone()) { // the caller cancelled, timed out or completed it: give up the batch
                answer.completeExceptionally(e != null ? e : new CancellationException("completed by the caller"));
            }
        });
        submitted.incrementAndGet();
        try {
            producer.send(new ProducerRecord<>(embeddingsTopic, null, WireFormat.streamKeyBytes(batch.streamKey()), value),
                    (metadata, e) -> {
                        if (e != null) {
                            answer.completeExceptionally(e);
                        }
                    });
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
        return result;
    }

    /**
     * One blocking round trip: submits the batch and waits for its answer, all within
     * {@code timeout}. On timeout the batch is abandoned (its slot freed; a late answer is
     * counted as a duplicate).
     *
     * @throws ExecutionException if publishing failed (the cause says why)
     */
    public GradientBatch exchange(EmbeddingBatch batch, Duration timeout)
            throws InterruptedException, TimeoutException, ExecutionException {
        long deadline = System.nanoTime() + timeout.toNanos();
        CompletableFuture<GradientBatch> future = submit(batch, timeout);
        try {
            return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new TimeoutException("no answer to " + batch.describe() + " within " + timeout);
        }
    }

    private void checkStreamKey(String streamKey) {
        if (streamKeys != null && !streamKeys.contains(streamKey)) {
            throw new IllegalArgumentException("stream key '" + streamKey + "' was not declared; this client serves "
                    + streamKeys);
        }
    }

    private void acquireSlot(Duration maxWait) throws InterruptedException, TimeoutException {
        long deadline = maxWait == null ? Long.MAX_VALUE : System.nanoTime() + maxWait.toNanos();
        while (true) {
            checkOpen();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(maxInFlight + " batches still in flight after " + maxWait);
            }
            if (slots.tryAcquire(Math.min(left, POLL_SLICE_NANOS), TimeUnit.NANOSECONDS)) {
                if (closed || receiverFailure != null) {
                    slots.release();
                    checkOpen();
                }
                return;
            }
        }
    }

    private void checkOpen() {
        Throwable failure = receiverFailure;
        if (failure != null) {
            throw new IllegalStateException("the gradient receiver failed", failure);
        }
        if (closed) {
            throw new IllegalStateException("TrainerClient is closed");
        }
    }

    /** Bookkeeping once a batch's future is done, whichever way; frees its slot exactly once. */
    private void finish(BatchKey key, CompletableFuture<GradientBatch> answer) {
        if (answer.isCompletedExceptionally()) {
            // Given up: an answer arriving after this is dropped as a duplicate, not taken as unknown.
            synchronized (answers) {
                answers.offer(key.streamKey(), key.batchId());
            }
        }
        if (pending.remove(key, answer)) {
            if (answer.isCompletedExceptionally()) {
                failed.incrementAndGet();
            } else {
                answered.incrementAndGet();
            }
            slots.release();
        }
    }

    // ---- Receiving

    private void receive() {
        try {
            while (!closed) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    handle(record);
                }
            }
        } catch (WakeupException e) {
            // close()
        } catch (Throwable t) {
            if (!closed) {
                LOG.error("gradient receiver of {} failed", gradientTopics, t);
                receiverFailure = t;
                failPending(t);
            }
        } finally {
            try {
                consumer.close(Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                LOG.debug("closing the gradient consumer", e);
            }
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> record) {
        GradientBatch g;
        try {
            g = gradientCodec.decode(record.key(), record.value());
        } catch (InvalidRecordException e) {
            invalid.incrementAndGet();
            LOG.warn("ignoring an invalid gradient record at {}-{}@{}: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            return;
        }
        BatchKey key = new BatchKey(g.streamKey(), g.batchId());
        CompletableFuture<GradientBatch> answer = pending.get(key);
        Deduplicator.Verdict verdict;
        synchronized (answers) {
            if (answer == null && !answers.wouldRefuse(key.streamKey(), key.batchId())) {
                unknown.incrementAndGet(); // another trainer's batch, or an earlier run's
                LOG.debug("ignoring an answer to unknown batch {} of stream '{}'", g.batchId(), g.streamKey());
                return;
            }
            verdict = answers.offer(key.streamKey(), key.batchId());
        }
        if (verdict != Deduplicator.Verdict.FIRST) {
            duplicates.incrementAndGet();
            LOG.debug("dropping a {} answer to batch {} of stream '{}'", verdict, g.batchId(), g.streamKey());
            return;
        }
        answer.complete(g);
    }

    private void failPending(Throwable cause) {
        for (CompletableFuture<GradientBatch> f : new ArrayList<>(pending.values())) {
            f.completeExceptionally(cause);
        }
    }

    // ---- State

    /** Batches submitted and not yet answered, failed, cancelled or timed out. */
    public int inFlight() {
        return pending.size();
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public Stats stats() {
        return new Stats(submitted.get(), answered.get(), failed.get(), duplicates.get(), unknown.get(),
                invalid.get(), pending.size());
    }

    public String embeddingsTopic() {
        return embeddingsTopic;
    }

    /** The gradient topic(s) this client reads. */
    public List<String> gradientTopics() {
        return gradientTopics;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops receiving, fails the outstanding futures ({@link IllegalStateException}), wakes
     * blocked {@link #submit} calls and closes the producer and the consumer. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            consumer.wakeup();
        } catch (RuntimeException e) {
            LOG.debug("waking the gradient receiver", e);
        }
        if (Thread.currentThread() != receiver) { // close() from a callback must not wait for itself
            try {
                receiver.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        failPending(new IllegalStateException("TrainerClient closed before the answer arrived"));
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.debug("closing the embeddings producer", e);
        }
    }

    // ---- Kafka set-up

    private static Properties producerProperties(Builder b, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-embeddings");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Send each batch at once (Kafka's default waits 5 ms for company).
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putAll(b.producerOverrides);
        return p;
    }

    private static Properties consumerProperties(Builder b, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-gradients");
        // Exactly-once answers become visible when the job's transaction commits; never read aborted ones.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        // A fetch returns as soon as an answer is there (fetch.min.bytes 1); the wait only bounds
        // how long an idle fetch is held at the broker.
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.putAll(b.consumerOverrides);
        return p;
    }

    private static List<TopicPartition> partitionsOf(KafkaConsumer<?, ?> consumer, List<String> topics, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<TopicPartition> out = new ArrayList<>();
        for (String topic : topics) {
            while (true) {
                List<PartitionInfo> infos;
                try {
                    infos = consumer.partitionsFor(topic, Duration.ofMillis(Math.max(1, Math.min(2_000,
                            TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))));
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
                    throw new IllegalStateException("gradient topic '" + topic + "' not found within " + timeout
                            + " (is the job running, or the topic created?)");
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

    /** Options of a {@link TrainerClient}. */
    public static final class Builder {
        private final String bootstrapServers;
        private String embeddingsTopic = "embeddings";
        private String gradientsTopic = "gradients";
        private final Set<String> streamKeys = new LinkedHashSet<>();
        private int maxInFlight = 8;
        private String clientId;
        private WireBounds bounds = WireBounds.DEFAULT;
        private Duration startTimeout = Duration.ofSeconds(30);
        private int deduplicationWindow = Deduplicator.DEFAULT_WINDOW;
        private final Map<String, String> producerOverrides = new LinkedHashMap<>();
        private final Map<String, String> consumerOverrides = new LinkedHashMap<>();

        private Builder(String bootstrapServers) {
            this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        }

        /** Where batches are published; default {@code embeddings}. */
        public Builder embeddingsTopic(String topic) {
            this.embeddingsTopic = requireName(topic);
            return this;
        }

        /** Where answers are read; may contain {@code {key}}; default {@code gradients}. */
        public Builder gradientsTopic(String topicOrTemplate) {
            this.gradientsTopic = requireName(topicOrTemplate);
            return this;
        }

        /** The stream keys this client publishes for (required with a {@code {key}} template). */
        public Builder streamKeys(String... keys) {
            for (String k : keys) {
                streamKeys.add(Objects.requireNonNull(k));
            }
            return this;
        }

        /** Batches outstanding before {@code submit} blocks; default 8. */
        public Builder maxInFlight(int maxInFlight) {
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight must be >= 1, got " + maxInFlight);
            }
            this.maxInFlight = maxInFlight;
            return this;
        }

        /** Prefix of the Kafka client ids; default {@code tripletflow-trainer-<random>}. */
        public Builder clientId(String clientId) {
            this.clientId = requireName(clientId);
            return this;
        }

        /** Bounds of the records written and read; default {@link WireBounds#DEFAULT}. */
        public Builder bounds(WireBounds bounds) {
            this.bounds = Objects.requireNonNull(bounds);
            return this;
        }

        /** How long {@link #build()} waits for the gradient topic's metadata; default 30 s. */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /**
         * Batch ids per stream key the deduplicator remembers (at least {@code maxInFlight}); default
         * {@value Deduplicator#DEFAULT_WINDOW}. See {@link Deduplicator} for what it bounds.
         */
        public Builder deduplicationWindow(int batches) {
            if (batches < 1) {
                throw new IllegalArgumentException("deduplicationWindow must be >= 1, got " + batches);
            }
            this.deduplicationWindow = batches;
            return this;
        }

        /** Any producer setting (e.g. {@code max.request.size} for large batches); applied last. */
        public Builder producerProperty(String key, String value) {
            producerOverrides.put(key, value);
            return this;
        }

        /** Any consumer setting; applied last. */
        public Builder consumerProperty(String key, String value) {
            consumerOverrides.put(key, value);
            return this;
        }

        /**
         * Connects: creates the producer and the consumer, positions the consumer at the end of
         * every partition of the gradient topic(s), and starts receiving.
         *
         * @throws IllegalStateException if a gradient topic does not exist within the start timeout
         */
        public TrainerClient build() {
            return new TrainerClient(this);
        }

        private static String requireName(String s) {
            if (s == null || s.isBlank()) {
                throw new IllegalArgumentException("a name must not be empty");
            }
            return s;
        }
    }
}
