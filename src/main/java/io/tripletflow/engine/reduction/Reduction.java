package io.tripletflow.engine.reduction;


/** Turns the sum of the loss terms into one number: the divisor of loss and gradients. */
public interface Reduction {

    /**
     * The divisor for a batch, or 0 when the batch has nothing to divide (loss and gradients 0).
     *
     * @param seedCount the seed's {@code cnt = neg_num * N / pair_size * 2}
     * @param terms every evaluated loss term
     * @param nonZeroTerms terms with a positive value
     */
    int divisor(int seedCount, int terms, int nonZeroTerms);

    static Reduction of(ReductionKind kind) {
        switch (kind) {
            case SEED: return (seedCount, terms, nonZeroTerms) -> seedCount;
            case MEAN_NONZERO: return (seedCount, terms, nonZeroTerms) -> nonZeroTerms;
            case MEAN: return (seedCount, terms, nonZeroTerms) -> terms;
            default: throw new IllegalArgumentException("unknown reduction " + kind);
        }
    }

    /** {@code neg_num * N / pair_size * 2} in integer arithmetic, left to right, as the seed. */
    static int seedCount(int negNum, int rows, int pairSize) {
        return negNum * rows / pairSize * 2;
    }
}
