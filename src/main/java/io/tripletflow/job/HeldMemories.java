package io.tripletflow.job;

import io.tripletflow.engine.memory.CrossBatchMemory;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The cross-batch memories of a mining operator's most recently active stream keys, kept in heap
 * between their batches so that a batch reads only its key's head from keyed state, not the whole
 * ring. Bounded by {@link #BYTES}; the least recently used key's memory is dropped (and its
 * object reused) first. Safe because only this operator instance writes these keys' state: after a
 * failure or a rescale the operator starts with none held and reads the rings back.
 */
final class HeldMemories {
    /** Heap for held memories per operator instance. */
    static final long BYTES = 64L << 20;

    private final int capacity;
    private final LinkedHashMap<String, CrossBatchMemory> byKey = new LinkedHashMap<>(16, 0.75f, true);

    HeldMemories(int capacity) {
        this.capacity = capacity;
    }

    /**
     * The memory object of {@code key}, and whether it already holds the key's state as
     * described by {@code head} (so that its chunks need not be read).
     */
    Held of(String key, long[] head) {
        CrossBatchMemory memory = byKey.get(key);
        if (memory != null) {
            boolean current = head != null && head[4] == capacity && head[0] == memory.dimension()
                    && head[1] == memory.next() && head[2] == memory.filled() && head[3] == memory.batches();
            return new Held(memory, current);
        }
        long bytes = 0;
        for (CrossBatchMemory m : byKey.values()) {
            bytes += m.heapBytes();
        }
        Iterator<Map.Entry<String, CrossBatchMemory>> eldest = byKey.entrySet().iterator();
        while (bytes > BYTES && eldest.hasNext()) {
            CrossBatchMemory dropped = eldest.next().getValue();
            bytes -= dropped.heapBytes();
            eldest.remove();
            memory = dropped;
        }
        if (memory == null) {
            memory = new CrossBatchMemory(capacity);
        }
        byKey.put(key, memory);
        return new Held(memory, false);
    }

    record Held(CrossBatchMemory memory, boolean current) {}
}
