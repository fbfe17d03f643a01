package io.tripletflow.engine.memory;

import io.tripletflow.batch.EmbeddingBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One stream key's cross-batch memory (XBM, Wang et al. 2020): the rows of its most recent
 * batches in a ring of {@code capacity} slots, each with its label, the model step and the batch
 * id it came with. A batch is mined against the memory's {@link #eligible} rows, then
 * {@link #enqueue}d; semantics in {@code docs/mining.md}, "Cross-batch memory".
 *
 * <p>The ring is cut into chunks of {@value #CHUNK_ROWS} slots so that keyed state writes only
 * the chunks a batch changed ({@link #dirtyChunks}, {@link #chunk}, {@link #loadChunk}). No
 * Flink in here: the job keeps the head and the chunks in keyed state.
 *
 * <pre>{@code
 * MemoryRows rows = memory.eligible(batch.modelStep(), batch.dimension(), warmUp, maxAge);
 * MiningResult answer = backend.mine(batch, rows);
 * memory.enqueue(batch);
 * }</pre>
 */
public final class CrossBatchMemory {
    /** Slots per chunk of keyed state. */
    public static final int CHUNK_ROWS = 256;
    /** Bytes of one slot besides its embedding: label (int), model step and batch id (longs). */
    static final int SLOT_HEADER_BYTES = 4 + 8 + 8;

    private final int capacity;
    private final MemoryRows view = new MemoryRows();
    private int dimension;
    private int next;
    private int filled;
    private long batches;
    private float[] embeddings = new float[0];
    private int[] labels;
    private long[] modelSteps;
    private long[] batchIds;
    private final boolean[] dirty;

    public CrossBatchMemory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("memory-rows must be >= 1 for a memory, got " + capacity);
        }
        this.capacity = capacity;
        this.labels = new int[capacity];
        this.modelSteps = new long[capacity];
        this.batchIds = new long[capacity];
        this.dirty = new boolean[chunkCount()];
    }

    public int capacity() { return capacity; }
    /** The embedding dimension of the rows held; 0 while empty. */
    public int dimension() { return dimension; }
    /** Slots holding a row. */
    public int filled() { return filled; }
    /** The slot the next row goes to. */
    public int next() { return next; }
    /** Batches enqueued since the memory was started (or restarted by a change of dimension). */
    public long batches() { return batches; }

    public int chunkCount() {
        return (capacity + CHUNK_ROWS - 1) / CHUNK_ROWS;
    }

    /** Empties the memory (no state yet, state expired, another capacity, or the dimension changed). */
    public void clear() {
        dimension = 0;
        next = 0;
        filled = 0;
        batches = 0;
        // Everything is rewritten with the next batch: stale chunks of a larger dimension must not stay.
        Arrays.fill(dirty, true);
    }

    /** Sets the head as kept in state; the chunks follow with {@link #loadChunk}. */
    public void restoreHead(int dimension, int next, int filled, long batches) {
        if (dimension < 0 || next < 0 || next >= capacity || filled < 0 || filled > capacity) {
            throw new IllegalStateException("memory head (dimension " + dimension + ", next " + next + ", filled "
                    + filled + ") does not fit memory-rows " + capacity + ": memory-rows changed without a state reset");
        }
        ensureDimension(dimension);
        this.dimension = dimension;
        this.next = next;
        this.filled = filled;
        this.batches = batches;
        Arrays.fill(dirty, false);
    }

    /**
     * The rows a batch at {@code modelStep} with rows of {@code dimension} is mined against, oldest
     * first: none during the first {@code warmUp} batches or when the dimension differs; else every
     * row no more than {@code maxAge} model steps older than the batch ({@code maxAge < 0}: any age).
     */
    public MemoryRows eligible(long modelStep, int dimension, long warmUp, long maxAge) {
        MemoryRows rows = view;
        rows.count = 0;
        rows.dimension = dimension;
        if (batches < warmUp || filled == 0 || dimension != this.dimension) {
            return rows;
        }
        rows.ensure(filled, dimension);
        int oldest = filled < capacity ? 0 : next;
        for (int t = 0; t < filled; t++) {
            int slot = (oldest + t) % capacity;
            long age = modelStep - modelSteps[slot];
            if (maxAge >= 0 && age > maxAge) {
                continue;
            }
            int m = rows.count++;
            rows.labels[m] = labels[slot];
            rows.ages[m] = age;
            System.arraycopy(embeddings, slot * dimension, rows.embeddings, m * dimension, dimension);
        }
        return rows;
    }

    /**
     * Puts the batch's rows into the ring (the last {@code capacity} of them if it has more),
     * overwriting the oldest. A batch of another dimension restarts the memory first.
     */
    public void enqueue(EmbeddingBatch batch) {
        int n = batch.rows();
        int d = batch.dimension();
        if (n == 0) {
            return;
        }
        if (d != dimension) {
            clear();
            ensureDimension(d);
            dimension = d;
            Arrays.fill(dirty, true);
        }
        float[] f = batch.embeddings();
        int[] batchLabels = batch.labels();
        for (int i = Math.max(0, n - capacity); i < n; i++) {
            int slot = next;
            labels[slot] = batchLabels[i];
            modelSteps[slot] = batch.modelStep();
            batchIds[slot] = batch.batchId();
            System.arraycopy(f, i * d, embeddings, slot * d, d);
            dirty[slot / CHUNK_ROWS] = true;
            next = (next + 1) % capacity;
            filled = Math.min(capacity, filled + 1);
        }
        batches++;
    }

    /** Whether chunk {@code c} changed since the last {@link #restoreHead} or {@link #markClean}. */
    public boolean dirtyChunk(int c) {
        return dirty[c];
    }

    public void markClean() {
        Arrays.fill(dirty, false);
    }

    /**
     * The chunk as stored, little-endian, column by column so that it is copied in bulk: the
     * slots' labels (i32), model steps (i64), batch ids (i64), then their embeddings (f32, slot
     * after slot).
     */
    public byte[] chunk(int c) {
        int from = c * CHUNK_ROWS;
        int slots = Math.min(capacity, from + CHUNK_ROWS) - from;
        ByteBuffer out = ByteBuffer.allocate(slots * slotBytes(dimension)).order(ByteOrder.LITTLE_ENDIAN);
        out.asIntBuffer().put(labels, from, slots);
        out.position(4 * slots);
        out.asLongBuffer().put(modelSteps, from, slots);
        out.position(12 * slots);
        out.asLongBuffer().put(batchIds, from, slots);
        out.position(20 * slots);
        out.asFloatBuffer().put(embeddings, from * dimension, slots * dimension);
        return out.array();
    }

    /** Restores chunk {@code c} from {@link #chunk}'s bytes (after {@link #restoreHead}). */
    public void loadChunk(int c, byte[] bytes) {
        int from = c * CHUNK_ROWS;
        int slots = Math.min(capacity, from + CHUNK_ROWS) - from;
        if (bytes.length != slots * slotBytes(dimension)) {
            throw new IllegalStateException("memory chunk " + c + " holds " + bytes.length + " bytes, expected "
                    + slots * slotBytes(dimension) + " for dimension " + dimension);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        in.asIntBuffer().get(labels, from, slots);
        in.position(4 * slots);
        in.asLongBuffer().get(modelSteps, from, slots);
        in.position(12 * slots);
        in.asLongBuffer().get(batchIds, from, slots);
        in.position(20 * slots);
        in.asFloatBuffer().get(embeddings, from * dimension, slots * dimension);
    }

    /** The oldest and newest model step of the rows held ({0, 0} when empty). */
    public long[] modelStepRange() {
        if (filled == 0) {
            return new long[] {0, 0};
        }
        long oldest = Long.MAX_VALUE;
        long newest = Long.MIN_VALUE;
        for (int slot = 0; slot < filled; slot++) {
            oldest = Math.min(oldest, modelSteps[slot]);
            newest = Math.max(newest, modelSteps[slot]);
        }
        return new long[] {oldest, newest};
    }

    /** Heap this memory holds: its ring (as allocated, for the largest dimension seen) and its eligible view. */
    public long heapBytes() {
        return 4L * embeddings.length + (long) SLOT_HEADER_BYTES * capacity + 4L * view.embeddings.length;
    }

    public static int slotBytes(int dimension) {
        return SLOT_HEADER_BYTES + 4 * dimension;
    }

    private void ensureDimension(int d) {
        if (embeddings.length < (long) capacity * d) {
            embeddings = new float[Math.toIntExact((long) capacity * d)];
        }
    }
}
