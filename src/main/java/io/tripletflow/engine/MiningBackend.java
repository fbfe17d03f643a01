package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;

/**
 * Runs the mining step for one batch: distances, selection, loss, reduction, gradients.
 *
 * <p>A backend owns its buffers and its {@link MiningResult}: the result is valid until the next
 * call, and steady-state calls allocate nothing. Backends are not thread-safe; a Flink operator
 * owns one.
 */
public interface MiningBackend extends AutoCloseable {

    MiningResult mine(EmbeddingBatch batch) throws InvalidBatchException;

    /** A short name for logs and metrics, such as {@code cpu (vector API, 2 threads)}. */
    String describe();

    @Override
    void close();
}
