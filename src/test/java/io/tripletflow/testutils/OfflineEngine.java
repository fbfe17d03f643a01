package io.tripletflow.testutils;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.job.StreamStatistics;
import io.tripletflow.job.TripletFlowOptions;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import java.util.List;
import org.apache.flink.configuration.Configuration;

/**
 * The engine offline (the CPU backend, one thread, as {@code bin/tripletflow compute} runs it),
 * next to a running job with the same options: the answer the job must write to a batch, and the
 * statistics a stream key's state must hold after its batches. Used for batch after batch, as a
 * mining operator uses its backend.
 *
 * <pre>{@code
 * try (OfflineEngine engine = new OfflineEngine(TripletFlowJob.configuration(cluster, jobArgs))) {
 *     assertThat(answer.value()).isEqualTo(engine.answer(key, batch, computedMillis(answer.value())));
 * }
 * }</pre>
 */
public final class OfflineEngine implements AutoCloseable {
    private final Configuration conf;
    private final EmbeddingBatchCodec embeddings;
    private final GradientBatchCodec gradients;
    private final CpuMiningBackend backend;

    /** @param jobConf the job's options ({@code TripletFlowJob.configuration}) */
    public OfflineEngine(Configuration jobConf) {
        this.conf = jobConf;
        this.embeddings = new EmbeddingBatchCodec(TripletFlowOptions.wireBounds(jobConf));
        this.gradients = new GradientBatchCodec(TripletFlowOptions.wireBounds(jobConf));
        this.backend = new CpuMiningBackend(TripletFlowOptions.miningOptions(jobConf), 1);
    }

    /**
     * The answer to the embedding batch record {@code value} of stream key {@code key}, encoded with
     * the job's {@code computed} timestamp, so that every byte, the CRC included, must match.
     */
    public byte[] answer(byte[] key, byte[] value, long computedMillis) throws Exception {
        EmbeddingBatch batch = embeddings.decode(key, value);
        MiningResult result = backend.mine(batch);
        return gradients.encode(result.toGradientBatch(batch, computedMillis, conf.get(TripletFlowOptions.INCLUDE_MASK)));
    }

    /**
     * A stream key's statistics after {@code values} (valid batches, in the order the job read them),
     * folded as the mining operator folds them. Time-dependent members (latency, {@code last_batch_ms})
     * are 0.
     */
    public StreamStatistics statistics(byte[] key, List<byte[]> values) throws Exception {
        StreamStatistics stats = new StreamStatistics();
        for (byte[] value : values) {
            EmbeddingBatch batch = embeddings.decode(key, value);
            MiningResult result = backend.mine(batch);
            stats.observeModelStep(batch.modelStep());
            stats.add(batch.rows(), result, 0, 0, conf.get(TripletFlowOptions.STATISTICS_DECAY),
                    conf.get(TripletFlowOptions.ALL_EASY_BATCHES));
        }
        return stats;
    }

    @Override
    public void close() {
        backend.close();
    }
}
