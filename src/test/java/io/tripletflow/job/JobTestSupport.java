package io.tripletflow.job;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** What the job tests share: the job's configuration, the environment, the offline answer. */
final class JobTestSupport {

    private JobTestSupport() {}

    /** Topic names of one test run. */
    record Topics(String embeddings, String gradients, String deadLetters, String statistics) {
        static Topics of(String run) {
            return new Topics("embeddings-" + run, "gradients-" + run, "dead-letters-" + run, "statistics-" + run);
        }
    }

    /**
     * The job's configuration as {@code flink run ... --key value} would give it: the run's topics,
     * group and transactional ids, then {@code args} ({@code "--neg-num", "4"}, ...) on top.
     */
    static Configuration jobConfiguration(String bootstrapServers, String run, Topics topics, String... args) {
        List<String> all = new ArrayList<>(List.of(
                "--bootstrap-servers", bootstrapServers,
                "--embeddings-topics", topics.embeddings(),
                "--gradients-topic", topics.gradients(),
                "--dead-letter-topic", topics.deadLetters(),
                "--statistics-topic", topics.statistics(),
                "--group-id", "tf-" + run,
                "--transactional-id-prefix", "tf-" + run,
                "--backend", "cpu",
                "--checkpoint-interval", "200 ms"));
        all.addAll(List.of(args));
        return TripletFlowJob.configuration(new Configuration(), all.toArray(new String[0]));
    }

    /**
     * An environment for the test's MiniCluster: RocksDB, file checkpoints into {@code checkpointDir},
     * no Kryo fallback (every type the job ships must be a POJO or have its own serializer), and
     * any further Flink options ({@code key, value, ...}). Checkpointing is left to the job.
     */
    static StreamExecutionEnvironment environment(Path checkpointDir, int parallelism, String... flinkOptions) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        for (int i = 0; i < flinkOptions.length; i += 2) {
            conf.setString(flinkOptions[i], flinkOptions[i + 1]);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        return env;
    }

    /**
     * What {@code bin/tripletflow compute} gives for the record offline (fresh CPU backend, one
     * thread), encoded, with the job's {@code computed} timestamp so that every byte, the CRC
     * included, must match.
     */
    static byte[] offlineAnswer(Configuration conf, byte[] key, byte[] value, long computedMillis) throws Exception {
        EmbeddingBatch batch = new EmbeddingBatchCodec(TripletFlowOptions.wireBounds(conf)).decode(key, value);
        try (CpuMiningBackend backend = new CpuMiningBackend(TripletFlowOptions.miningOptions(conf), 1)) {
            MiningResult result = backend.mine(batch);
            return new GradientBatchCodec(TripletFlowOptions.wireBounds(conf)).encode(
                    result.toGradientBatch(batch, computedMillis, conf.get(TripletFlowOptions.INCLUDE_MASK)));
        }
    }

    /** The {@code computed} field (offset 32) of a gradient record. */
    static long computedMillis(byte[] gradientRecord) {
        return ByteBuffer.wrap(gradientRecord).order(ByteOrder.LITTLE_ENDIAN).getLong(32);
    }

    /** The {@code batch id} field (offset 8) of an embedding or gradient record. */
    static long batchId(byte[] record) {
        return ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
    }

    /** A header's value as UTF-8 text, or null when absent. */
    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static String utf8(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * How often a task of the job was (re)started beyond its first attempt: the highest attempt
     * number over all subtasks (0 = no failover happened), read from the job's execution graph.
     */
    static int failovers(MiniCluster cluster, JobID job) throws Exception {
        AccessExecutionGraph graph = cluster.getExecutionGraph(job).get(30, TimeUnit.SECONDS);
        int most = 0;
        for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
            most = Math.max(most, v.getCurrentExecutionAttempt().getAttemptNumber());
        }
        return most;
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
