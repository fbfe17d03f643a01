package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.memory.MemoryRows;

/**
 * Runs the mining step for one batch: distances, selection, loss, reduction, gradients.
 *
 * <p>A backend owns its buffers and its {@link MiningResult}: the result is valid until the next
 * call, and steady-state calls allocate nothing. Backends are not thread-safe; a Flink operator
 * owns one.
 */
public interface MiningBackend extends AutoCloseable {

    /** Mines the batch on its own. */
    default MiningResult mine(EmbeddingBatch batch) throws InvalidBatchException {
        return mine(batch, MemoryRows.none());
    }

    /**
     * Mines the batch against rows of its stream's cross-batch memory: candidates from both,
     * gradients for the batch's rows only (docs/mining.md, "Cross-batch memory").
     */
    MiningResult mine(EmbeddingBatch batch, MemoryRows memory) throws InvalidBatchException;

    /** A short name for logs and metrics, such as {@code cpu (vector API, 2 threads)}. */
    String describe();

    @Override
    void close();
}
