package io.tripletflow.trainer;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.delivery.Deduplicator;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.GradientsTopic;
import io.tripletflow.wire.WireBounds;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * <p><b>Secured clusters.</b> {@link Builder#kafkaProperty} passes Kafka's own client properties to
 * the producer and the consumer, the same ones the job takes as {@code --kafka.<property>}:
 * {@code builder.kafkaProperty("security.protocol", "SASL_SSL").kafkaProperty("sasl.mechanism",
 * "SCRAM-SHA-512")...}. Refused credentials fail {@link Builder#build()} with an
 * {@link IllegalStateException} that names the authentication failure.
 *
 * <p>If the gradient topic is a template with {@code {key}} (e.g. {@code gradients.{key}}), the
 * stream keys must be declared with {@link Builder#streamKeys} so the client can read their
 * topics; declared keys also restrict what {@link #submit} accepts.
 *
 * <p><b>Parts.</b> {@link EmbeddingPublisher} sends, {@link GradientReceiver} reads,
 * {@link PendingAnswers} matches answers to futures, {@link InFlightWindow} bounds what is
 * outstanding, {@link ClientCounters} counts; this class puts them together.
 */
public final class TrainerClient implements GradientService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerClient.class);

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
    private final DeclaredStreamKeys streamKeys;
    private final List<String> gradientTopics;
    private final InFlightWindow window;
    private final ClientCounters counters = new ClientCounters();
    private final PendingAnswers pending;
    private final EmbeddingPublisher publisher;
    private final GradientReceiver receiver;

    private volatile boolean closed;
    private volatile Throwable receiverFailure;

    private TrainerClient(Builder b) {
        this.embeddingsTopic = b.embeddingsTopic;
        this.streamKeys = new DeclaredStreamKeys(b.streamKeys);
        this.gradientTopics = streamKeys.gradientTopics(GradientsTopic.of(b.gradientsTopic));
        this.window = new InFlightWindow(b.maxInFlight);
        this.pending = new PendingAnswers(new Deduplicator(Math.max(b.deduplicationWindow, b.maxInFlight),
                streamKeys.count(Deduplicator.DEFAULT_STREAM_KEYS)), counters);

        String clientId = b.clientId != null ? b.clientId : "tripletflow-trainer-" + UUID.randomUUID().toString().substring(0, 8);
        this.publisher = new EmbeddingPublisher(
                TrainerKafkaProperties.producer(b.bootstrapServers, clientId, b.kafkaProperties, b.producerOverrides),
                embeddingsTopic, new EmbeddingBatchCodec(b.bounds));
        try {
            this.receiver = new GradientReceiver(
                    TrainerKafkaProperties.consumer(b.bootstrapServers, clientId, b.kafkaProperties, b.consumerOverrides),
                    gradientTopics, b.startTimeout, new GradientBatchCodec(b.bounds), counters);
        } catch (RuntimeException e) {
            publisher.close(Duration.ofSeconds(1));
            throw e;
        }
        receiver.start(clientId + "-receiver", pending::take, this::receiverFailed);
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
        streamKeys.check(batch.streamKey());
        byte[] value = publisher.encode(batch);
        pending.checkAnswerable(batch);
        window.acquire(maxWait, this::checkOpen);
        BatchKey key = new BatchKey(batch.streamKey(), batch.batchId());
        CompletableFuture<GradientBatch> answer = new CompletableFuture<>();
        if (!pending.add(key, answer)) {
            window.release();
            throw new IllegalArgumentException(batch.describe() + " is already in flight");
        }
        // The caller's future completes after the bookkeeping, so stats() and inFlight() are
        // current when it sees the answer. Cancelling it or timing it out frees the slot.
        CompletableFuture<GradientBatch> result = new CompletableFuture<>();
        answer.whenComplete((g, e) -> {
            if (pending.finish(key, answer)) {
                window.release();
            }
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
        counters.countSubmitted();
        publisher.publish(batch, value, answer::completeExceptionally);
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

    private void checkOpen() {
        Throwable failure = receiverFailure;
        if (failure != null) {
            throw new IllegalStateException("the gradient receiver failed", failure);
        }
        if (closed) {
            throw new IllegalStateException("TrainerClient is closed");
        }
    }

    private void receiverFailed(Throwable failure) {
        receiverFailure = failure;
        pending.failAll(failure);
    }

    // ---- State

    /** Batches submitted and not yet answered, failed, cancelled or timed out. */
    public int inFlight() {
        return pending.size();
    }

    public int maxInFlight() {
        return window.maxInFlight();
    }

    public Stats stats() {
        return counters.snapshot(pending.size());
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
        receiver.close();
        pending.failAll(new IllegalStateException("TrainerClient closed before the answer arrived"));
        try {
            publisher.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.debug("closing the embeddings producer", e);
        }
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
        private final Map<String, String> kafkaProperties = new LinkedHashMap<>();
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

        /**
         * A Kafka client property of both the producer and the consumer, under Kafka's name: what a
         * secured cluster needs ({@code security.protocol}, {@code sasl.mechanism},
         * {@code sasl.jaas.config}, {@code ssl.truststore.location}, ...), the same properties the
         * job takes as {@code --kafka.<property>}. Applied over the client's defaults, before
         * {@link #producerProperty} and {@link #consumerProperty}.
         */
        public Builder kafkaProperty(String key, String value) {
            kafkaProperties.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        /** {@link #kafkaProperty} for each entry, e.g. the job's {@code tripletflow.kafka.*} properties. */
        public Builder kafkaProperties(Map<String, String> properties) {
            properties.forEach(this::kafkaProperty);
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
         * @throws IllegalStateException if a gradient topic does not exist within the start timeout,
         *         no broker answers within it (a wrong address, or a {@code security.protocol} the
         *         listener does not speak), or the brokers refuse the client's credentials or TLS
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
