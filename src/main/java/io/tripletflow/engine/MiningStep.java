package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.distance.Distance;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.engine.reduction.Reduction;

/**
 * The mining step as every backend runs it: the batch's rules, the anchors, the ordered pass
 * over the selected triplets ({@link TripletTerms}) and the reduction are here, once; a backend
 * supplies only its kernels ({@link #runKernels}): distances, selection, and the gradient
 * product. CPU/GPU parity outside the kernels is therefore structural.
 *
 * <pre>{@code
 * try (MiningBackend backend = new CpuMiningBackend(MiningOptions.defaults())) {
 *     MiningResult answer = backend.mine(batch);
 * }
 * }</pre>
 */
public abstract class MiningStep implements MiningBackend {
    protected final MiningOptions options;
    protected final Distance distance;
    private final Reduction reduction;
    private final TripletTerms terms;
    private final Anchors anchors = new Anchors();
    private final MiningResult result = new MiningResult();

    protected MiningStep(MiningOptions options) {
        this.options = options;
        this.distance = Distance.of(options.distance());
        this.reduction = Reduction.of(options.reduction());
        this.terms = new TripletTerms(options);
    }

    @Override
    public final MiningResult mine(EmbeddingBatch batch, MemoryRows memory) throws InvalidBatchException {
        int n = batch.rows();
        int d = batch.dimension();
        BatchRules.check(batch, options);
        result.reset(n, d);
        result.statistics().setHistogramRange(distance.histogramLow(), distance.histogramHigh());
        if (n == 0) {
            return result;
        }
        if (memory.count() > 0 && memory.dimension() != d) {
            throw new IllegalArgumentException("memory rows of dimension " + memory.dimension() + " for a batch of dimension " + d);
        }
        anchors.enumerate(batch, options, result.statistics());
        result.statistics().recordMemoryRows(memory.count());
        terms.start(result, n, memory);
        float[] gradients = result.gradients();
        runKernels(batch, memory, anchors, terms, gradients);
        int seedCount = Reduction.seedCount(options.negNum(), n, options.pairSize());
        int divisor = terms.finish(reduction, seedCount, options.lossWeight());
        scale(gradients, n * d, divisor, options.lossWeight());
        return result;
    }

    /**
     * The backend's kernels for one batch with at least one row: mine {@code anchors} (in any
     * order, on any thread) over the candidate columns (the batch's rows, then {@code memory}'s), then feed every selected triplet to {@code terms} in the seed's order
     * ({@link TripletTerms#beginAnchor}, {@link TripletTerms#add}, {@link TripletTerms#endAnchor}
     * per anchor, anchors ascending), and write {@code dL/df} before the reduction's division
     * (row-major, {@code rows x dimension}) into {@code gradients}, which holds zeros.
     */
    protected abstract void runKernels(EmbeddingBatch batch, MemoryRows memory, Anchors anchors, TripletTerms terms,
                                       float[] gradients);

    /** {@code g / divisor * loss-weight}, in that order (the seed's); no gradients when the divisor is 0. */
    private static void scale(float[] gradients, int values, int divisor, float weight) {
        for (int i = 0; i < values; i++) {
            gradients[i] = divisor == 0 ? 0f : gradients[i] / divisor * weight;
        }
    }
}
