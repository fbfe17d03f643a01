package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;

/** The plain port of the seed's loops ({@link PlainReference}), for the bench outside this package. */
public final class SeedLoops {
    private SeedLoops() {}

    /** Runs the plain port on {@code batch}; returns its loss. */
    public static float run(MiningOptions options, EmbeddingBatch batch) {
        return PlainReference.mine(options, batch).loss;
    }
}
