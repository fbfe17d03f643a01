package io.tripletflow.stats;

import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.job.StreamState;
import io.tripletflow.job.StreamStatistics;
import io.tripletflow.job.KafkaRecord;
import io.tripletflow.local.LocalFlinkCluster;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * Reads the per-stream-key mining statistics out of a savepoint or a retained checkpoint of the
 * tripletflow job, with Flink's State Processor API: the keyed state of the operator with uid
 * {@code mine-triplets} ({@code MiningFunction}: {@code mining-statistics},
 * {@code hardest-label-pairs}, {@code next-publish}).
 *
 * <p>Each stream key comes back as the JSON object the job publishes on its statistics topic
 * ({@link StreamStatistics#toJson}), with {@code published_ms} the time of reading and three more
 * members: {@code terms} (hinge terms so far, the denominator of the non-zero share),
 * {@code next_publish_ms} (the pending publication timer, or null) and {@code source} = "savepoint".
 *
 * <p>State that its TTL ({@code tripletflow.state-ttl}) has expired but that was not cleaned up yet
 * is shown too: a savepoint is usually read long after it was taken. Runs a bounded job on an
 * in-JVM Flink (loopback only), reading with RocksDB, which reads both canonical savepoints and
 * RocksDB's native (incremental) checkpoints.
 */
public final class SavepointStatistics {
    /** The uid of the mining operator in {@code TripletFlowJob}. */
    public static final String MINING_UID = StreamState.OPERATOR_UID;

    private SavepointStatistics() {}

    /**
     * The statistics of every stream key in the savepoint or checkpoint at {@code path} (a
     * directory with a {@code _metadata} file, the file itself, or a URI), sorted by stream key.
     *
     * @throws IllegalArgumentException when there is no savepoint there or it has no such operator
     */
    public static List<Map<String, Object>> read(String path, String operatorUid) throws Exception {
        String location = location(path);
        Configuration conf = LocalFlinkCluster.loopbackConfiguration(0);
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        conf.set(CoreOptions.DEFAULT_PARALLELISM, 1);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SavepointReader savepoint;
        try {
            savepoint = SavepointReader.read(env, location, new EmbeddedRocksDBStateBackend());
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("no savepoint or checkpoint at " + path + " (" + e.getMessage() + ")", e);
        }
        List<Map<String, Object>> streams = new ArrayList<>();
        try (CloseableIterator<String> it = savepoint
                .readKeyedState(OperatorIdentifier.forUid(operatorUid), new Reader(System.currentTimeMillis()),
                        Types.STRING, Types.STRING)
                .executeAndCollect("tripletflow stats")) {
            while (it.hasNext()) {
                streams.add(Json.parseObject(it.next()));
            }
        } catch (IOException e) {
            // The reader names what is missing (e.g. no operator with that uid).
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
        streams.sort(Comparator.comparing(s -> String.valueOf(s.get("stream_key"))));
        return streams;
    }

    /** The savepoint location Flink expects: the directory, or the URI as given. */
    static String location(String path) {
        Path p;
        if (path.startsWith("file:")) {
            p = Path.of(java.net.URI.create(path));
        } else if (path.contains("://")) {
            return path;   // another file system (s3://, hdfs://): Flink resolves it
        } else {
            p = Path.of(path).toAbsolutePath().normalize();
        }
        if (Files.isRegularFile(p) && p.getFileName().toString().equals("_metadata")) {
            p = p.getParent();
        }
        if (!Files.isRegularFile(p.resolve("_metadata"))) {
            throw new IllegalArgumentException("no savepoint or checkpoint at " + path
                    + ": expected a directory with a _metadata file (savepoint-... or chk-N)");
        }
        return p.toUri().toString();
    }

    /** One stream key's state as JSON, read through the operator's own state declaration. */
    static final class Reader extends KeyedStateReaderFunction<String, String> {
        private static final long serialVersionUID = 1L;
        private final long nowMillis;
        private transient StreamState state;

        Reader(long nowMillis) {
            this.nowMillis = nowMillis;
        }

        @Override
        public void open(OpenContext context) {
            state = StreamState.ofReader(getRuntimeContext());
        }

        /** The key's cross-batch memory: fill and the model steps it spans, or null without one. */
        private String memory() throws Exception {
            long[] head = state.memoryHead();
            if (head == null) {
                return "null";
            }
            CrossBatchMemory memory = new CrossBatchMemory((int) head[4]);
            memory.restoreHead((int) head[0], (int) head[1], (int) head[2], head[3]);
            for (Map.Entry<Integer, byte[]> chunk : state.memoryChunks()) {
                memory.loadChunk(chunk.getKey(), chunk.getValue());
            }
            long[] steps = memory.modelStepRange();
            return "{\"rows\":" + memory.capacity() + ",\"filled\":" + memory.filled() + ",\"dimension\":"
                    + memory.dimension() + ",\"batches\":" + memory.batches() + ",\"oldest_model_step\":" + steps[0]
                    + ",\"newest_model_step\":" + steps[1] + "}";
        }

        @Override
        public void readKey(String key, Context ctx, Collector<String> out) throws Exception {
            StreamStatistics stats = state.statistics();
            if (stats == null) {
                return; // only a timer or label pairs left: nothing to show
            }
            String json = stats.toJson(KafkaRecord.streamKeyOf(key), state.labelPairsByCount(), nowMillis);
            Long next = state.nextPublish();
            out.collect(json.substring(0, json.length() - 1)
                    + ",\"memory\":" + memory()
                    + ",\"terms\":" + stats.terms
                    + ",\"next_publish_ms\":" + (next == null ? "null" : next.toString())
                    + ",\"source\":\"savepoint\"}");
        }
    }
}
