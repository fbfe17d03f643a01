package io.tripletflow.job;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.InvalidBatchException;
import io.tripletflow.engine.MiningBackend;
import io.tripletflow.engine.backends.BackendKind;
import io.tripletflow.engine.backends.MiningBackends;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.InvalidRecordException;
import io.tripletflow.wire.WireBounds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mines one stream key's batches: decode (wire rules), check staleness, run the backend, answer
 * with the encoded gradient batch, fold the batch into the key's statistics, and publish those on
 * a processing-time timer. Invalid records leave through {@link #DEAD_LETTERS}, statistics through
 * {@link #STATISTICS}.
 */
public final class MiningFunction extends KeyedProcessFunction<String, KafkaRecord, GradientRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MiningFunction.class);

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};
    public static final OutputTag<StatisticsReport> STATISTICS = new OutputTag<>("statistics") {};

    /**
     * What the function needs from the configuration, read from {@link TripletFlowOptions} (whose
     * defaults are the only ones); serializable with the job graph.
     */
    public static final class Settings implements java.io.Serializable {
        private static final long serialVersionUID = 2L;
        final BackendKind backend;
        final int cpuThreads;
        final int gpuDevice;
        final WireBounds bounds;
        final boolean includeMask;
        final long maxStaleness;
        final boolean dropStale;
        final long statisticsIntervalMillis;
        final double decay;
        final int topLabelPairs;
        final int allEasyBatches;
        final Duration stateTtl;

        private Settings(Configuration conf) {
            backend = conf.get(TripletFlowOptions.BACKEND);
            cpuThreads = conf.get(TripletFlowOptions.CPU_THREADS);
            gpuDevice = conf.get(TripletFlowOptions.GPU_DEVICE);
            bounds = TripletFlowOptions.wireBounds(conf);
            includeMask = conf.get(TripletFlowOptions.INCLUDE_MASK);
            maxStaleness = conf.get(TripletFlowOptions.MAX_STALENESS);
            dropStale = conf.get(TripletFlowOptions.ON_STALE) == OnStale.DROP;
            statisticsIntervalMillis = conf.get(TripletFlowOptions.STATISTICS_INTERVAL).toMillis();
            decay = conf.get(TripletFlowOptions.STATISTICS_DECAY);
            topLabelPairs = conf.get(TripletFlowOptions.TOP_LABEL_PAIRS);
            allEasyBatches = conf.get(TripletFlowOptions.ALL_EASY_BATCHES);
            stateTtl = conf.get(TripletFlowOptions.STATE_TTL);
        }

        /** The settings of {@code conf}; options it does not set take their {@link TripletFlowOptions} default. */
        public static Settings of(Configuration conf) {
            return new Settings(conf);
        }
    }

    private final Settings settings;
    private final MiningOptions options;

    private transient MiningBackend backend;
    private transient EmbeddingBatchCodec embeddings;
    private transient GradientBatchCodec gradients;
    private transient MiningMetrics metrics;
    private transient StreamState state;
    /** The cross-batch memories of recently active keys; null without a memory. */
    private transient HeldMemories memories;

    MiningFunction(Settings settings, MiningOptions options) {
        this.settings = settings;
        this.options = options;
    }

    @Override
    public void open(OpenContext context) {
        MiningBackends.Choice choice = MiningBackends.create(settings.backend.toString(), options, settings.cpuThreads, gpuDevice());
        backend = choice.backend;
        LOG.info("tripletflow mining with {} ({}), {}", backend.describe(), choice.reason, options);
        embeddings = new EmbeddingBatchCodec(settings.bounds);
        gradients = new GradientBatchCodec(settings.bounds);
        metrics = new MiningMetrics(getRuntimeContext().getMetricGroup(), backend.describe(), choice.reason);
        state = StreamState.ofOperator(getRuntimeContext(), settings.stateTtl);
        memories = options.memoryRows() > 0 ? new HeldMemories(options.memoryRows()) : null;
    }

    /** The GPU Flink's external resource framework gave this slot ({@code external-resources: gpu}), else the configured one. */
    private int gpuDevice() {
        for (ExternalResourceInfo info : getRuntimeContext().getExternalResourceInfos("gpu")) {
            Optional<String> index = info.getProperty("index");
            if (index.isPresent()) {
                return Integer.parseInt(index.get().trim());
            }
        }
        return settings.gpuDevice;
    }

    @Override
    public void processElement(KafkaRecord record, Context ctx, Collector<GradientRecord> out) throws Exception {
        StreamStatistics stats = state.statistics.value();
        if (stats == null) {
            stats = new StreamStatistics();
        }
        schedulePublication(ctx);
        EmbeddingBatch batch;
        try {
            batch = embeddings.decode(record.key, record.value);
        } catch (InvalidRecordException e) {
            deadLetter(ctx, record, e.reason().code(), e.getMessage(), stats);
            return;
        }
        long staleness = stats.stalenessOf(batch.modelStep());
        if (settings.maxStaleness >= 0 && staleness > settings.maxStaleness) {
            stats.staleBatches++;
            metrics.stale();
            if (settings.dropStale) {
                stats.droppedStaleBatches++;
                stats.lastStaleness = staleness;
                state.statistics.update(stats);
                return;
            }
        }
        MiningResult result;
        try {
            result = memories == null ? backend.mine(batch) : mineWithMemory(batch);
        } catch (InvalidBatchException e) {
            deadLetter(ctx, record, e.reason(), e.getMessage(), stats);
            return;
        }
        stats.observeModelStep(batch.modelStep());
        long now = System.currentTimeMillis();
        byte[] value = gradients.encode(result.toGradientBatch(batch, now, settings.includeMask));
        out.collect(new GradientRecord(batch.streamKey(), batch.batchId(), batch.modelStep(), value));
        long latency = Math.max(0, now - batch.createdMillis());
        metrics.answered(batch.rows(), latency, result);
        stats.add(batch.rows(), result, latency, now, settings.decay, settings.allEasyBatches);
        state.statistics.update(stats);
        recordLabelPairs(result);
    }

    /**
     * Mines the batch against its key's memory, then enqueues it (after mining: a batch never
     * meets its own rows) and writes the changed chunks back. The memory restored after a failure
     * is the checkpoint's, so a replayed batch sees what it saw the first time.
     */
    private MiningResult mineWithMemory(EmbeddingBatch batch) throws Exception {
        long[] head = state.memoryHead();
        HeldMemories.Held held = memories.of(batch.streamKey(), head);
        CrossBatchMemory memory = held.memory();
        // Afterwards the memory equals the key's state, also if the batch turns out invalid.
        state.loadMemory(memory, head, held.current());
        MiningResult result = backend.mine(batch, memory.eligible(batch.modelStep(), batch.dimension(),
                options.memoryWarmUp(), options.memoryMaxAge()));
        memory.enqueue(batch);
        state.storeMemory(memory);
        return result;
    }

    private void deadLetter(Context ctx, KafkaRecord record, String reason, String detail, StreamStatistics stats)
            throws Exception {
        ctx.output(DEAD_LETTERS, new DeadLetter(record, reason, detail));
        metrics.deadLetter();
        stats.deadLetters++;
        state.statistics.update(stats);
    }

    /** Keeps the label pairs that supplied the most hard negatives, at most {@code topLabelPairs}. */
    private void recordLabelPairs(MiningResult result) throws Exception {
        for (int[] pair : result.statistics().hardestLabelPairs(settings.topLabelPairs)) {
            String name = pair[0] + "->" + pair[1];
            Long count = state.labelPairs.get(name);
            if (count != null) {
                state.labelPairs.put(name, count + pair[2]);
                continue;
            }
            List<String> keys = new ArrayList<>();
            String smallest = null;
            long smallestCount = Long.MAX_VALUE;
            for (Map.Entry<String, Long> e : state.labelPairs.entries()) {
                keys.add(e.getKey());
                if (e.getValue() < smallestCount) {
                    smallestCount = e.getValue();
                    smallest = e.getKey();
                }
            }
            if (keys.size() < settings.topLabelPairs) {
                state.labelPairs.put(name, (long) pair[2]);
            } else if (pair[2] > smallestCount) {
                state.labelPairs.remove(smallest);
                state.labelPairs.put(name, (long) pair[2]);
            }
        }
    }

    private void schedulePublication(Context ctx) throws Exception {
        if (state.nextPublish.value() == null) {
            long at = ctx.timerService().currentProcessingTime() + settings.statisticsIntervalMillis;
            ctx.timerService().registerProcessingTimeTimer(at);
            state.nextPublish.update(at);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<GradientRecord> out) throws Exception {
        StreamStatistics stats = state.statistics.value();
        state.nextPublish.clear();
        if (stats == null) {
            return;
        }
        Map<String, Long> pairs = state.labelPairsByCount();
        String streamKey = KafkaRecord.streamKeyOf(ctx.getCurrentKey());
        ctx.output(STATISTICS, new StatisticsReport(streamKey, stats.toJson(streamKey, pairs, timestamp)));
        // Idle keys stop publishing until their next batch (and expire with the state TTL).
        if (stats.lastBatchMillis >= timestamp - settings.statisticsIntervalMillis) {
            long at = timestamp + settings.statisticsIntervalMillis;
            ctx.timerService().registerProcessingTimeTimer(at);
            state.nextPublish.update(at);
        }
    }

    @Override
    public void close() {
        if (backend != null) {
            backend.close();
        }
    }
}
