package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.engine.reduction.Reduction;

/** The mining spec's rules for a batch, checked by every backend before any work. */
public final class BatchRules {
    private BatchRules() {}

    public static void check(EmbeddingBatch batch, MiningOptions options) throws InvalidBatchException {
        int n = batch.rows();
        int d = batch.dimension();
        float[] f = batch.embeddings();
        for (int i = 0; i < f.length; i++) {
            if (!Float.isFinite(f[i])) {
                throw new InvalidBatchException(batch.describe(), "embeddings", BatchRule.NON_FINITE_VALUE,
                        "row " + (i / Math.max(1, d)) + ", column " + (i % Math.max(1, d)) + " is " + f[i]
                                + " (embeddings must be finite)");
            }
        }
        if (options.reduction() == ReductionKind.SEED) {
            int count = Reduction.seedCount(options.negNum(), n, options.pairSize());
            if (count == 0) {
                throw new InvalidBatchException(batch.describe(), "rows", BatchRule.EMPTY_SEED_COUNT,
                        "cnt = neg-num * N / pair-size * 2 = " + options.negNum() + " * " + n + " / "
                                + options.pairSize() + " * 2 = 0 (the seed divides by it: N must be >= pair-size / neg-num)");
            }
        }
    }
}
