package io.tripletflow.deploy;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.job.TripletFlowJob;
import io.tripletflow.local.EmbeddedKafkaBroker;
import io.tripletflow.local.LocalFlinkCluster;
import io.tripletflow.testutils.KafkaTestUtils;
import io.tripletflow.testutils.KafkaTestUtils.KV;
import io.tripletflow.wire.EmbeddingBatchCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The real tripletflow job ({@link TripletFlowJob#build}) on an in-JVM Flink cluster
 * ({@link LocalFlinkCluster}: loopback, RocksDB, incremental exactly-once checkpoints) against an
 * {@link EmbeddedKafkaBroker} with the default topic names, for the deployment, statistics and
 * example tests. Everything binds to 127.0.0.1.
 */
public final class JobHarness implements AutoCloseable {
    public static final String EMBEDDINGS = "embeddings";
    public static final String GRADIENTS = "gradients";
    public static final String DEAD_LETTERS = "embeddings.dead-letters";
    public static final String STATISTICS = "mining-statistics";

    private final EmbeddedKafkaBroker broker;
    private final LocalFlinkCluster cluster;
    private final Path checkpointDir;
    private final JobClient client;

    private JobHarness(Map<String, String> flink, List<KV> published, List<String> jobArgs) throws Exception {
        broker = EmbeddedKafkaBroker.builder().build().start();
        try {
            broker.createTopics(2, EMBEDDINGS, GRADIENTS);
            broker.createTopics(1, DEAD_LETTERS, STATISTICS);
            if (!published.isEmpty()) {
                KafkaTestUtils.produce(broker.bootstrapServers(), EMBEDDINGS, published);
            }
            checkpointDir = Files.createTempDirectory("tripletflow-harness-checkpoints-");
            LocalFlinkCluster.Builder b = LocalFlinkCluster.builder()
                    .webPort(0)
                    .parallelism(2)
                    .checkpointInterval(Duration.ofMillis(300))
                    .checkpointDir(checkpointDir);
            flink.forEach(b::set);
            cluster = b.build();
            List<String> args = new ArrayList<>(List.of(
                    "--bootstrap-servers", broker.bootstrapServers(),
                    "--group-id", "harness-" + UUID.randomUUID(),
                    "--transactional-id-prefix", "harness-" + UUID.randomUUID().toString().substring(0, 8),
                    "--statistics-interval", "500 ms"));
            args.addAll(jobArgs);
            StreamExecutionEnvironment env = cluster.createEnvironment();
            Configuration conf = TripletFlowJob.configuration(cluster.configuration(), args.toArray(String[]::new));
            TripletFlowJob.build(env, conf);
            client = env.executeAsync("tripletflow");
        } catch (Exception | Error e) {
            broker.close();
            throw e;
        }
    }

    /** Starts the job; {@code flink} are extra Flink options, {@code jobArgs} extra job arguments. */
    public static JobHarness start(Map<String, String> flink, String... jobArgs) throws Exception {
        return new JobHarness(flink, List.of(), List.of(jobArgs));
    }

    /**
     * As {@link #start(Map, String...)}, with {@code published} on the embeddings topic before the
     * job starts (a job restored from a savepoint then finds the offsets it resumes from).
     */
    public static JobHarness start(Map<String, String> flink, List<KV> published, String... jobArgs) throws Exception {
        return new JobHarness(flink, published, List.of(jobArgs));
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public JobClient client() {
        return client;
    }

    /** Where the job's checkpoints go ({@code <dir>/<job id>/chk-N}). */
    public Path checkpointDir() {
        return checkpointDir;
    }

    /** Publishes records to the embeddings topic (key = stream key, UTF-8). */
    public void produce(List<KV> records) {
        KafkaTestUtils.produce(broker.bootstrapServers(), EMBEDDINGS, records);
    }

    /** Reads a topic (read_committed) until {@code count} records or the timeout. */
    public List<ConsumerRecord<byte[], byte[]>> awaitRecords(String topic, int count, Duration timeout) {
        return KafkaTestUtils.consumeCommitted(broker.bootstrapServers(), topic, count, timeout);
    }

    /**
     * {@code count} valid embedding batches of {@code rows} unit rows in anchor/positive pairs of one
     * label (the job's defaults: pair-size 2, no label mismatches), batch ids 1..count.
     */
    public static List<KV> batches(String streamKey, int count, int rows, int dimension, long seed) {
        Random random = new Random(seed);
        EmbeddingBatchCodec codec = new EmbeddingBatchCodec();
        List<KV> out = new ArrayList<>();
        for (int b = 1; b <= count; b++) {
            int[] labels = new int[rows];
            float[] emb = new float[rows * dimension];
            for (int r = 0; r < rows; r++) {
                labels[r] = (r / 2) % 3;
                double norm = 0;
                for (int c = 0; c < dimension; c++) {
                    float v = (float) random.nextGaussian();
                    emb[r * dimension + c] = v;
                    norm += v * v;
                }
                for (int c = 0; c < dimension; c++) {
                    emb[r * dimension + c] /= (float) Math.sqrt(norm);
                }
            }
            EmbeddingBatch batch = new EmbeddingBatch(streamKey, b, b, System.currentTimeMillis(), rows, dimension,
                    labels, emb);
            out.add(new KV(streamKey.getBytes(StandardCharsets.UTF_8), codec.encode(batch)));
        }
        return out;
    }

    /** Counts records per Kafka key (UTF-8). */
    public static Map<String, Integer> countByKey(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            counts.merge(r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
        return counts;
    }

    @Override
    public void close() throws Exception {
        try {
            if (!client.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                client.cancel().get(30, TimeUnit.SECONDS);
            }
        } catch (Exception ignored) {
            // already gone
        } finally {
            cluster.close();
            broker.close();
            deleteTree(checkpointDir);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // best effort
        }
    }
}
