package io.tripletflow.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.WireFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link TrainerClient} against an embedded broker, with the test playing the job: it reads the
 * published batches and writes answers (plain, transactional, unknown, duplicate, invalid).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TrainerClientTest {

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    private static final String KEY = "trainer-1";
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @Test
    void answersAreMatchedByBatchIdAndStrayAnswersAreCountedAndIgnored() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 4);
        List<CompletableFuture<GradientBatch>> futures = new ArrayList<>();
        for (long id = 10; id <= 12; id++) {
            futures.add(client.submit(batch(KEY, id, 4, 3)));
        }
        List<EmbeddingBatch> published = readBatches(t.embeddings, 3);
        assertThat(published).extracting(EmbeddingBatch::batchId).containsExactly(10L, 11L, 12L);
        assertThat(published.get(0).streamKey()).isEqualTo(KEY);

        Job job = job(t);
        job.send(KEY, new byte[] {1, 2, 3});                 // not a gradient batch
        job.answer(answer(batch(KEY, 99, 4, 3), 99f));       // nobody asked
        job.answer(answer(batch("other", 10, 4, 3), 7f));   // same id, another stream key
        for (int i = published.size() - 1; i >= 0; i--) {    // out of order
            EmbeddingBatch b = published.get(i);
            job.answer(answer(b, b.batchId()));
        }
        for (int i = 0; i < 3; i++) {
            GradientBatch g = futures.get(i).get(30, TimeUnit.SECONDS);
            assertThat(g.batchId()).isEqualTo(10 + i);
            assertThat(g.streamKey()).isEqualTo(KEY);
            assertThat(g.gradients()[0]).isEqualTo(10f + i);
        }
        job.answer(answer(published.get(1), 0f));            // at-least-once replay

        TrainerClient.Stats s = awaitStats(client, x -> x.duplicateAnswers() == 1);
        assertThat(s.submitted()).isEqualTo(3);
        assertThat(s.answered()).isEqualTo(3);
        assertThat(s.failed()).isZero();
        assertThat(s.unknownAnswers()).isEqualTo(2);
        assertThat(s.invalidAnswers()).isEqualTo(1);
        assertThat(s.inFlight()).isZero();
        assertThat(client.inFlight()).isZero();
    }

    @Test
    void replayedAnswersAreDroppedAndAnAnsweredBatchIdIsRefused() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 4);
        CompletableFuture<GradientBatch> first = client.submit(batch(KEY, 1, 4, 3));
        CompletableFuture<GradientBatch> second = client.submit(batch(KEY, 2, 4, 3));
        List<EmbeddingBatch> published = readBatches(t.embeddings, 2);
        Job job = job(t);
        job.answer(answer(published.get(0), 1f));
        job.answer(answer(published.get(0), 1f));   // the job replayed batch 1 after a failure
        job.answer(answer(published.get(1), 2f));
        job.answer(answer(published.get(0), 1f));   // and again, after batch 2
        job.answer(answer(published.get(1), 2f));
        assertThat(first.get(30, TimeUnit.SECONDS).gradients()[0]).isEqualTo(1f);
        assertThat(second.get(30, TimeUnit.SECONDS).gradients()[0]).isEqualTo(2f);

        TrainerClient.Stats s = awaitStats(client, x -> x.duplicateAnswers() == 3);
        assertThat(s.answered()).isEqualTo(2);
        assertThat(s.unknownAnswers()).isZero();
        assertThatThrownBy(() -> client.submit(batch(KEY, 1, 4, 3)))
                .as("an answer to a second batch 1 would be dropped as a replay")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batch ids must increase per stream key");
        assertThat(client.submit(batch(KEY, 3, 4, 3))).isNotDone();
        assertThat(client.stats().submitted()).isEqualTo(3);
    }

    @Test
    void submitBlocksWhileMaxInFlightBatchesAreOutstanding() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 2);
        client.submit(batch(KEY, 1, 2, 2));
        client.submit(batch(KEY, 2, 2, 2));
        assertThat(client.inFlight()).isEqualTo(2);
        assertThatThrownBy(() -> client.submit(batch(KEY, 3, 2, 2), Duration.ofMillis(300)))
                .isInstanceOf(TimeoutException.class);

        CompletableFuture<CompletableFuture<GradientBatch>> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return client.submit(batch(KEY, 3, 2, 2));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(500);
        assertThat(blocked).as("submit blocks at maxInFlight").isNotDone();

        List<EmbeddingBatch> published = readBatches(t.embeddings, 2);
        job(t).answer(answer(published.get(0), 1f));
        CompletableFuture<GradientBatch> third = blocked.get(30, TimeUnit.SECONDS);
        assertThat(third).isNotDone();
        assertThat(client.inFlight()).isEqualTo(2);
        assertThat(readBatches(t.embeddings, 3)).extracting(EmbeddingBatch::batchId).containsExactly(1L, 2L, 3L);
    }

    @Test
    void aBatchIdInFlightCannotBeSubmittedTwice() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 4);
        client.submit(batch(KEY, 5, 2, 2));
        assertThatThrownBy(() -> client.submit(batch(KEY, 5, 2, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already in flight");
        assertThat(client.inFlight()).isEqualTo(1);
    }

    @Test
    void cancellingAFutureFreesItsSlotAndItsLateAnswerIsADuplicate() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 1);
        CompletableFuture<GradientBatch> first = client.submit(batch(KEY, 1, 2, 2));
        first.cancel(false);
        CompletableFuture<GradientBatch> second = client.submit(batch(KEY, 2, 2, 2), Duration.ofSeconds(5));

        List<EmbeddingBatch> published = readBatches(t.embeddings, 2);
        Job job = job(t);
        job.answer(answer(published.get(0), 1f));
        job.answer(answer(published.get(1), 2f));
        assertThat(second.get(30, TimeUnit.SECONDS).batchId()).isEqualTo(2);
        TrainerClient.Stats s = awaitStats(client, x -> x.duplicateAnswers() == 1);
        assertThat(s.answered()).isEqualTo(1);
        assertThat(s.failed()).isEqualTo(1);
        assertThat(s.unknownAnswers()).isZero();
    }

    @Test
    void answersOfAbortedTransactionsAreNeverSeen() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 2);
        CompletableFuture<GradientBatch> future = client.submit(batch(KEY, 1, 2, 2));
        EmbeddingBatch published = readBatches(t.embeddings, 1).get(0);
        Job job = job(t);
        job.answerInTransaction(answer(published, -1f), false);
        job.answerInTransaction(answer(published, 1f), true);
        assertThat(future.get(30, TimeUnit.SECONDS).gradients()[0]).isEqualTo(1f);
        Thread.sleep(300);
        TrainerClient.Stats s = client.stats();
        assertThat(s.duplicateAnswers()).isZero();
        assertThat(s.unmatchedAnswers()).isZero();
    }

    @Test
    void answersWrittenBeforeTheClientStartedAreNotSeen() throws Exception {
        Topics t = topics();
        Job job = job(t);
        job.answer(answer(batch(KEY, 1, 2, 2), -1f)); // an earlier run's answer to the same id
        TrainerClient client = client(t, 2);
        CompletableFuture<GradientBatch> future = client.submit(batch(KEY, 1, 2, 2));
        Thread.sleep(500);
        assertThat(future).isNotDone();
        job.answer(answer(readBatches(t.embeddings, 1).get(0), 1f));
        assertThat(future.get(30, TimeUnit.SECONDS).gradients()[0]).isEqualTo(1f);
        assertThat(client.stats().unmatchedAnswers()).isZero();
    }

    @Test
    void exchangeIsABlockingRoundTripAndTimesOut() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 2);
        assertThatThrownBy(() -> client.exchange(batch(KEY, 1, 2, 2), Duration.ofMillis(500)))
                .isInstanceOf(TimeoutException.class);
        assertThat(client.inFlight()).as("a timed-out exchange frees its slot").isZero();

        Job job = job(t);
        CompletableFuture<Void> responder = CompletableFuture.runAsync(() -> {
            List<EmbeddingBatch> published = readBatches(t.embeddings, 2);
            job.answer(answer(published.get(1), 2f));
        });
        GradientBatch g = client.exchange(batch(KEY, 2, 2, 2), Duration.ofSeconds(30));
        assertThat(g.batchId()).isEqualTo(2);
        responder.get(30, TimeUnit.SECONDS);
    }

    @Test
    void closeFailsOutstandingFuturesAndLaterSubmits() throws Exception {
        Topics t = topics();
        TrainerClient client = client(t, 2);
        CompletableFuture<GradientBatch> pending = client.submit(batch(KEY, 1, 2, 2));
        client.close();
        assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> client.submit(batch(KEY, 2, 2, 2)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(client.stats().failed()).isEqualTo(1);
        client.close(); // idempotent
    }

    @Test
    void aTemplatedGradientTopicIsReadPerDeclaredStreamKey() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String embeddings = "emb-" + run;
        String template = "grad-" + run + ".{key}";
        KAFKA.createTopics(1, embeddings, "grad-" + run + ".a", "grad-" + run + ".b");
        TrainerClient client = TrainerClient.builder(KAFKA.bootstrapServers())
                .embeddingsTopic(embeddings).gradientsTopic(template).streamKeys("a", "b").build();
        closeables.add(client);
        assertThat(client.gradientTopics()).containsExactly("grad-" + run + ".a", "grad-" + run + ".b");
        assertThatThrownBy(() -> client.submit(batch("c", 1, 2, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not declared");
        CompletableFuture<GradientBatch> a = client.submit(batch("a", 1, 2, 2));
        CompletableFuture<GradientBatch> b = client.submit(batch("b", 1, 2, 2));
        Job job = new Job(KAFKA.bootstrapServers(), null);
        closeables.add(job);
        for (EmbeddingBatch e : readBatches(embeddings, 2)) {
            job.answer("grad-" + run + "." + e.streamKey(), answer(e, e.streamKey().equals("a") ? 1f : 2f));
        }
        assertThat(a.get(30, TimeUnit.SECONDS).gradients()[0]).isEqualTo(1f);
        assertThat(b.get(30, TimeUnit.SECONDS).gradients()[0]).isEqualTo(2f);

        assertThatThrownBy(() -> TrainerClient.builder(KAFKA.bootstrapServers()).gradientsTopic(template).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("streamKeys");
    }

    @Test
    void aMissingGradientTopicFailsTheBuild() {
        assertThatThrownBy(() -> TrainerClient.builder(KAFKA.bootstrapServers())
                .gradientsTopic("no-such-topic-" + UUID.randomUUID())
                .consumerProperty("allow.auto.create.topics", "false")
                .startTimeout(Duration.ofSeconds(2)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not found");
    }

    // ---------------------------------------------------------------------------------------

    private record Topics(String embeddings, String gradients) {}

    private static Topics topics() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Topics t = new Topics("embeddings-" + run, "gradients-" + run);
        KAFKA.createTopics(1, t.embeddings, t.gradients);
        return t;
    }

    private TrainerClient client(Topics t, int maxInFlight) {
        TrainerClient c = TrainerClient.builder(KAFKA.bootstrapServers())
                .embeddingsTopic(t.embeddings).gradientsTopic(t.gradients).maxInFlight(maxInFlight).build();
        closeables.add(c);
        return c;
    }

    private Job job(Topics t) {
        Job j = new Job(KAFKA.bootstrapServers(), t.gradients);
        closeables.add(j);
        return j;
    }

    static EmbeddingBatch batch(String key, long id, int rows, int dim) {
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = i / 2;
        }
        float[] e = new float[rows * dim];
        Arrays.fill(e, 0.5f);
        return new EmbeddingBatch(key, id, 0, System.currentTimeMillis(), rows, dim, labels, e);
    }

    /** An answer whose gradients are all {@code marker}, to tell answers apart. */
    static GradientBatch answer(EmbeddingBatch b, float marker) {
        float[] g = new float[b.rows() * b.dimension()];
        Arrays.fill(g, marker);
        return new GradientBatch(b.streamKey(), b.batchId(), b.modelStep(), b.createdMillis(),
                System.currentTimeMillis(), b.rows(), b.dimension(), 1f, 0, 0, g, null);
    }

    /** Every batch published to the topic so far, at least {@code count}, in order. */
    static List<EmbeddingBatch> readBatches(String topic, int count) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        EmbeddingBatchCodec codec = new EmbeddingBatchCodec();
        List<EmbeddingBatch> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (out.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    out.add(codec.decode(r.key(), r.value()));
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        assertThat(out).hasSizeGreaterThanOrEqualTo(count);
        return out;
    }

    private static TrainerClient.Stats awaitStats(TrainerClient client, Predicate<TrainerClient.Stats> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        TrainerClient.Stats s = client.stats();
        while (!done.test(s) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = client.stats();
        }
        return s;
    }

    /** The test's stand-in for the job: writes answers (plain or transactional) to the gradient topic. */
    private static final class Job implements AutoCloseable {
        private final GradientBatchCodec codec = new GradientBatchCodec();
        private final String bootstrap;
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;
        private KafkaProducer<byte[], byte[]> transactional;

        Job(String bootstrap, String topic) {
            this.bootstrap = bootstrap;
            this.topic = topic;
            this.producer = new KafkaProducer<>(props(bootstrap, null));
        }

        void answer(GradientBatch g) {
            answer(topic, g);
        }

        void answer(String toTopic, GradientBatch g) {
            try {
                producer.send(new ProducerRecord<>(toTopic, WireFormat.streamKeyBytes(g.streamKey()), codec.encode(g))).get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        void send(String key, byte[] value) {
            try {
                producer.send(new ProducerRecord<>(topic, WireFormat.streamKeyBytes(key), value)).get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        void answerInTransaction(GradientBatch g, boolean commit) {
            if (transactional == null) {
                transactional = new KafkaProducer<>(props(bootstrap, "test-job-" + UUID.randomUUID()));
                transactional.initTransactions();
            }
            transactional.beginTransaction();
            transactional.send(new ProducerRecord<>(topic, WireFormat.streamKeyBytes(g.streamKey()), codec.encode(g)));
            transactional.flush();
            if (commit) {
                transactional.commitTransaction();
            } else {
                transactional.abortTransaction();
            }
        }

        private static Properties props(String bootstrap, String transactionalId) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            if (transactionalId != null) {
                p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            }
            return p;
        }

        @Override
        public void close() {
            producer.close(Duration.ofSeconds(5));
            if (transactional != null) {
                transactional.close(Duration.ofSeconds(5));
            }
        }
    }
}
