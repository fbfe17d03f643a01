package io.tripletflow.engine.cpu;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.Anchors;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.MiningStep;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.engine.TripletTerms;
import io.tripletflow.engine.miner.Miner;
import io.tripletflow.engine.miner.MinerScratch;
import io.tripletflow.engine.miner.MiningInput;
import io.tripletflow.engine.miner.TripletSink;
import io.tripletflow.engine.random.CounterRandom;
import io.tripletflow.engine.random.MersenneTwister;
import io.tripletflow.engine.random.ShuffleRandom;
import java.util.Arrays;

/**
 * The mining step on the CPU: the Gram matrix as a vectorised, blocked product
 * ({@link GramKernel}), anchors mined in parallel, then one ordered pass for the loss, the mask,
 * the statistics and the distance coefficients, and the gradients row by row in parallel.
 *
 * <p>Only the ordered pass is sequential, so results do not depend on the thread count; it
 * visits the selected triplets only. Buffers grow to the largest batch seen and are reused.
 */
public final class CpuMiningBackend extends MiningStep {
    private final Miner miner;
    private final GramKernel kernel;
    private final WorkerPool pool;
    private final MiningInput input = new MiningInput();
    private final Workspace workspace = new Workspace();
    private final MersenneTwister seedRandom = new MersenneTwister(0);
    private final AnchorWorker[] workers;
    private Anchors anchors;
    private MemoryRows memory = MemoryRows.none();

    public CpuMiningBackend(MiningOptions options) {
        this(options, Runtime.getRuntime().availableProcessors());
    }

