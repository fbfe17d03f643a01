package io.tripletflow.trainer;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import java.util.concurrent.CompletableFuture;

/**
 * Something that answers embedding batches with gradient batches: the streaming job behind
 * {@link TrainerClient}, or an in-process stand-in in tests.
 */
public interface GradientService {

    /**
     * Hands a batch over and returns the future of its answer. May block while too many batches
     * are outstanding (back-pressure).
     *
     * @throws InterruptedException if interrupted while waiting for room
     */
    CompletableFuture<GradientBatch> submit(EmbeddingBatch batch) throws InterruptedException;
}
