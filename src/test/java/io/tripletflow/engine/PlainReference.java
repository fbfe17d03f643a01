package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.MiningOptions.LabelMismatchPolicy;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.random.CounterRandom;
import io.tripletflow.engine.random.MersenneTwister;
import io.tripletflow.engine.random.ShuffleRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A deliberately plain, independent implementation of the whole mining step, for every option
 * combination, written as straightforward loops (test code: speed does not matter).
 *
 * <ul>
 *   <li>The seed's composition (neg-dot, rank-hard, pairs, double hinge, ÷ cnt) is a literal port of the
 *       seed's {@code set_mask}, {@code Forward_cpu} and {@code Backward_cpu}: float arithmetic in the seed's
 *       order, a full sort of {@code (value, index)} pairs, {@code sid1}/{@code sid2} vectors and
 *       {@code random_shuffle}, and the per-triplet gradient accumulation then {@code / cnt}.</li>
 *   <li>Every other combination follows {@code docs/mining.md} literally, with the gradient written per
 *       triplet and per term from the derivative of each distance (accumulated in double), not through a
 *       coefficient matrix.</li>
 * </ul>
 * Only the two generators ({@link MersenneTwister}, {@link CounterRandom}) are shared with the engine, and
 * only their raw {@code nextU32()}; the bounded draw and the shuffles (the seed's {@code random_shuffle} for
 * {@code rng = seed-compat}, the docs' partial Fisher-Yates with {@code sid2}'s rest in index order for
 * {@code rng = counter}) are written here.
 */
final class PlainReference {

    private PlainReference() {}

    /** One selected triplet and its terms, in the seed's summation order. */
    static final class Triplet {
        final int a;
        final int p;
        final int n;
        final boolean hard;
        float x1;
        float x2;
        float t1;
        float t2;
        boolean hasSecond;

        Triplet(int a, int p, int n, boolean hard) {
            this.a = a;
            this.p = p;
            this.n = n;
            this.hard = hard;
        }

        /** The selection and the sign pattern of its terms: what must stay fixed under a small perturbation. */
        String shape() {
            return a + "," + p + "," + n + (hard ? "h" : "r") + (x1 > 0f ? "+" : "-") + (hasSecond ? (x2 > 0f ? "+" : "-") : "");
        }

        @Override
        public String toString() {
            return "(" + a + "," + p + "," + n + (hard ? ",hard" : ",random") + " x1=" + x1 + (hasSecond ? " x2=" + x2 : "") + ")";
        }
    }

    /** What the reference computes for a batch. */
    static final class Result {
        /** Null for a valid batch, else the invalid-batch reason code. */
        String invalidReason;
        int rows;
        int dimension;
        float loss;
        boolean[][] mask;
        float[] gradients;
        /**
         * Per gradient component, the sum of the absolute values of the contributions that made it (after
         * the divisor and the loss weight): the scale of the float rounding the backend may accumulate.
         */
        double[] gradientScale;
        int selectedTriplets;
        int nonZeroTerms;
        int terms;
        int divisor;
        int anchors;
        int skippedAnchors;
        int labelMismatches;
        long candidates;
        int hardSelected;
        int randomSelected;
        int memoryRows;
        int memoryNegatives;
        int memoryPositives;
        int nonZeroH1;
        int nonZeroH2;
        float[][] dis;
        final List<Triplet> triplets = new ArrayList<>();

        boolean valid() {
            return invalidReason == null;
        }

        /** The selection with its terms' signs, as one comparable string. */
        String shape() {
            StringBuilder s = new StringBuilder();
            for (Triplet t : triplets) {
                s.append(t.shape()).append(' ');
            }
            return s.toString();
        }
    }

    /** The reference for any options: the literal seed port for the seed's composition, else the docs. */
    static Result mine(MiningOptions o, EmbeddingBatch batch) {
        return isSeedComposition(o) ? seedPort(o, batch) : fromDocs(o, batch);
    }

    /**
     * The docs' procedure with a cross-batch memory (docs/mining.md, "Cross-batch memory"): the
     * memory's rows ({@code memoryEmbeddings}, {@code memoryLabels}, oldest first, as the engine's
     * eligible view gives them) are columns {@code N..N+M-1}: candidates, positives if asked, constants.
     */
    static Result mine(MiningOptions o, EmbeddingBatch batch, float[] memoryEmbeddings, int[] memoryLabels) {
        return fromDocs(o, batch, memoryEmbeddings, memoryLabels);
    }

    static boolean isSeedComposition(MiningOptions o) {
        return o.distance() == DistanceKind.NEG_DOT && o.miner() == MinerKind.RANK_HARD
                && o.positives() == PositivesKind.PAIRS && o.loss() == LossKind.DOUBLE_HINGE
                && o.reduction() == ReductionKind.SEED;
    }

