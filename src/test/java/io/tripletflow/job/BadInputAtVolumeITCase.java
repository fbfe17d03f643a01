package io.tripletflow.job;

import static io.tripletflow.job.JobTestSupport.batchId;
import static io.tripletflow.job.JobTestSupport.computedMillis;
import static io.tripletflow.job.JobTestSupport.header;
import static io.tripletflow.job.JobTestSupport.offlineAnswer;
import static io.tripletflow.job.JobTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.delivery.Deduplicator;
import io.tripletflow.local.LocalFlinkCluster;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import io.tripletflow.testutils.EmbeddingRecords;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.LoopbackMiniCluster;
import io.tripletflow.testutils.RandomBatches;
import io.tripletflow.testutils.RecordMutation;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad input at volume: 100,000 records broken in every way {@link RecordMutation} knows
 * (truncations, bit flips in body, CRC and header fields, wrong lengths, NaN and infinite
 * embeddings with a right CRC, huge N and D, label mismatches, missing and malformed keys, wrong
 * magic and version, oversized records), one valid batch after every twenty, written by a producer
 * as fast as it goes into the real job (RocksDB, checkpoints, the default idempotent delivery).
 *
 * <p>Asserted: the job never fails over; every bad record is dead-lettered exactly once, unchanged,
 * with the reason its mutation implies (counted per reason); every valid batch is answered once
 * (through the {@link Deduplicator}); the heap after a full GC and the checkpointed state stay
 * within bounds, and so do the bytes allocated per record (see {@link #HEAP_GROWTH_BOUND},
 * {@link #MINING_STATE_BOUND}, {@link #ALLOCATED_PER_RECORD_BOUND}) while the volume flows. The
 * figures (throughput, dead letters per reason, heap and checkpoint samples) are logged.
 *
 * <p>Before the dead-letter sink's producer took records of any size Kafka delivers, the oversized
 * records ({@link RecordMutation#TOO_LARGE}, up to four times {@code max-record-bytes}) failed it
 * ({@code RecordTooLargeException}) and the job failed over, on every replay again.
 */
class BadInputAtVolumeITCase {
    private static final Logger LOG = LoggerFactory.getLogger(BadInputAtVolumeITCase.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final int PARALLELISM = 2;
    private static final int PARTITIONS = 2;
    private static final int BAD = 100_000;
    private static final int BAD_PER_VALID = 20;
    private static final int TOTAL = BAD + BAD / BAD_PER_VALID;
    /** Stream keys of the records that keep one: the job's keyed state grows with these, not with the records. */
    private static final int KEYS = 8;
    private static final int N = 16;
    private static final int D = 8;
    /** Answers compared byte for byte with the engine run offline (the rest by key and batch id). */
    private static final int ANSWERS_CHECKED_OFFLINE = 40;
    private static final RecordMutation.Bounds BOUNDS = new RecordMutation.Bounds(8192, 4096, 4096);

    /**
     * Most the heap may hold after a full GC beyond what it held before the first record, while
     * 100,000 bad records (~88 MB of values, ~116 MB on the dead-letter topic with key and headers)
     * flow through. What may legitimately stay are pools that fill once: this test's producer
     * ({@code buffer.memory} 16 MiB), the free 16 KiB batch buffers the six producers of the job's
     * sinks keep, consumer fetch buffers, the broker's and Flink's caches (20 to 35 MB here, most of
     * it before a fifth of the records was in). A job that kept something of each dead letter (the
     * record, its detail, ~1 KB) would exceed the bound before two thirds of them were in.
     */
    private static final long HEAP_GROWTH_BOUND = 64L << 20;
    /**
     * Most the JVM's threads (broker, job, this test) may allocate per record sent, on average:
     * 27 to 30 KB here (copies of the record, RocksDB reads and writes of the key's statistics, Kafka
     * buffers). One bad record in 25 claims N x D = 8192 x 4096 within the bounds
     * ({@link RecordMutation#HUGE_CLAIM}); a job that allocated those 128 MiB before checking the
     * length would allocate 5 MiB per record on average.
     */
    private static final long ALLOCATED_PER_RECORD_BOUND = 256L << 10;
    /**
     * Most the "mine triplets" operator may checkpoint, the in-flight data its unaligned checkpoints
     * report left out: RocksDB's snapshot of the statistics of {@link #KEYS} stream keys (a few KB
     * each with their histograms and label pairs) and a timer per key, 140 to 180 KB here (~100 KB
     * of it before the first record). Dead letters add a count to their key's statistics, nothing
     * per record: 100,000 dead letters that left even 8 bytes each (800 KB) would exceed it.
     */
    private static final long MINING_STATE_BOUND = 512L << 10;

    @RegisterExtension
    @Order(1)
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = LoopbackMiniCluster.extension(PARALLELISM,
            LocalFlinkCluster.loopbackConfiguration(0));

    @TempDir
    Path checkpoints;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void deadLettersEveryBadRecordOnceWithoutRestartInBoundedMemory(@InjectMiniCluster MiniCluster cluster,
            @InjectClusterRESTAddress URI rest) throws Exception {
        long testStart = System.nanoTime();
        String run = UUID.randomUUID().toString().substring(0, 8);
        JobTestSupport.Topics topics = JobTestSupport.Topics.of(run);
        KAFKA.createTopics(PARTITIONS, topics.embeddings(), topics.gradients(), topics.deadLetters());
        KAFKA.createTopics(1, topics.statistics());
        Configuration conf = JobTestSupport.jobConfiguration(KAFKA.bootstrapServers(), run, topics,
                "--max-rows", Integer.toString(BOUNDS.maxRows()),
                "--max-dimension", Integer.toString(BOUNDS.maxDimension()),
                "--max-record-bytes", Integer.toString(BOUNDS.maxRecordBytes()),
                "--checkpoint-interval", "1 s");
        assertThat(conf.get(TripletFlowOptions.DELIVERY_GUARANTEE)).isEqualTo(DeliveryMode.IDEMPOTENT);

        Plan plan = Plan.random(11);
        Map<TopicPartition, Long> ends = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            ends.put(new TopicPartition(topics.embeddings(), p), (long) plan.perPartition[p]);
        }
        // A failover would be recovered silently under this strategy (and replay, i.e. duplicate,
        // dead letters); the test asserts there was none.
        StreamExecutionEnvironment env = JobTestSupport.environment(checkpoints, PARALLELISM,
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "3",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "200 ms");
        TripletFlowJob.build(env, conf, OffsetsInitializer.offsets(ends), s -> s);
        JobClient job = env.executeAsync("tripletflow bad input at volume");
        String jobUrl = rest.resolve("/jobs/" + job.getJobID()).toString();
        String miningVertex = vertex(jobUrl, "mine triplets");
        awaitFirstCheckpoint(jobUrl);

        Samples samples = new Samples();
        samples.take(cluster, job.getJobID(), jobUrl, miningVertex);
        Sent sent = new Sent(plan);
        Thread producer = new Thread(() -> sent.produce(KAFKA.bootstrapServers(), topics.embeddings()), "bad-input");
        long produceStart = System.nanoTime();
        producer.start();
        while (!job.getJobExecutionResult().isDone()) {
            Thread.sleep(1500);
            samples.take(cluster, job.getJobID(), jobUrl, miningVertex);
            assertThat(System.nanoTime() - produceStart).as("time to read the input").isLessThan(
                    TimeUnit.SECONDS.toNanos(150));
        }
        job.getJobExecutionResult().get();
        long jobDone = System.nanoTime();
        producer.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(sent.failure.get()).as("producer").isNull();
        assertThat(sent.misplaced.get()).as("records not at the offset planned").isZero();
        samples.checkpoints(jobUrl, miningVertex);

        assertThat(JobTestSupport.failovers(cluster, job.getJobID())).as("failovers (execution graph)").isZero();
        JsonNode exceptions = get(jobUrl + "/exceptions").path("exceptionHistory").path("entries");
        assertThat(exceptions.isArray()).as("exception history of the job: %s", exceptions).isTrue();
        assertThat(exceptions).as("job exceptions").isEmpty();

        double seconds = (jobDone - produceStart) / 1e9;
        LOG.info("bad input at volume: {} bad + {} valid records ({} MB) in {} s: {} records/s ({} bad/s); "
                        + "producer done after {} s",
                BAD, plan.valid, sent.bytes.get() >> 20, String.format("%.1f", seconds),
                Math.round(TOTAL / seconds), Math.round(BAD / seconds),
                String.format("%.1f", (sent.doneNanos.get() - produceStart) / 1e9));
        samples.log();

        assertDeadLetteredOnceWithTheirReasons(plan, sent, topics);
        assertAnsweredOnce(plan, sent, topics, conf);
        LOG.info("test took {} s", String.format("%.1f", (System.nanoTime() - testStart) / 1e9));

        samples.assertHeapBounded();
        samples.assertAllocationBounded();
        samples.assertStateBounded();
    }

    // ------------------------------------------------------------------------------------------

    /** Which record is what: its stream key, and its mutation (null: a valid batch). */
    static final class Plan {
        final RecordMutation[] mutation = new RecordMutation[TOTAL];
        final int[] key = new int[TOTAL];
        final int[] partition = new int[TOTAL];
        final int[] perPartition = new int[PARTITIONS];
        int valid;

        static Plan random(long seed) {
            Random random = new Random(seed);
            RecordMutation[] kinds = RecordMutation.values();
            Plan plan = new Plan();
            for (int i = 0; i < TOTAL; i++) {
                plan.key[i] = random.nextInt(KEYS);
                if (i % (BAD_PER_VALID + 1) == 0) {
                    plan.valid++;
                } else {
                    plan.mutation[i] = kinds[random.nextInt(kinds.length)];
                }
                // A key's records, valid or not, on one partition: its batches are answered in order.
                plan.partition[i] = plan.key[i] % PARTITIONS;
                plan.perPartition[plan.partition[i]]++;
            }
            assertThat(TOTAL - plan.valid).isEqualTo(BAD);
            return plan;
        }

        static String key(int k) {
            return "trainer-" + k;
        }
    }

    /**
     * The records as sent: per (partition, offset) the plan's index, and per index the reason
     * expected and a hash of key and value. Written by the producing thread, read after it joined.
     */
    static final class Sent {
        final Plan plan;
        final int[][] index;
        final String[] reason = new String[TOTAL];
        final long[] hash = new long[TOTAL];
        final Map<Integer, byte[]> kept = new HashMap<>();
        final AtomicLong misplaced = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong doneNanos = new AtomicLong();
        final AtomicReference<Exception> failure = new AtomicReference<>();

        Sent(Plan plan) {
            this.plan = plan;
            index = new int[PARTITIONS][];
            for (int p = 0; p < PARTITIONS; p++) {
                index[p] = new int[plan.perPartition[p]];
            }
        }

        /** Generates and writes every record, as fast as the producer takes them. */
        void produce(String bootstrapServers, String topic) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 << 10));
            p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(16L << 20));
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            RandomBatches random = new RandomBatches(23);
            Random mutations = new Random(29);
            long now = System.currentTimeMillis();
            byte[][] latest = new byte[KEYS][];
            int[] offsets = new int[PARTITIONS];
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (int k = 0; k < KEYS; k++) {
                    latest[k] = validBatch(random, 0, now);
                }
                for (int i = 0; i < TOTAL; i++) {
                    int k = plan.key[i];
                    byte[] key = utf8(Plan.key(k));
                    byte[] value;
                    if (plan.mutation[i] == null) {
                        value = validBatch(random, i + 1, now + i);
                        latest[k] = value;
                        if (kept.size() < ANSWERS_CHECKED_OFFLINE) {
                            kept.put(i, value);
                        }
                    } else {
                        // Mutated from the key's latest valid batch, under the same batch id as its position.
                        byte[] base = withBatchId(latest[k], i + 1);
                        RecordMutation.Mutated bad = plan.mutation[i].apply(key, base, mutations, BOUNDS);
                        key = bad.key();
                        value = bad.value();
                        reason[i] = bad.reason();
                    }
                    hash[i] = hash(key, value);
                    int partition = plan.partition[i];
                    int offset = offsets[partition]++;
                    index[partition][offset] = i;
                    bytes.addAndGet(value == null ? 0 : value.length);
                    producer.send(new ProducerRecord<>(topic, partition, key, value), (md, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        } else if (md.offset() != offset) {
                            misplaced.incrementAndGet();
                        }
                    });
                }
                producer.flush();
            } catch (Exception e) {
                failure.compareAndSet(null, e);
            } finally {
                doneNanos.set(System.nanoTime());
            }
        }

        Map<String, Integer> expectedReasons() {
            Map<String, Integer> counts = new TreeMap<>();
            for (String r : reason) {
                if (r != null) {
                    counts.merge(r, 1, Integer::sum);
                }
            }
            return counts;
        }

        private static byte[] validBatch(RandomBatches random, long batchId, long created) {
            return EmbeddingRecords.record(batchId, batchId, created, N, D, random.pairedLabels(N, 4, 0.0),
                    random.unitEmbeddings(N, D));
        }

        private static byte[] withBatchId(byte[] record, long batchId) {
            byte[] r = record.clone();
            ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).putLong(8, batchId);
            return EmbeddingRecords.withCrc(r);
        }

        /** FNV-1a over key and value, each with its length (-1 for none). */
        static long hash(byte[] key, byte[] value) {
            long h = 0xcbf29ce484222325L;
            for (byte[] part : new byte[][] {key, value}) {
                h = (h ^ (part == null ? -1 : part.length)) * 0x100000001b3L;
                if (part != null) {
                    for (byte b : part) {
                        h = (h ^ (b & 0xFF)) * 0x100000001b3L;
                    }
                }
            }
            return h;
        }
    }

    /** Heap after a full GC, bytes allocated, failovers and checkpoint sizes, sampled during the run. */
    final class Samples {
        final List<Long> heap = new ArrayList<>();
        final List<Long> allocated = new ArrayList<>();
        final Map<Long, long[]> checkpoints = new LinkedHashMap<>();
        private final Map<Long, Long> allocatedByThread = new HashMap<>();
        private long allocatedTotal;

        void take(MiniCluster cluster, JobID job, String jobUrl, String miningVertex) throws Exception {
            System.gc();
            heap.add(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            allocated.add(allocatedSinceFirstSample());
            assertThat(JobTestSupport.failovers(cluster, job)).as("failovers during the run").isZero();
            checkpoints(jobUrl, miningVertex);
        }

        /** Every completed checkpoint the REST API still lists: total size, in-flight data, mining operator's size. */
        void checkpoints(String jobUrl, String miningVertex) throws Exception {
            JsonNode stats = get(jobUrl + "/checkpoints");
            if (stats == null) {
                return;
            }
            for (JsonNode c : stats.path("history")) {
                long id = c.path("id").asLong();
                if (!"COMPLETED".equals(c.path("status").asText()) || checkpoints.containsKey(id)) {
                    continue;
                }
                JsonNode task = get(jobUrl + "/checkpoints/details/" + id).path("tasks").path(miningVertex);
                checkpoints.put(id, new long[] {c.path("state_size").asLong(), c.path("persisted_data").asLong(),
                        task.path("state_size").asLong(), task.path("persisted_data").asLong()});
            }
        }

        private long allocatedSinceFirstSample() {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long[] ids = threads.getAllThreadIds();
            long[] bytes = threads.getThreadAllocatedBytes(ids);
            boolean first = allocatedByThread.isEmpty();
            for (int t = 0; t < ids.length; t++) {
                if (bytes[t] < 0) {
                    continue;
                }
                Long before = allocatedByThread.put(ids[t], bytes[t]);
                if (!first) {
                    allocatedTotal += bytes[t] - (before == null ? 0 : before);
                }
            }
            return allocatedTotal;
        }

        void log() {
            List<String> mb = heap.stream().map(b -> Long.toString(b >> 20)).toList();
            LOG.info("heap used after GC (MB), every ~1.5 s: {}; growth {} MB (bound {} MB)", mb,
                    (maxHeap() - heap.get(0)) >> 20, HEAP_GROWTH_BOUND >> 20);
            LOG.info("allocated by all threads during the run: {} MB ({} KB per record)",
                    allocated.get(allocated.size() - 1) >> 20, allocated.get(allocated.size() - 1) / TOTAL >> 10);
            StringBuilder s = new StringBuilder();
            checkpoints.forEach((id, c) -> s.append(String.format("%n  chk-%d: %d KB (in-flight %d KB); mine triplets"
                    + " %d KB (in-flight %d KB)", id, c[0] >> 10, c[1] >> 10, c[2] >> 10, c[3] >> 10)));
            LOG.info("completed checkpoints: {}{}", checkpoints.size(), s);
        }

        void assertHeapBounded() {
            assertThat(maxHeap() - heap.get(0)).as("heap growth after GC over the run (samples %s)", heap)
                    .isLessThanOrEqualTo(HEAP_GROWTH_BOUND);
        }

        void assertAllocationBounded() {
            assertThat(allocated.get(allocated.size() - 1) / TOTAL).as("bytes allocated per record")
                    .isLessThanOrEqualTo(ALLOCATED_PER_RECORD_BOUND);
        }

        void assertStateBounded() {
            assertThat(checkpoints).as("completed checkpoints").hasSizeGreaterThanOrEqualTo(3);
            checkpoints.forEach((id, c) -> assertThat(c[2] - c[3])
                    .as("state of 'mine triplets' in checkpoint %d, in-flight data left out", id)
                    .isLessThanOrEqualTo(MINING_STATE_BOUND));
        }

        private long maxHeap() {
            return heap.stream().mapToLong(Long::longValue).max().orElseThrow();
        }
    }

    // ------------------------------------------------------------------------------------------

    /** Every bad record dead-lettered once, unchanged, with the reason its mutation implies. */
    private static void assertDeadLetteredOnceWithTheirReasons(Plan plan, Sent sent, JobTestSupport.Topics topics) {
        List<ConsumerRecord<byte[], byte[]>> dead = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.deadLetters(), BAD, Duration.ofSeconds(60));
        BitSet deadLettered = new BitSet(TOTAL);
        Map<String, Integer> reasons = new TreeMap<>();
        Map<String, Long> bytes = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            int partition = Integer.parseInt(header(r, DeadLetterSerializer.SOURCE_PARTITION_HEADER));
            int offset = Integer.parseInt(header(r, DeadLetterSerializer.SOURCE_OFFSET_HEADER));
            int i = sent.index[partition][offset];
            String reason = header(r, DeadLetterSerializer.REASON_HEADER);
            assertThat(plan.mutation[i]).as("dead letter from %d@%d: a bad record", partition, offset).isNotNull();
            assertThat(deadLettered.get(i)).as("record %d (%s) dead-lettered once", i, plan.mutation[i]).isFalse();
            deadLettered.set(i);
            assertThat(header(r, DeadLetterSerializer.SOURCE_TOPIC_HEADER)).isEqualTo(topics.embeddings());
            assertThat(reason).as("reason for record %d (%s): %s", i, plan.mutation[i],
                    header(r, DeadLetterSerializer.DETAIL_HEADER)).isEqualTo(sent.reason[i]);
            assertThat(header(r, DeadLetterSerializer.DETAIL_HEADER)).isNotBlank();
            assertThat(Sent.hash(r.key(), r.value())).as("record %d (%s) unchanged", i, plan.mutation[i])
                    .isEqualTo(sent.hash[i]);
            reasons.merge(reason, 1, Integer::sum);
            long size = Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
            for (var h : r.headers()) {
                size += h.key().length() + h.value().length;
            }
            bytes.merge(reason, size, Long::sum);
        }
        long total = bytes.values().stream().mapToLong(Long::longValue).sum();
        LOG.info("dead letters per reason: {}", reasons);
        LOG.info("dead-letter topic: {} records, {} MB of keys, values and headers ({} bytes per record); "
                + "KB per reason: {}", dead.size(), total >> 20, total / Math.max(1, dead.size()),
                bytes.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                        e -> e.getValue() >> 10, (a, b) -> a, TreeMap::new)));
        assertThat(deadLettered.cardinality()).as("bad records dead-lettered").isEqualTo(BAD);
        assertThat(dead).as("dead letters").hasSize(BAD);
        assertThat(reasons).as("dead letters per reason").isEqualTo(sent.expectedReasons());
    }

    /**
     * Every valid batch answered, by its stream key, once (no restart, so the {@link Deduplicator}
     * must find no copy), the first ones byte for byte as the engine answers them offline.
     */
    private static void assertAnsweredOnce(Plan plan, Sent sent, JobTestSupport.Topics topics, Configuration conf)
            throws Exception {
        List<ConsumerRecord<byte[], byte[]>> answers = KafkaTestUtils.consumeCommitted(
                KAFKA.bootstrapServers(), topics.gradients(), plan.valid, Duration.ofSeconds(60));
        Deduplicator seen = new Deduplicator();
        BitSet answered = new BitSet(TOTAL);
        for (ConsumerRecord<byte[], byte[]> r : answers) {
            int i = Math.toIntExact(batchId(r.value())) - 1;
            assertThat(i).as("answer to batch %d", i + 1).isBetween(0, TOTAL - 1);
            assertThat(plan.mutation[i]).as("answer to record %d, a valid batch", i).isNull();
            assertThat(utf8(r.key())).isEqualTo(Plan.key(plan.key[i]));
            if (seen.firstTime(utf8(r.key()), i + 1)) {
                answered.set(i);
            }
            byte[] value = sent.kept.get(i);
            if (value != null) {
                assertThat(r.value()).as("answer to batch %d versus the engine offline", i + 1)
                        .isEqualTo(offlineAnswer(conf, r.key(), value, computedMillis(r.value())));
            }
        }
        assertThat(answered.cardinality()).as("valid batches answered").isEqualTo(plan.valid);
        assertThat(seen.duplicates() + seen.tooOld()).as("answers the deduplicator refused").isZero();
        assertThat(answers).as("answers").hasSize(plan.valid);
    }

    private void awaitFirstCheckpoint(String jobUrl) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonNode stats = get(jobUrl + "/checkpoints");
            if (stats != null && stats.path("counts").path("completed").asLong() > 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no checkpoint completed: " + get(jobUrl + "/checkpoints"));
    }

    /** The id of the job vertex whose name contains {@code operator}. */
    private String vertex(String jobUrl, String operator) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode job = get(jobUrl);
            if (job != null) {
                for (JsonNode v : job.path("vertices")) {
                    if (v.get("name").asText().contains(operator)) {
                        return v.get("id").asText();
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no vertex with '" + operator + "' in " + get(jobUrl));
    }

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    }
}
