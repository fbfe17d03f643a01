package io.tripletflow.job;

import io.tripletflow.engine.memory.CrossBatchMemory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;

/**
 * The keyed state of one stream key, declared once, for the mining operator that writes it and
 * the savepoint reader ({@code bin/tripletflow stats}) that reads it. Savepoints rest on these
 * names and types and on the operator's uid: {@code StatisticsSavepointCompatibilityITCase}
 * restores a savepoint of version 0.1 and breaks when one of them changes.
 */
public final class StreamState {
    /** The uid of the mining operator, which holds this state. */
    public static final String OPERATOR_UID = "mine-triplets";
    static final String STATISTICS = "mining-statistics";
    static final String LABEL_PAIRS = "hardest-label-pairs";
    static final String NEXT_PUBLISH = "next-publish";
    static final String MEMORY_HEAD = "memory-head";
    static final String MEMORY_CHUNKS = "memory-chunks";

    /** Cumulative and decayed statistics of the key. */
    final ValueState<StreamStatistics> statistics;
    /** The label pairs that supplied the most hard negatives, "anchor->negative" to count. */
    final MapState<String, Long> labelPairs;
    /** When the key's statistics are published next (a processing-time timer is set for it). */
    final ValueState<Long> nextPublish;
    /** The cross-batch memory's head: dimension, next slot, filled slots, batches enqueued, capacity. */
    final ValueState<long[]> memoryHead;
    /** The cross-batch memory's ring, chunk index to chunk ({@link CrossBatchMemory#chunk}). */
    final MapState<Integer, byte[]> memoryChunks;

    private StreamState(RuntimeContext context, StateTtlConfig ttl) {
        ValueStateDescriptor<StreamStatistics> statisticsDescriptor = new ValueStateDescriptor<>(STATISTICS,
                StreamStatistics.class);
        statisticsDescriptor.enableTimeToLive(ttl);
        MapStateDescriptor<String, Long> pairsDescriptor = new MapStateDescriptor<>(LABEL_PAIRS, String.class, Long.class);
        pairsDescriptor.enableTimeToLive(ttl);
        this.statistics = context.getState(statisticsDescriptor);
        this.labelPairs = context.getMapState(pairsDescriptor);
        this.nextPublish = context.getState(new ValueStateDescriptor<>(NEXT_PUBLISH, Long.class));
        ValueStateDescriptor<long[]> headDescriptor = new ValueStateDescriptor<>(MEMORY_HEAD, long[].class);
        headDescriptor.enableTimeToLive(ttl);
        MapStateDescriptor<Integer, byte[]> chunksDescriptor = new MapStateDescriptor<>(MEMORY_CHUNKS, Integer.class,
                byte[].class);
        chunksDescriptor.enableTimeToLive(ttl);
        this.memoryHead = context.getState(headDescriptor);
        this.memoryChunks = context.getMapState(chunksDescriptor);
    }

    /**
     * Loads the key's memory, whose head ({@link #memoryHead()}) is {@code head}, into {@code memory}
     * (emptied when the key has none). Chunks are read only when {@code memory} does not already
     * hold this state ({@code held}).
     */
    void loadMemory(CrossBatchMemory memory, long[] head, boolean held) throws Exception {
        if (head == null || head[4] != memory.capacity()) {
            // None yet, expired, or written under another memory-rows: the memory starts again.
            memory.clear();
            return;
        }
        memory.restoreHead((int) head[0], (int) head[1], (int) head[2], head[3]);
        if (held) {
            return;
        }
        int needed = (memory.filled() + CrossBatchMemory.CHUNK_ROWS - 1) / CrossBatchMemory.CHUNK_ROWS;
        for (int c = 0; c < needed; c++) {
            byte[] chunk = memoryChunks.get(c);
            if (chunk == null) {
                // A chunk not rewritten for state-ttl expired under a live head: the memory starts again
                // rather than mine rows that are gone.
                memory.clear();
                return;
            }
            memory.loadChunk(c, chunk);
        }
    }

    /** Writes the memory's head and the chunks the last batch changed. */
    void storeMemory(CrossBatchMemory memory) throws Exception {
        memoryHead.update(new long[] {memory.dimension(), memory.next(), memory.filled(), memory.batches(),
                memory.capacity()});
        for (int c = 0; c < memory.chunkCount(); c++) {
            if (memory.dirtyChunk(c)) {
                memoryChunks.put(c, memory.chunk(c));
            }
        }
        memory.markClean();
    }

    /** The key's memory head ({dimension, next, filled, batches, capacity}), or null. */
    public long[] memoryHead() throws Exception {
        return memoryHead.value();
    }

    /** The key's memory chunks, by index. */
    public Iterable<Map.Entry<Integer, byte[]>> memoryChunks() throws Exception {
        return memoryChunks.entries();
    }

    /** The operator's view: a key idle for {@code ttl} expires, and expired state is never returned. */
    static StreamState ofOperator(RuntimeContext context, Duration ttl) {
        return new StreamState(context, StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
    }

    /**
     * The savepoint reader's view: TTL on, as the serializers must match the operator's, and state
     * that expired but was not cleaned up yet returned.
     */
    public static StreamState ofReader(RuntimeContext context) {
        return new StreamState(context, StateTtlConfig.newBuilder(Duration.ofDays(36500))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp)
                .build());
    }

    /** The key's statistics, or null when it has none (yet, or any more). */
    public StreamStatistics statistics() throws Exception {
        return statistics.value();
    }

    /** When the key's statistics are published next, or null. */
    public Long nextPublish() throws Exception {
        return nextPublish.value();
    }

    /** The label pairs, most hard negatives first, ties by name. */
    public Map<String, Long> labelPairsByCount() throws Exception {
        List<Map.Entry<String, Long>> entries = new ArrayList<>();
        for (Map.Entry<String, Long> e : labelPairs.entries()) {
            entries.add(Map.entry(e.getKey(), e.getValue()));
        }
        entries.sort((a, b) -> a.getValue().equals(b.getValue())
                ? a.getKey().compareTo(b.getKey()) : Long.compare(b.getValue(), a.getValue()));
        Map<String, Long> pairs = new LinkedHashMap<>();
        entries.forEach(e -> pairs.put(e.getKey(), e.getValue()));
        return pairs;
    }
}