    public CpuMiningBackend(MiningOptions options, int threads) {
        super(options);
        this.miner = Miner.of(options.miner());
        this.kernel = GramKernels.best();
        this.pool = new WorkerPool(threads);
        this.workers = new AnchorWorker[pool.threads()];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new AnchorWorker(w);
        }
        input.margin = options.margin();
        input.negNum = options.negNum();
        input.hardNum = options.hardNum();
        input.randNum = options.randNum();
    }

    @Override
    public String describe() {
        return "cpu (" + kernel.describe() + ", " + pool.threads() + " threads)";
    }

    @Override
    protected void runKernels(EmbeddingBatch batch, MemoryRows memory, Anchors anchors, TripletTerms terms,
                              float[] gradients) {
        int n = batch.rows();
        int d = batch.dimension();
        int m = memory.count();
        this.anchors = anchors;
        this.memory = memory;
        Workspace w = workspace;
        w.ensure(n, d, kernel.columnBlock(), m);
        w.load(batch.embeddings(), n, d, distance.normalisesInside());
        kernel.gram(w.padded, w.transposed, n, d, w.stride, w.matrix, pool);
        toDistances(n);
        input.rows = n;
        input.columns = n + m;
        input.labels = batch.labels();
        input.distances = w.matrix;
        input.stride = w.stride;
        if (m > 0) {
            withMemory(batch, memory);
        }

        mineAnchors(batch, anchors.count());
        evaluate(anchors.count(), terms);
        gradients(batch.embeddings(), n, d, gradients);
        w.clearCoefficients();
    }

    /** The memory's columns beside the batch's: its distances to every batch row and its labels. */
    private void withMemory(EmbeddingBatch batch, MemoryRows memory) {
        Workspace w = workspace;
        int n = batch.rows();
        int d = batch.dimension();
        int m = memory.count();
        w.loadMemory(memory.embeddings(), m, d, distance.normalisesInside());
        float[] wide = w.wide;
        int stride = w.wideStride;
        kernel.cross(w.padded, n, d, w.memoryTransposed, w.memoryStride, wide, stride, n, pool);
        pool.run(n, 32, (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                System.arraycopy(w.matrix, i * w.stride, wide, i * stride, n);
                float gii = w.gramDiagonal[i];
                float ni = w.norms[i];
                int row = i * stride + n;
                for (int j = 0; j < m; j++) {
                    wide[row + j] = distance.fromGram(wide[row + j], ni, w.memoryNorms[j], gii, w.memoryGramDiagonal[j]);
                }
            }
        });
        System.arraycopy(batch.labels(), 0, w.columnLabels, 0, n);
        for (int j = 0; j < m; j++) {
            w.columnLabels[n + j] = memory.label(j);
        }
        input.labels = w.columnLabels;
        input.distances = wide;
        input.stride = stride;
    }

    /**
     * {@code dis[i][j]} between any two columns: from the matrix when one is a batch row (the
     * matrix is symmetric bit for bit), else computed as the matrix would have it (a memory
     * positive's distance to a memory negative).
     */
    private float distanceBetween(int i, int j) {
        int n = input.rows;
        if (i < n) {
            return input.distance(i, j);
        }
        if (j < n) {
            return input.distance(j, i);
        }
        if (i == j) {
            return 0f;
        }
        float[] f = memory.embeddings();
        int d = memory.dimension();
        int fi = (i - n) * d;
        int fj = (j - n) * d;
        float g = 0f;
        for (int k = 0; k < d; k++) {
            g += f[fi + k] * f[fj + k];
        }
        Workspace w = workspace;
        return distance.fromGram(g, w.memoryNorms[i - n], w.memoryNorms[j - n],
                w.memoryGramDiagonal[i - n], w.memoryGramDiagonal[j - n]);
    }

    /** Gram entries become distances in place; the diagonal is 0 (the seed never computes it). */
    private void toDistances(int n) {
        Workspace w = workspace;
        float[] m = w.matrix;
        int stride = w.stride;
        for (int i = 0; i < n; i++) {
            w.gramDiagonal[i] = m[i * stride + i];
            w.norms[i] = (float) Math.sqrt(w.gramDiagonal[i]);
        }
        pool.run(n, 32, (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i * stride;
                float gii = w.gramDiagonal[i];
                float ni = w.norms[i];
                for (int j = 0; j < n; j++) {
                    m[row + j] = j == i ? 0f : distance.fromGram(m[row + j], ni, w.norms[j], gii, w.gramDiagonal[j]);
                }
            }
        });
    }

    private void mineAnchors(EmbeddingBatch batch, int anchorCount) {
        long batchKey = CounterRandom.batchKey(options.rngSeed(), batch.streamKey(), batch.batchId());
        for (AnchorWorker worker : workers) {
            worker.prepare(input.columns, batchKey);
        }
        if (options.rng() == RngKind.SEED_COMPAT) {
            // One MT19937 stream through the anchors in order, as the seed draws.
            seedRandom.reseed((int) options.rngSeed());
            workers[0].mine(0, anchorCount);
        } else {
            pool.run(anchorCount, 8, (worker, from, to) -> workers[worker].mine(from, to));
        }
    }

    /** The ordered pass over the selected triplets (see {@link TripletTerms}), and their coefficients. */
    private void evaluate(int anchorCount, TripletTerms terms) {
        Workspace w = workspace;
        int[] labels = input.labels;
        for (int k = 0; k < anchorCount; k++) {
            int a = anchors.get(k);
            long[] triplets = workers[w.anchorOwner[k]].triplets;
            int from = w.anchorStart[k];
            int to = from + w.anchorLength[k];
            terms.beginAnchor(w.anchorCandidates[k]);
            Arrays.sort(triplets, from, to);
            for (int t = from; t < to; t++) {
                long triplet = triplets[t];
                int p = (int) (triplet >>> 32);
                int neg = (int) ((triplet >>> 1) & 0x7fffffff);
                float dap = input.distance(a, p);
                terms.add(a, p, neg, (triplet & 1) != 0, dap, input.distance(a, neg), distanceBetween(p, neg));
                float s1 = terms.slope1();
                float s2 = terms.slope2();
                if (s1 != 0f) {
                    w.addCoefficient(a, p, s1);
                    w.addCoefficient(a, neg, -s1);
                }
                if (s2 != 0f) {
                    w.addCoefficient(a, p, s2);
                    w.addCoefficient(p, neg, -s2);
                }
            }
            terms.endAnchor(labels, a);
        }
    }

    /** Row i of dL/df before the reduction: alpha_i x_i + sum_j beta_ij x_j, over batch and memory columns. */
    private void gradients(float[] embeddings, int n, int d, float[] out) {
        Workspace w = workspace;
        boolean unit = distance.normalisesInside();
        float[] x = unit ? w.unit : embeddings;
        float[] memoryX = unit ? w.memoryUnit : memory.embeddings();
        float[] s = w.coefficients;
        int columns = input.columns;
        boolean invariant = distance.translationInvariant();
        // Few coefficients: visit each row's own, in the same (ascending) order as the dense scan.
        boolean sparse = w.indexTouched();
        pool.run(n, 16, (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                if (!w.rowTouched[i]) {
                    continue;
                }
                int row = i * columns;
                int gi = i * d;
                float alpha = 0f;
                int first = sparse ? w.rowStart[i] : 0;
                int last = sparse ? w.rowStart[i + 1] : columns;
                for (int t = first; t < last; t++) {
                    int j = sparse ? w.rowColumns[t] : t;
                    float sij = s[row + j];
                    if (sij == 0f) continue;
                    float beta = distance.weight(sij, input.distance(i, j), i == j);
                    if (beta == 0f) continue;
                    alpha -= beta;
                    float[] basis = j < n ? x : memoryX;
                    int xj = (j < n ? j : j - n) * d;
                    for (int k = 0; k < d; k++) {
                        out[gi + k] += beta * basis[xj + k];
                    }
                }
                if (invariant && alpha != 0f) {
                    for (int k = 0; k < d; k++) {
                        out[gi + k] += alpha * x[gi + k];
                    }
                }
                if (unit) {
                    projectThroughNorm(out, gi, x, d, w.norms[i]);
                }
            }
        });
    }

    /** {@code g = (I - u u^T) g / |f|}: the gradient through {@code u = f / |f|}. */
    private static void projectThroughNorm(float[] g, int gi, float[] u, int d, float norm) {
        if (norm == 0f) {
            Arrays.fill(g, gi, gi + d, 0f);
            return;
        }
        float along = 0f;
        for (int k = 0; k < d; k++) {
            along += g[gi + k] * u[gi + k];
        }
        for (int k = 0; k < d; k++) {
            g[gi + k] = (g[gi + k] - along * u[gi + k]) / norm;
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    /** One thread's share of the anchors: its generator, scratch and selected triplets. */
    private final class AnchorWorker implements Miner.PairRandoms, TripletSink {
        final MinerScratch scratch = new MinerScratch();
        final CounterRandom counter = new CounterRandom();
        int[] positives = new int[0];
        long[] triplets = new long[64];
        int tripletCount;
        final int id;
        long batchKey;
        int columns;

        AnchorWorker(int id) {
            this.id = id;
        }

        void prepare(int columns, long batchKey) {
            this.columns = columns;
            this.batchKey = batchKey;
            this.tripletCount = 0;
            scratch.ensureRows(columns);
            if (positives.length < columns) {
                positives = new int[columns];
            }
        }

        void mine(int from, int to) {
            Workspace w = workspace;
            int[] labels = input.labels;
            for (int k = from; k < to; k++) {
                int a = anchors.get(k);
                int positiveCount;
                if (options.positives() == PositivesKind.ALL) {
                    positiveCount = 0;
                    for (int j = 0; j < input.rows; j++) {
                        if (j != a && labels[j] == labels[a]) positives[positiveCount++] = j;
                    }
                } else {
                    positives[0] = a + 1;
                    positiveCount = 1;
                }
                if (options.memoryPositives()) {
                    for (int j = input.rows; j < columns; j++) {
                        if (labels[j] == labels[a]) positives[positiveCount++] = j;
                    }
                }
                w.anchorOwner[k] = id;
                w.anchorStart[k] = tripletCount;
                w.anchorCandidates[k] = positiveCount == 0 ? 0
                        : miner.mine(input, a, positives, positiveCount, this, scratch, this);
                w.anchorLength[k] = tripletCount - w.anchorStart[k];
            }
        }

        @Override
        public ShuffleRandom forPair(int anchor, int positive) {
            if (options.rng() == RngKind.SEED_COMPAT) {
                return seedRandom;
            }
            return counter.at(batchKey, (long) anchor * columns + positive);
        }

        @Override
        public void add(int anchor, int positive, int negative, boolean hard) {
            if (tripletCount == triplets.length) {
                triplets = Arrays.copyOf(triplets, triplets.length * 2);
            }
            triplets[tripletCount++] = ((long) positive << 32) | ((long) negative << 1) | (hard ? 1 : 0);
        }
    }
}
