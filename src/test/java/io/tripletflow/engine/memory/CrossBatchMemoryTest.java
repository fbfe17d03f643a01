package io.tripletflow.engine.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.batch.EmbeddingBatch;
import org.junit.jupiter.api.Test;

class CrossBatchMemoryTest {

    /** A batch whose row i has label {@code 100 * id + i} and embedding {@code (id, i, ...)}. */
    private static EmbeddingBatch batch(long id, long step, int rows, int d) {
        int[] labels = new int[rows];
        float[] f = new float[rows * d];
        for (int i = 0; i < rows; i++) {
            labels[i] = (int) (100 * id + i);
            f[i * d] = id;
            if (d > 1) {
                f[i * d + 1] = i;
            }
        }
        return new EmbeddingBatch("k", id, step, 0L, rows, d, labels, f);
    }

    private static int[] labels(MemoryRows rows) {
        int[] out = new int[rows.count()];
        for (int m = 0; m < out.length; m++) {
            out[m] = rows.label(m);
        }
        return out;
    }

    @Test
    void rowsComeOldestFirstAndTheOldestAreOverwritten() {
        CrossBatchMemory memory = new CrossBatchMemory(5);
        assertThat(memory.eligible(0, 2, 0, -1).count()).isZero();
        memory.enqueue(batch(1, 10, 3, 2));
        assertThat(labels(memory.eligible(11, 2, 0, -1))).containsExactly(100, 101, 102);
        memory.enqueue(batch(2, 11, 3, 2));
        MemoryRows rows = memory.eligible(12, 2, 0, -1);
        assertThat(labels(rows)).containsExactly(101, 102, 200, 201, 202);
        assertThat(rows.embeddings()[0]).isEqualTo(1f);
        assertThat(rows.embeddings()[1]).isEqualTo(1f);
        assertThat(rows.embeddings()[2 * 2]).isEqualTo(2f);
        assertThat(rows.age(0)).isEqualTo(2);
        assertThat(rows.age(4)).isEqualTo(1);
        assertThat(memory.filled()).isEqualTo(5);
        assertThat(memory.batches()).isEqualTo(2);
    }

    @Test
    void aBatchLargerThanTheMemoryKeepsItsLastRows() {
        CrossBatchMemory memory = new CrossBatchMemory(4);
        memory.enqueue(batch(3, 0, 7, 1));
        assertThat(labels(memory.eligible(1, 1, 0, -1))).containsExactly(303, 304, 305, 306);
    }

    @Test
    void warmUpMaxAgeAndDimension() {
        CrossBatchMemory memory = new CrossBatchMemory(10);
        memory.enqueue(batch(1, 5, 2, 3));
        memory.enqueue(batch(2, 8, 2, 3));
        assertThat(memory.eligible(9, 3, 3, -1).count()).as("two batches seen, warm-up 3").isZero();
        assertThat(memory.eligible(9, 3, 2, -1).count()).isEqualTo(4);
        assertThat(labels(memory.eligible(9, 3, 0, 1))).as("max age 1 at step 9").containsExactly(200, 201);
        assertThat(labels(memory.eligible(9, 3, 0, 4))).containsExactly(100, 101, 200, 201);
        assertThat(memory.eligible(9, 4, 0, -1).count()).as("another dimension").isZero();
        memory.enqueue(batch(3, 9, 2, 4));
        assertThat(labels(memory.eligible(10, 4, 0, -1))).as("restarted at the new dimension").containsExactly(300, 301);
        assertThat(memory.batches()).isEqualTo(1);
    }

    @Test
    void onlyChangedChunksAreDirtyAndChunksRoundTrip() {
        int capacity = CrossBatchMemory.CHUNK_ROWS * 2 + 10;
        CrossBatchMemory memory = new CrossBatchMemory(capacity);
        assertThat(memory.chunkCount()).isEqualTo(3);
        memory.enqueue(batch(1, 1, CrossBatchMemory.CHUNK_ROWS + 5, 3));
        assertThat(memory.dirtyChunk(2)).as("a new dimension rewrites every chunk").isTrue();
        memory.markClean();
        memory.enqueue(batch(2, 1, 3, 3));
        assertThat(memory.dirtyChunk(0)).isFalse();
        assertThat(memory.dirtyChunk(1)).isTrue();
        assertThat(memory.dirtyChunk(2)).isFalse();
        memory.markClean();
        memory.enqueue(batch(2, 2, 4, 3));
        assertThat(memory.dirtyChunk(0)).isFalse();
        assertThat(memory.dirtyChunk(1)).isTrue();

        CrossBatchMemory copy = new CrossBatchMemory(capacity);
        copy.restoreHead(memory.dimension(), memory.next(), memory.filled(), memory.batches());
        for (int c = 0; c < memory.chunkCount(); c++) {
            copy.loadChunk(c, memory.chunk(c));
        }
        MemoryRows a = memory.eligible(3, 3, 0, -1);
        int[] expectedLabels = labels(a);
        float[] expected = java.util.Arrays.copyOf(a.embeddings(), a.count() * 3);
        MemoryRows b = copy.eligible(3, 3, 0, -1);
        assertThat(labels(b)).containsExactly(expectedLabels);
        assertThat(java.util.Arrays.copyOf(b.embeddings(), b.count() * 3)).containsExactly(expected);
        assertThat(memory.chunk(1)).hasSize((CrossBatchMemory.CHUNK_ROWS) * CrossBatchMemory.slotBytes(3));
    }

    @Test
    void aHeadThatDoesNotFitIsAClearError() {
        CrossBatchMemory memory = new CrossBatchMemory(8);
        assertThatThrownBy(() -> memory.restoreHead(4, 9, 8, 3)).hasMessageContaining("memory-rows 8");
        assertThatThrownBy(() -> new CrossBatchMemory(0)).hasMessageContaining("memory-rows");
    }
}