    // ------------------------------------------------------------------------------------------------
    // Shared: the invalid-batch rules, the seed's bounded draw and shuffle.
    // ------------------------------------------------------------------------------------------------

    private static Result start(MiningOptions o, EmbeddingBatch batch) {
        Result r = new Result();
        r.rows = batch.rows();
        r.dimension = batch.dimension();
        r.mask = new boolean[r.rows][r.rows];
        r.gradients = new float[r.rows * r.dimension];
        r.gradientScale = new double[r.rows * r.dimension];
        for (float v : batch.embeddings()) {
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                r.invalidReason = "non-finite-value";
                return r;
            }
        }
        if (o.reduction() == ReductionKind.SEED && o.negNum() * r.rows / o.pairSize() * 2 == 0) {
            r.invalidReason = "empty-seed-count";
        }
        return r;
    }

    /** The seed's {@code myrandom(k) = caffe_rng_rand() % k}, unsigned. */
    private static int myrandom(ShuffleRandom rng, int k) {
        long u = rng.nextU32() & 0xffffffffL;
        return (int) (u % k);
    }

    /** libstdc++'s {@code random_shuffle(first, last, myrandom)}. */
    private static void randomShuffle(List<Integer> v, ShuffleRandom rng) {
        for (int i = 1; i < v.size(); i++) {
            int j = myrandom(rng, i + 1);
            if (i != j) {
                Integer t = v.get(i);
                v.set(i, v.get(j));
                v.set(j, t);
            }
        }
    }

    /**
     * The counter generator's cheaper choice (docs, rank-hard): a partial Fisher-Yates that puts a random
     * ordered {@code count} of {@code v} in front: {@code for i in 0..min(count, len-1)-1: j = i + rand(len - i);
     * swap(v[i], v[j])}.
     */
    private static void partialFisherYates(List<Integer> v, int count, ShuffleRandom rng) {
        int len = v.size();
        for (int i = 0; i < Math.min(count, len - 1); i++) {
            int j = i + myrandom(rng, len - i);
            Integer t = v.get(i);
            v.set(i, v.get(j));
            v.set(j, t);
        }
    }

    /** {@code std::pair<float, int>}'s {@code operator<}: value with float {@code <} (so -0 == 0), then index. */
    private static final Comparator<float[]> PAIR_LESS = (x, y) -> {
        if (x[0] < y[0]) return -1;
        if (y[0] < x[0]) return 1;
        return Integer.compare((int) x[1], (int) y[1]);
    };

    private static int hardNum(MiningOptions o) {
        float product = (float) o.negNum() * o.hardRatio();
        return (int) product;
    }

    private static int randNum(MiningOptions o) {
        float product = (float) o.negNum() * o.randRatio();
        return (int) product;
    }

    // ------------------------------------------------------------------------------------------------
    // The seed's composition: a literal port of RankHardLossLayer's CPU code.
    // ------------------------------------------------------------------------------------------------

    static Result seedPort(MiningOptions o, EmbeddingBatch batch) {
        Result r = start(o, batch);
        if (!r.valid()) {
            return r;
        }
        final int num = batch.rows();
        final int dim = batch.dimension();
        final int count = num * dim;
        final float[] bottomData = batch.embeddings();
        final int[] label = batch.labels();
        final int negNum = o.negNum();
        final int pairSize = o.pairSize();
        final float margin = o.margin();
        final int hardNum = hardNum(o);
        final int randNum = randNum(o);

        // Which anchors take part (the project's decisions around the seed: tail, label mismatches).
        boolean[] active = new boolean[num];
        for (int i = 0; i < num; i += pairSize) {
            if (i + 1 >= num) {
                r.skippedAnchors++;
                continue;
            }
            if (label[i + 1] != label[i]) {
                r.labelMismatches++;
                if (o.onLabelMismatch() == LabelMismatchPolicy.REJECT) {
                    r.invalidReason = "label-mismatch";
                    return r;
                }
                if (o.onLabelMismatch() == LabelMismatchPolicy.SKIP_ANCHOR) {
                    r.skippedAnchors++;
                    continue;
                }
            }
            active[i] = true;
        }

        // ---- set_mask
        float[] disData = new float[num * num];
        float[] maskData = new float[num * num];
        boolean[] hardPick = new boolean[num * num];
        for (int i = 0; i < num; i++) {
            for (int j = i + 1; j < num; j++) {
                int fea1 = i * dim;
                int fea2 = j * dim;
                float ts = 0;
                for (int k = 0; k < dim; k++) {
                    ts += (bottomData[fea1 + k] * bottomData[fea2 + k]);
                }
                disData[i * num + j] = -ts;
                disData[j * num + i] = -ts;
            }
        }
        MersenneTwister mt = o.rng() == RngKind.SEED_COMPAT ? new MersenneTwister((int) o.rngSeed()) : null;
        long batchKey = CounterRandom.batchKey(o.rngSeed(), batch.streamKey(), batch.batchId());

        List<float[]> negpairs = new ArrayList<>();
        List<Integer> sid1 = new ArrayList<>();
        List<Integer> sid2 = new ArrayList<>();
        for (int i = 0; i < num; i += pairSize) {
            if (!active[i]) {
                continue;
            }
            r.anchors++;
            negpairs.clear();
            sid1.clear();
            sid2.clear();
            for (int j = 0; j < num; j++) {
                if (label[j] == label[i]) {
                    continue;
                }
                float tloss = Math.max(0f, disData[i * num + i + 1] - disData[i * num + j] + margin);
                if (tloss == 0) {
                    continue;
                }
                negpairs.add(new float[] {disData[i * num + j], j});
            }
            r.candidates += negpairs.size();
            if (negpairs.size() <= negNum) {
                for (int j = 0; j < negpairs.size(); j++) {
                    int id = (int) negpairs.get(j)[1];
                    maskData[i * num + id] = 1;
                    hardPick[i * num + id] = true;
                    r.hardSelected++;
                }
                continue;
            }
            ShuffleRandom rng = mt != null ? mt : new CounterRandom().at(batchKey, (long) i * num + (i + 1));
            negpairs.sort(PAIR_LESS);
            for (int j = 0; j < negNum; j++) {
                sid1.add((int) negpairs.get(j)[1]);
            }
            for (int j = negNum; j < negpairs.size(); j++) {
                sid2.add((int) negpairs.get(j)[1]);
            }
            if (mt == null) {
                // rng = counter (the project's generator, docs): partial Fisher-Yates, sid2's rest in index order.
                partialFisherYates(sid1, hardNum, rng);
                for (int j = 0; j < Math.min(hardNum, sid1.size()); j++) {
                    maskData[i * num + sid1.get(j)] = 1;
                    hardPick[i * num + sid1.get(j)] = true;
                    r.hardSelected++;
                }
                sid2.sort(Comparator.naturalOrder());
                for (int j = hardNum; j < sid1.size(); j++) {
                    sid2.add(sid1.get(j));
                }
                partialFisherYates(sid2, randNum, rng);
                for (int j = 0; j < Math.min(randNum, sid2.size()); j++) {
                    maskData[i * num + sid2.get(j)] = 1;
                    r.randomSelected++;
                }
                continue;
            }
            randomShuffle(sid1, rng);
            for (int j = 0; j < Math.min(hardNum, sid1.size()); j++) {
                maskData[i * num + sid1.get(j)] = 1;
                hardPick[i * num + sid1.get(j)] = true;
                r.hardSelected++;
            }
            for (int j = hardNum; j < sid1.size(); j++) {
                sid2.add(sid1.get(j));
            }
            randomShuffle(sid2, rng);
            for (int j = 0; j < Math.min(randNum, sid2.size()); j++) {
                maskData[i * num + sid2.get(j)] = 1;
                r.randomSelected++;
            }
        }

        // ---- Forward_cpu
        float loss = 0;
        int cnt = negNum * num / pairSize * 2;
        for (int i = 0; i < num; i += pairSize) {
            for (int j = 0; j < num; j++) {
                if (maskData[i * num + j] == 0) {
                    continue;
                }
                float tloss1 = Math.max(0f, disData[i * num + i + 1] - disData[i * num + j] + margin);
                float tloss2 = Math.max(0f, disData[i * num + i + 1] - disData[(i + 1) * num + j] + margin);
                loss += tloss1 + tloss2;

                Triplet t = new Triplet(i, i + 1, j, hardPick[i * num + j]);
                t.hasSecond = true;
                t.x1 = disData[i * num + i + 1] - disData[i * num + j] + margin;
                t.x2 = disData[i * num + i + 1] - disData[(i + 1) * num + j] + margin;
                t.t1 = tloss1;
                t.t2 = tloss2;
                r.triplets.add(t);
                r.terms += 2;
                if (tloss1 > 0) {
                    r.nonZeroH1++;
                }
                if (tloss2 > 0) {
                    r.nonZeroH2++;
                }
            }
        }
        loss = loss / cnt;
        r.loss = loss * o.lossWeight();

        // ---- Backward_cpu
        float[] bottomDiff = r.gradients;
        double[] scale = r.gradientScale;
        for (int i = 0; i < count; i++) {
            bottomDiff[i] = 0;
        }
        for (int i = 0; i < num; i += pairSize) {
            int fori = i * dim;
            int fpos = (i + 1) * dim;
            for (int j = 0; j < num; j++) {
                if (maskData[i * num + j] == 0) {
                    continue;
                }
                float tloss1 = Math.max(0f, disData[i * num + i + 1] - disData[i * num + j] + margin);
                float tloss2 = Math.max(0f, disData[i * num + i + 1] - disData[(i + 1) * num + j] + margin);
                int fneg = j * dim;
                if (tloss1 > 0) {
                    for (int k = 0; k < dim; k++) {
                        bottomDiff[fori + k] += (bottomData[fneg + k] - bottomData[fpos + k]);
                        bottomDiff[fpos + k] += -bottomData[fori + k];
                        bottomDiff[fneg + k] += bottomData[fori + k];
                        scale[fori + k] += Math.abs(bottomData[fneg + k]) + Math.abs(bottomData[fpos + k]);
                        scale[fpos + k] += Math.abs(bottomData[fori + k]);
                        scale[fneg + k] += Math.abs(bottomData[fori + k]);
                    }
                }
                if (tloss2 > 0) {
                    for (int k = 0; k < dim; k++) {
                        bottomDiff[fori + k] += -bottomData[fpos + k];
                        bottomDiff[fpos + k] += bottomData[fneg + k] - bottomData[fori + k];
                        bottomDiff[fneg + k] += bottomData[fpos + k];
                        scale[fori + k] += Math.abs(bottomData[fpos + k]);
                        scale[fpos + k] += Math.abs(bottomData[fneg + k]) + Math.abs(bottomData[fori + k]);
                        scale[fneg + k] += Math.abs(bottomData[fpos + k]);
                    }
                }
            }
        }
        for (int i = 0; i < count; i++) {
            bottomDiff[i] = bottomDiff[i] / cnt;
            bottomDiff[i] = bottomDiff[i] * o.lossWeight();
            scale[i] = scale[i] / cnt * Math.abs(o.lossWeight());
        }

        // ---- outputs
        r.dis = new float[num][num];
        for (int i = 0; i < num; i++) {
            for (int j = 0; j < num; j++) {
                r.dis[i][j] = disData[i * num + j];
                r.mask[i][j] = maskData[i * num + j] != 0;
            }
        }
        r.selectedTriplets = r.triplets.size();
        r.nonZeroTerms = r.nonZeroH1 + r.nonZeroH2;
        r.divisor = cnt;
        return r;
    }

    // ------------------------------------------------------------------------------------------------
    // Every combination, from docs/mining.md.
    // ------------------------------------------------------------------------------------------------

    static Result fromDocs(MiningOptions o, EmbeddingBatch batch) {
        return fromDocs(o, batch, new float[0], new int[0]);
    }

    static Result fromDocs(MiningOptions o, EmbeddingBatch batch, float[] memoryEmbeddings, int[] memoryLabels) {
        Result r = start(o, batch);
        if (!r.valid()) {
            return r;
        }
        final int n = batch.rows();
        final int d = batch.dimension();
        final int m = memoryLabels.length;
        // Columns: the batch's rows, then the memory's.
        final int total = n + m;
        final float[] f = new float[total * d];
        System.arraycopy(batch.embeddings(), 0, f, 0, n * d);
        System.arraycopy(memoryEmbeddings, 0, f, n * d, m * d);
        final int[] label = new int[total];
        System.arraycopy(batch.labels(), 0, label, 0, n);
        System.arraycopy(memoryLabels, 0, label, n, m);
        final float margin = o.margin();
        r.memoryRows = m;

        // Distances: dot products in k order, one float multiply and one float add per step.
        float[][] g = new float[total][total];
        for (int i = 0; i < total; i++) {
            for (int j = 0; j < total; j++) {
                float s = 0f;
                for (int k = 0; k < d; k++) {
                    float product = f[i * d + k] * f[j * d + k];
                    s = s + product;
                }
                g[i][j] = s;
            }
        }
        float[] length = new float[total];
        for (int i = 0; i < total; i++) {
            length[i] = (float) Math.sqrt(g[i][i]);
        }
        float[][] dis = new float[total][total];
        for (int i = 0; i < total; i++) {
            for (int j = 0; j < total; j++) {
                if (i == j) {
                    dis[i][j] = 0f;
                    continue;
                }
                switch (o.distance()) {
                    case NEG_DOT:
                        dis[i][j] = -g[i][j];
                        break;
                    case SQUARED_EUCLIDEAN: {
                        float v = g[i][i] + g[j][j];
                        v = v - 2f * g[i][j];
                        dis[i][j] = Math.max(0f, v);
                        break;
                    }
                    case EUCLIDEAN: {
                        float v = g[i][i] + g[j][j];
                        v = v - 2f * g[i][j];
                        dis[i][j] = (float) Math.sqrt(Math.max(0f, v));
                        break;
                    }
                    case COSINE: {
                        if (length[i] == 0f || length[j] == 0f) {
                            dis[i][j] = 1f;
                        } else {
                            float denominator = length[i] * length[j];
                            dis[i][j] = 1f - g[i][j] / denominator;
                        }
                        break;
                    }
                    default:
                        throw new AssertionError(o.distance());
                }
            }
        }
        r.dis = dis;

        // Anchors and their positives.
        List<Integer> anchorList = new ArrayList<>();
        List<List<Integer>> positiveLists = new ArrayList<>();
        if (o.positives() == PositivesKind.PAIRS) {
            for (int a = 0; a < n; a += o.pairSize()) {
                if (a + 1 >= n) {
                    r.skippedAnchors++;
                    continue;
                }
                if (label[a + 1] != label[a]) {
                    r.labelMismatches++;
                    if (o.onLabelMismatch() == LabelMismatchPolicy.REJECT) {
                        r.invalidReason = "label-mismatch";
                        return r;
                    }
                    if (o.onLabelMismatch() == LabelMismatchPolicy.SKIP_ANCHOR) {
                        r.skippedAnchors++;
                        continue;
                    }
                }
                anchorList.add(a);
                positiveLists.add(new ArrayList<>(List.of(a + 1)));
            }
        } else {
            for (int a = 0; a < n; a++) {
                List<Integer> ps = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    if (j != a && label[j] == label[a]) {
                        ps.add(j);
                    }
                }
                if (ps.isEmpty()) {
                    r.skippedAnchors++;
                } else {
                    anchorList.add(a);
                    positiveLists.add(ps);
                }
            }
        }

        if (o.memoryPositives()) {
            for (int k = 0; k < anchorList.size(); k++) {
                for (int j = n; j < total; j++) {
                    if (label[j] == label[anchorList.get(k)]) {
                        positiveLists.get(k).add(j);
                    }
                }
            }
        }

        // Mining, anchor by anchor, ascending.
        MersenneTwister mt = o.rng() == RngKind.SEED_COMPAT ? new MersenneTwister((int) o.rngSeed()) : null;
        long batchKey = CounterRandom.batchKey(o.rngSeed(), batch.streamKey(), batch.batchId());
        int hardNum = hardNum(o);
        int randNum = randNum(o);
        for (int k = 0; k < anchorList.size(); k++) {
            int a = anchorList.get(k);
            List<Integer> positives = positiveLists.get(k);
            r.anchors++;
            List<Triplet> chosen = new ArrayList<>();
            switch (o.miner()) {
                case RANK_HARD:
                    for (int p : positives) {
                        List<float[]> candidates = candidates(dis, label, a, p, margin);
                        r.candidates += candidates.size();
                        if (candidates.size() <= o.negNum()) {
                            for (float[] c : candidates) {
                                chosen.add(new Triplet(a, p, (int) c[1], true));
                            }
                            continue;
                        }
                        ShuffleRandom rng = mt != null ? mt : new CounterRandom().at(batchKey, (long) a * total + p);
                        candidates.sort(PAIR_LESS);
                        List<Integer> sid1 = new ArrayList<>();
                        List<Integer> sid2 = new ArrayList<>();
                        for (int t = 0; t < candidates.size(); t++) {
                            (t < o.negNum() ? sid1 : sid2).add((int) candidates.get(t)[1]);
                        }
                        boolean seedDraws = mt != null;
                        if (seedDraws) {
                            randomShuffle(sid1, rng);
                        } else {
                            partialFisherYates(sid1, hardNum, rng);
                            sid2.sort(Comparator.naturalOrder());
                        }
                        for (int t = 0; t < sid1.size(); t++) {
                            if (t < hardNum) {
                                chosen.add(new Triplet(a, p, sid1.get(t), true));
                            } else {
                                sid2.add(sid1.get(t));
                            }
                        }
                        if (seedDraws) {
                            randomShuffle(sid2, rng);
                        } else {
                            partialFisherYates(sid2, randNum, rng);
                        }
                        for (int t = 0; t < Math.min(randNum, sid2.size()); t++) {
                            chosen.add(new Triplet(a, p, sid2.get(t), false));
                        }
                    }
                    break;
                case SEMI_HARD:
                    for (int p : positives) {
                        List<float[]> semi = new ArrayList<>();
                        for (int j = 0; j < total; j++) {
                            if (label[j] != label[a] && dis[a][p] < dis[a][j] && (dis[a][p] - dis[a][j]) + margin > 0f) {
                                semi.add(new float[] {dis[a][j], j});
                            }
                        }
                        r.candidates += semi.size();
                        if (semi.isEmpty()) {
                            int hardest = nearestNegative(dis, label, a);
                            if (hardest >= 0) {
                                chosen.add(new Triplet(a, p, hardest, true));
                            }
                            continue;
                        }
                        semi.sort(PAIR_LESS);
                        for (int t = 0; t < Math.min(o.negNum(), semi.size()); t++) {
                            chosen.add(new Triplet(a, p, (int) semi.get(t)[1], true));
                        }
                    }
                    break;
                case BATCH_HARD: {
                    int farthest = -1;
                    for (int p : positives) {
                        if (farthest < 0 || dis[a][p] > dis[a][farthest]) {
                            farthest = p;
                        }
                    }
                    int others = 0;
                    for (int j = 0; j < total; j++) {
                        if (label[j] != label[a]) {
                            others++;
                        }
                    }
                    r.candidates += others;
                    int nearest = nearestNegative(dis, label, a);
                    if (farthest >= 0 && nearest >= 0) {
                        chosen.add(new Triplet(a, farthest, nearest, true));
                    }
                    break;
                }
                case BATCH_ALL:
                    for (int p : positives) {
                        List<float[]> candidates = candidates(dis, label, a, p, margin);
                        r.candidates += candidates.size();
                        for (float[] c : candidates) {
                            chosen.add(new Triplet(a, p, (int) c[1], true));
                        }
                    }
                    break;
                default:
                    throw new AssertionError(o.miner());
            }
            // The seed's summation order within an anchor: positive ascending, then negative ascending.
            chosen.sort(Comparator.<Triplet>comparingInt(t -> t.p).thenComparingInt(t -> t.n));
            r.triplets.addAll(chosen);
        }

        // Loss terms, summed in float in that order.
        boolean second = o.loss() == LossKind.DOUBLE_HINGE;
        float sum = 0f;
        for (Triplet t : r.triplets) {
            float dap = dis[t.a][t.p];
            t.x1 = (dap - dis[t.a][t.n]) + margin;
            t.t1 = termValue(o.loss(), t.x1);
            r.terms++;
            if (t.t1 > 0f) {
                r.nonZeroH1++;
            }
            if (second) {
                t.hasSecond = true;
                t.x2 = (dap - dis[t.p][t.n]) + margin;
                t.t2 = termValue(o.loss(), t.x2);
                r.terms++;
                if (t.t2 > 0f) {
                    r.nonZeroH2++;
                }
                sum += t.t1 + t.t2;
            } else {
                sum += t.t1;
            }
            if (t.n < n) {
                r.mask[t.a][t.n] = true;
            } else {
                r.memoryNegatives++;
            }
            if (t.p >= n) {
                r.memoryPositives++;
            }
            if (t.hard) {
                r.hardSelected++;
            } else {
                r.randomSelected++;
            }
        }
        r.selectedTriplets = r.triplets.size();
        r.nonZeroTerms = r.nonZeroH1 + r.nonZeroH2;
        switch (o.reduction()) {
            case SEED:
                r.divisor = o.negNum() * n / o.pairSize() * 2;
                break;
            case MEAN_NONZERO:
                r.divisor = r.nonZeroTerms;
                break;
            case MEAN:
                r.divisor = r.terms;
                break;
            default:
                throw new AssertionError(o.reduction());
        }
        if (r.divisor == 0) {
            r.loss = 0f;
            return r;
        }
        r.loss = (sum / r.divisor) * o.lossWeight();

        // Gradients: per triplet, per term, d(term)/d(distance) times d(distance)/d(rows); memory rows are
        // constants, so what lands on their rows is dropped.
        double[] acc = new double[total * d];
        double[] scale = new double[total * d];
        for (Triplet t : r.triplets) {
            double s1 = termSlope(o.loss(), t.x1);
            if (s1 != 0) {
                addDistanceDerivative(o.distance(), f, d, dis, length, t.a, t.p, s1, acc, scale);
                addDistanceDerivative(o.distance(), f, d, dis, length, t.a, t.n, -s1, acc, scale);
            }
            if (t.hasSecond) {
                double s2 = termSlope(o.loss(), t.x2);
                if (s2 != 0) {
                    addDistanceDerivative(o.distance(), f, d, dis, length, t.a, t.p, s2, acc, scale);
                    addDistanceDerivative(o.distance(), f, d, dis, length, t.p, t.n, -s2, acc, scale);
                }
            }
        }
        for (int i = 0; i < n * d; i++) {
            r.gradients[i] = (float) (acc[i] / r.divisor * o.lossWeight());
            r.gradientScale[i] = scale[i] / r.divisor * Math.abs(o.lossWeight());
        }
        return r;
    }

    /** The rows of another label whose own hinge {@code (dis[a][p] - dis[a][j]) + margin} is positive, ascending. */
    private static List<float[]> candidates(float[][] dis, int[] label, int a, int p, float margin) {
        List<float[]> out = new ArrayList<>();
        for (int j = 0; j < label.length; j++) {
            if (label[j] != label[a] && (dis[a][p] - dis[a][j]) + margin > 0f) {
                out.add(new float[] {dis[a][j], j});
            }
        }
        return out;
    }

    /** The lowest {@code dis[a][j]} over rows of another label, ties to the lower index; -1 if none. */
    private static int nearestNegative(float[][] dis, int[] label, int a) {
        int best = -1;
        for (int j = 0; j < label.length; j++) {
            if (label[j] != label[a] && (best < 0 || dis[a][j] < dis[a][best])) {
                best = j;
            }
        }
        return best;
    }

    private static float termValue(LossKind loss, float x) {
        switch (loss) {
            case DOUBLE_HINGE:
            case HINGE:
                return x > 0f ? x : 0f;
            case SOFT:
                return x > 20f ? x : (float) Math.log1p(Math.exp(x));
            default:
                throw new AssertionError(loss);
        }
    }

    private static double termSlope(LossKind loss, float x) {
        switch (loss) {
            case DOUBLE_HINGE:
            case HINGE:
                return x > 0f ? 1.0 : 0.0;
            case SOFT:
                return 1.0 / (1.0 + Math.exp(-(double) x));
            default:
                throw new AssertionError(loss);
        }
    }

    /**
     * Adds {@code c * d dis(i, j) / d f} to rows {@code i} and {@code j} of {@code acc}, straight from the
     * distance's definition.
     */
    private static void addDistanceDerivative(DistanceKind kind, float[] f, int d, float[][] dis, float[] length,
                                              int i, int j, double c, double[] acc, double[] scale) {
        int fi = i * d;
        int fj = j * d;
        switch (kind) {
            case NEG_DOT:
                // dis = -f_i . f_j, differentiated as written even on the diagonal (the seed's dis[p][p] quirk).
                for (int k = 0; k < d; k++) {
                    acc[fi + k] += c * -f[fj + k];
                    acc[fj + k] += c * -f[fi + k];
                    scale[fi + k] += Math.abs(c * f[fj + k]);
                    scale[fj + k] += Math.abs(c * f[fi + k]);
                }
                break;
            case SQUARED_EUCLIDEAN:
                if (i == j) {
                    return;
                }
                for (int k = 0; k < d; k++) {
                    double diff = (double) f[fi + k] - f[fj + k];
                    acc[fi + k] += c * 2 * diff;
                    acc[fj + k] -= c * 2 * diff;
                    double size = Math.abs(c) * 2 * (Math.abs(f[fi + k]) + Math.abs(f[fj + k]));
                    scale[fi + k] += size;
                    scale[fj + k] += size;
                }
                break;
            case EUCLIDEAN: {
                if (i == j || !(dis[i][j] > 0f)) {
                    return;
                }
                double r = dis[i][j];
                for (int k = 0; k < d; k++) {
                    double diff = (double) f[fi + k] - f[fj + k];
                    acc[fi + k] += c * diff / r;
                    acc[fj + k] -= c * diff / r;
                    double size = Math.abs(c) * (Math.abs(f[fi + k]) + Math.abs(f[fj + k])) / r;
                    scale[fi + k] += size;
                    scale[fj + k] += size;
                }
                break;
            }
            case COSINE: {
                if (i == j) {
                    return;
                }
                double ni = 0;
                double nj = 0;
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    ni += (double) f[fi + k] * f[fi + k];
                    nj += (double) f[fj + k] * f[fj + k];
                    dot += (double) f[fi + k] * f[fj + k];
                }
                if (ni == 0 || nj == 0) {
                    return;
                }
                ni = Math.sqrt(ni);
                nj = Math.sqrt(nj);
                double cos = dot / (ni * nj);
                // dis = 1 - u_i . u_j; d dis / d f_i = -(u_j - cos u_i) / |f_i|, and symmetrically for j.
                for (int k = 0; k < d; k++) {
                    double ui = f[fi + k] / ni;
                    double uj = f[fj + k] / nj;
                    acc[fi + k] += c * -(uj - cos * ui) / ni;
                    acc[fj + k] += c * -(ui - cos * uj) / nj;
                    scale[fi + k] += Math.abs(c) * (Math.abs(uj) + Math.abs(cos * ui) + Math.abs(ui)) / ni;
                    scale[fj + k] += Math.abs(c) * (Math.abs(ui) + Math.abs(cos * uj) + Math.abs(uj)) / nj;
                }
                break;
            }
            default:
                throw new AssertionError(kind);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Comparison with a backend's result.
    // ------------------------------------------------------------------------------------------------

    /**
     * Every difference between a backend's result and the reference, as readable lines (empty when they
     * agree): masks and counts exactly, loss and gradients within {@code tolerance} relative to the
     * largest expected value (or the scale of the accumulated contributions, whichever is larger).
     */
    static List<String> differences(Result expected, MiningResult got, double tolerance) {
        List<String> out = new ArrayList<>();
        int n = expected.rows;
        int d = expected.dimension;
        if (got.rows() != n || got.dimension() != d) {
            out.add("shape " + got.rows() + "x" + got.dimension() + ", expected " + n + "x" + d);
            return out;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (got.isSelected(i, j) != expected.mask[i][j]) {
                    out.add("mask[" + i + "][" + j + "] = " + got.isSelected(i, j) + ", expected " + expected.mask[i][j]
                            + (expected.dis == null ? "" : " (dis[" + i + "][" + j + "] = " + expected.dis[i][j] + ")"));
                    if (out.size() > 8) {
                        return out;
                    }
                }
            }
        }
        MiningStatistics s = got.statistics();
        count(out, "selected triplets", got.selectedTriplets(), expected.selectedTriplets);
        count(out, "non-zero terms", got.nonZeroHinges(), expected.nonZeroTerms);
        count(out, "anchors", s.anchors(), expected.anchors);
        count(out, "skipped anchors", s.skippedAnchors(), expected.skippedAnchors);
        count(out, "label mismatches", s.labelMismatches(), expected.labelMismatches);
        count(out, "candidates", s.candidates(), expected.candidates);
        count(out, "hard selected", s.hardSelected(), expected.hardSelected);
        count(out, "random selected", s.randomSelected(), expected.randomSelected);
        count(out, "memory rows", s.memoryRows(), expected.memoryRows);
        count(out, "memory negatives", s.memoryNegatives(), expected.memoryNegatives);
        count(out, "memory positives", s.memoryPositives(), expected.memoryPositives);
        count(out, "non-zero h1", s.nonZeroH1(), expected.nonZeroH1);
        count(out, "non-zero h2", s.nonZeroH2(), expected.nonZeroH2);
        if (!out.isEmpty()) {
            return out;
        }
        double lossScale = Math.max(Math.abs(expected.loss), 1e-30);
        if (!(Math.abs(got.loss() - expected.loss) <= tolerance * lossScale)) {
            out.add("loss " + got.loss() + ", expected " + expected.loss + " (tolerance " + tolerance * lossScale + ")");
        }
        if (Float.floatToIntBits(got.statistics().loss()) != Float.floatToIntBits(got.loss())) {
            out.add("statistics loss " + got.statistics().loss() + " != result loss " + got.loss());
        }
        double gradScale = 0;
        for (int i = 0; i < n * d; i++) {
            gradScale = Math.max(gradScale, Math.max(Math.abs(expected.gradients[i]), expected.gradientScale[i]));
        }
        double allowed = tolerance * gradScale;
        float[] g = got.gradients();
        for (int i = 0; i < n * d; i++) {
            if (!(Math.abs(g[i] - expected.gradients[i]) <= allowed)) {
                out.add("gradient[row " + i / d + ", col " + i % d + "] = " + g[i] + ", expected " + expected.gradients[i]
                        + " (tolerance " + allowed + ")");
                if (out.size() > 8) {
                    return out;
                }
            }
        }
        return out;
    }

    /** Differences between two reference results (for the two reference paths on the seed's composition). */
    static List<String> differences(Result expected, Result got, double tolerance) {
        List<String> out = new ArrayList<>();
        if (!String.valueOf(expected.invalidReason).equals(String.valueOf(got.invalidReason))) {
            out.add("invalid reason " + got.invalidReason + ", expected " + expected.invalidReason);
            return out;
        }
        if (!expected.valid()) {
            return out;
        }
        if (!expected.shape().equals(got.shape())) {
            out.add("triplets " + got.shape() + ", expected " + expected.shape());
        }
        count(out, "candidates", got.candidates, expected.candidates);
        count(out, "anchors", got.anchors, expected.anchors);
        count(out, "skipped", got.skippedAnchors, expected.skippedAnchors);
        count(out, "mismatches", got.labelMismatches, expected.labelMismatches);
        if (!(Math.abs(got.loss - expected.loss) <= tolerance * Math.max(Math.abs(expected.loss), 1e-30))) {
            out.add("loss " + got.loss + ", expected " + expected.loss);
        }
        double gradScale = 0;
        for (int i = 0; i < expected.gradients.length; i++) {
            gradScale = Math.max(gradScale, Math.max(Math.abs(expected.gradients[i]), expected.gradientScale[i]));
        }
        for (int i = 0; i < expected.gradients.length; i++) {
            if (!(Math.abs(got.gradients[i] - expected.gradients[i]) <= tolerance * gradScale)) {
                out.add("gradient[" + i + "] = " + got.gradients[i] + ", expected " + expected.gradients[i]);
                break;
            }
        }
        return out;
    }

    private static void count(List<String> out, String what, long got, long expected) {
        if (got != expected) {
            out.add(what + " " + got + ", expected " + expected);
        }
    }
}
