package io.tripletflow.local;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.trainer.GradientService;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A small embedding model that really trains through tripletflow: the job mines triplets in the
 * embeddings it publishes and answers with d loss / d embeddings, which this class back-propagates
 * into its weights.
 *
 * <ul>
 *   <li><b>Data.</b> Synthetic, class-structured: {@code C} classes in {@code I} input dimensions,
 *       {@code x = mean[c] + noise * e + nuisance}, where the nuisance is a strong random vector in a
 *       fixed low-rank subspace shared by all classes (think lighting or pose). Raw inputs and random
 *       projections are dominated by the nuisance, so nearest neighbours are mostly of another
 *       class; a good embedding must learn to ignore that subspace.</li>
 *   <li><b>Model.</b> {@code z = W x} ({@code W} is {@code D x I}), then {@code u = z / |z|}: the
 *       published embeddings are the unit vectors {@code u}.</li>
 *   <li><b>Batches.</b> {@code N} rows in anchor/positive pairs: rows {@code 2i} and {@code 2i+1}
 *       are two samples of the same class (the job's default {@code pair-size 2}, so no label
 *       mismatches), the pairs' classes drawn at random.</li>
 *   <li><b>Training.</b> Several batches are in flight at once ({@link GradientService#submit}
 *       blocks when too many are); each answer {@code g = dL/du} is back-propagated through the
 *       normalisation, {@code dL/dz = (I - u u^T) g / |z|}, and the linear map,
 *       {@code dL/dW = sum_rows dL/dz x^T}, with the inputs and {@code z} of the parameters that
 *       produced the batch (delayed SGD), then {@code W -= learningRate * dL/dW}.</li>
 *   <li><b>Evaluation.</b> Recall@1 on a fixed held-out set: a sample is a hit when its nearest
 *       other held-out sample by cosine similarity has its class.</li>
 * </ul>
 *
 * <pre>{@code
 * DemoTrainer trainer = new DemoTrainer(DemoTrainer.Settings.defaults());
 * try (TrainerClient client = TrainerClient.builder(bootstrap).maxInFlight(8).build()) {
 *     DemoTrainer.Summary s = trainer.train(client, Duration.ofSeconds(30), p -> System.out.println(p));
 *     System.out.println("recall@1 " + s.recallBefore() + " -> " + s.recallAfter());
 * }
 * }</pre>
 *
 * <p>{@link #train} runs on the calling thread; answers are applied on whatever thread completes
 * their futures. The weights are guarded by a lock, so that is safe.
 */
public final class DemoTrainer {

    /** What the demo is made of; fluent setters, {@link #defaults()} tuned for a visible improvement in ~20 s. */
    public static final class Settings {
        private int classes = 16;
        private int inputDimension = 32;
        private int dimension = 16;
        private int batchRows = 128;
        private int heldOutPerClass = 32;
        private int nuisanceRank = 8;
        private double nuisanceScale = 6.0;
        private double noise = 0.6;
        private double learningRate = 1.0;
        private long seed = 7;
        private String streamKey = "demo";
        private Duration progressInterval = Duration.ofSeconds(5);
        private Duration drainTimeout = Duration.ofSeconds(10);

        public static Settings defaults() {
            return new Settings();
        }

        public Settings classes(int v) { classes = atLeast("classes", v, 2); return this; }
        public Settings inputDimension(int v) { inputDimension = atLeast("inputDimension", v, 1); return this; }
        public Settings dimension(int v) { dimension = atLeast("dimension", v, 1); return this; }
        /** Rows per batch, even (anchor/positive pairs). */
        public Settings batchRows(int v) {
            batchRows = atLeast("batchRows", v, 2);
            if (v % 2 != 0) {
                throw new IllegalArgumentException("batchRows must be even (anchor/positive pairs), got " + v);
            }
            return this;
        }
        public Settings heldOutPerClass(int v) { heldOutPerClass = atLeast("heldOutPerClass", v, 2); return this; }
        public Settings nuisanceRank(int v) { nuisanceRank = atLeast("nuisanceRank", v, 0); return this; }
        public Settings nuisanceScale(double v) { nuisanceScale = finite("nuisanceScale", v); return this; }
        public Settings noise(double v) { noise = finite("noise", v); return this; }
        public Settings learningRate(double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("learningRate must be > 0, got " + v);
            }
            learningRate = v;
            return this;
        }
        public Settings seed(long v) { seed = v; return this; }
        public Settings streamKey(String v) { streamKey = Objects.requireNonNull(v); return this; }
        /** How often {@link #train} reports progress; default 5 s. */
        public Settings progressInterval(Duration v) { progressInterval = positive("progressInterval", v); return this; }
        /** How long {@link #train} waits for the outstanding answers at the end; default 10 s. */
        public Settings drainTimeout(Duration v) { drainTimeout = Objects.requireNonNull(v); return this; }

        public int classes() { return classes; }
        public int inputDimension() { return inputDimension; }
        public int dimension() { return dimension; }
        public int batchRows() { return batchRows; }
        public int heldOutPerClass() { return heldOutPerClass; }
        public int nuisanceRank() { return nuisanceRank; }
        public double nuisanceScale() { return nuisanceScale; }
        public double noise() { return noise; }
        public double learningRate() { return learningRate; }
        public long seed() { return seed; }
        public String streamKey() { return streamKey; }
        public Duration progressInterval() { return progressInterval; }
        public Duration drainTimeout() { return drainTimeout; }

        @Override
        public String toString() {
            return "C=" + classes + " I=" + inputDimension + " D=" + dimension + " N=" + batchRows
                    + " lr=" + learningRate + " seed=" + seed;
        }

        private static int atLeast(String name, int v, int min) {
            if (v < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", got " + v);
            }
            return v;
        }

        private static double finite(String name, double v) {
            if (!Double.isFinite(v) || v < 0) {
                throw new IllegalArgumentException(name + " must be finite and >= 0, got " + v);
            }
            return v;
        }

        private static Duration positive(String name, Duration v) {
            if (v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException(name + " must be > 0, got " + v);
            }
            return v;
        }
    }

    /** One progress report: counts since the start, rates and means over the last interval. */
    public record Progress(
            double elapsedSeconds,
            long submitted,
            long answered,
            double batchesPerSecond,
            double loss,
            double recallAt1,
            long latencyP50Millis,
            long latencyP99Millis,
            long modelStep) {
    }

    /** The outcome of {@link #train}. */
    public record Summary(
            double recallBefore,
            double recallAfter,
            long submitted,
            long answered,
            long failed,
            long unmatchedAnswers,
            double seconds,
            double batchesPerSecond,
            double firstLoss,
            double lastLoss,
            long latencyP50Millis,
            long latencyP99Millis,
            long modelSteps) {
    }

    /** What back-propagating an answer needs: the inputs and pre-normalisation outputs of its batch. */
    private record Context(float[] inputs, float[] outputs, long createdMillis) {}

    private final Settings settings;
    private final int classes;
    private final int in;
    private final int dim;
    private final float[] means;
    private final float[] nuisance;
    private final float[] heldOut;
    private final int[] heldOutLabels;
    private final Random sampler;

    private final Object modelLock = new Object();
    private final float[] weights;
    private long modelStep;

    private final Map<Long, Context> contexts = new ConcurrentHashMap<>();
    private long nextBatchId = 1;

    private final Object metricsLock = new Object();
    private final LatencyWindow intervalLatencies = new LatencyWindow(4096);
    private final LatencyWindow runLatencies = new LatencyWindow(20_000);
    private long submitted;
    private long answered;
    private long failed;
    private long unmatched;
    private double intervalLoss;
    private long intervalAnswers;
    private double firstLoss = Double.NaN;
    private double lastLoss = Double.NaN;

    private volatile boolean stopped;
    private volatile Thread trainingThread;

    public DemoTrainer(Settings settings) {
        this.settings = Objects.requireNonNull(settings);
        this.classes = settings.classes;
        this.in = settings.inputDimension;
        this.dim = settings.dimension;
        Random data = new Random(settings.seed);
        means = gaussian(data, classes * in, 1.0);
        nuisance = gaussian(data, settings.nuisanceRank * in, 1.0);
        for (int j = 0; j < settings.nuisanceRank; j++) {
            double norm = 0;
            for (int k = 0; k < in; k++) {
                norm += nuisance[j * in + k] * nuisance[j * in + k];
            }
            for (int k = 0; k < in; k++) {
                nuisance[j * in + k] /= (float) Math.sqrt(norm);
            }
        }
        // W ~ N(0, 1/I): |z| is about |x| at the start.
        weights = gaussian(data, dim * in, 1.0 / Math.sqrt(in));
        int heldOutRows = classes * settings.heldOutPerClass;
        heldOut = new float[heldOutRows * in];
        heldOutLabels = new int[heldOutRows];
        Random heldOutRandom = new Random(settings.seed ^ 0x5DEECE66DL);
        for (int r = 0; r < heldOutRows; r++) {
            heldOutLabels[r] = r % classes;
            sample(heldOutRandom, heldOutLabels[r], heldOut, r * in);
        }
        sampler = new Random(settings.seed * 31 + 17);
    }

    public Settings settings() {
        return settings;
    }

    // ---- Data

    /** Writes one input of class {@code label} at {@code out[offset ..]}. */
    private void sample(Random random, int label, float[] out, int offset) {
        for (int k = 0; k < in; k++) {
            out[offset + k] = (float) (means[label * in + k] + settings.noise * random.nextGaussian());
        }
        for (int j = 0; j < settings.nuisanceRank; j++) {
            double a = settings.nuisanceScale * random.nextGaussian();
            for (int k = 0; k < in; k++) {
                out[offset + k] += (float) (a * nuisance[j * in + k]);
            }
        }
    }

    private static float[] gaussian(Random random, int count, double scale) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (scale * random.nextGaussian());
        }
        return v;
    }

    // ---- Model

    /**
     * {@code z = W x} and {@code u = z / |z|} for {@code rows} inputs ({@code W} is {@code dim x in},
     * all row-major). A zero {@code z} gives {@code u = 0}.
     */
    public static void forward(float[] w, int dim, int in, float[] x, int rows, float[] z, float[] u) {
        for (int r = 0; r < rows; r++) {
            double norm2 = 0;
            for (int o = 0; o < dim; o++) {
                double s = 0;
                for (int k = 0; k < in; k++) {
                    s += (double) w[o * in + k] * x[r * in + k];
                }
                z[r * dim + o] = (float) s;
                norm2 += s * s;
            }
            double inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
            for (int o = 0; o < dim; o++) {
                u[r * dim + o] = (float) (z[r * dim + o] * inv);
            }
        }
    }

    /**
     * {@code dL/dW} given {@code g = dL/du} for every row, where {@code u = z / |z|} and
     * {@code z = W x}: {@code dL/dz = (g - (g . u) u) / |z|}, {@code dL/dW = sum_rows dL/dz x^T}.
     * Writes {@code gradW} ({@code dim x in}); rows with {@code z = 0} contribute nothing.
     */
    public static void backward(float[] x, float[] z, float[] gradU, int rows, int in, int dim, float[] gradW) {
        Arrays.fill(gradW, 0, dim * in, 0f);
        double[] dz = new double[dim];
        for (int r = 0; r < rows; r++) {
            double norm2 = 0;
            for (int o = 0; o < dim; o++) {
                double v = z[r * dim + o];
                norm2 += v * v;
            }
            if (norm2 == 0) {
                continue;
            }
            double norm = Math.sqrt(norm2);
            double gu = 0;
            for (int o = 0; o < dim; o++) {
                gu += (double) gradU[r * dim + o] * (z[r * dim + o] / norm);
            }
            for (int o = 0; o < dim; o++) {
                dz[o] = (gradU[r * dim + o] - gu * (z[r * dim + o] / norm)) / norm;
            }
            for (int o = 0; o < dim; o++) {
                double d = dz[o];
                if (d == 0) {
                    continue;
                }
                for (int k = 0; k < in; k++) {
                    gradW[o * in + k] += (float) (d * x[r * in + k]);
                }
            }
        }
    }

    /** A copy of {@code W} ({@code dim x in}, row-major). */
    public float[] weights() {
        synchronized (modelLock) {
            return weights.clone();
        }
    }

    /** Parameter updates applied so far. */
    public long modelStep() {
        synchronized (modelLock) {
            return modelStep;
        }
    }

    /**
     * The next batch: {@code batchRows / 2} anchor/positive pairs of random classes, embedded with
     * the current weights. Remembers what {@link #apply} needs to back-propagate its answer.
     */
    public EmbeddingBatch nextBatch() {
        int rows = settings.batchRows;
        float[] x = new float[rows * in];
        int[] labels = new int[rows];
        long batchId;
        synchronized (sampler) {
            batchId = nextBatchId++;
            for (int p = 0; p < rows / 2; p++) {
                int label = sampler.nextInt(classes);
                labels[2 * p] = label;
                labels[2 * p + 1] = label;
                sample(sampler, label, x, 2 * p * in);
                sample(sampler, label, x, (2 * p + 1) * in);
            }
        }
        float[] z = new float[rows * dim];
        float[] u = new float[rows * dim];
        long step;
        synchronized (modelLock) {
            forward(weights, dim, in, x, rows, z, u);
            step = modelStep;
        }
        long created = System.currentTimeMillis();
        contexts.put(batchId, new Context(x, z, created));
        return new EmbeddingBatch(settings.streamKey, batchId, step, created, rows, dim, labels, u);
    }

    /**
     * Back-propagates an answer into the weights (one SGD step).
     *
     * @return false (and nothing changes) if the answer matches no batch of this trainer that is
     *         still waiting: another stream key, an unknown or already applied batch id, or the
     *         wrong shape
     */
    public boolean apply(GradientBatch g) {
        if (!g.streamKey().equals(settings.streamKey)) {
            return false;
        }
        Context c = contexts.remove(g.batchId());
        if (c == null) {
            return false;
        }
        int rows = c.inputs.length / in;
        if (g.rows() != rows || g.dimension() != dim) {
            return false;
        }
        float[] gradW = new float[dim * in];
        backward(c.inputs, c.outputs, g.gradients(), rows, in, dim, gradW);
        float lr = (float) settings.learningRate;
        synchronized (modelLock) {
            for (int i = 0; i < gradW.length; i++) {
                weights[i] -= lr * gradW[i];
            }
            modelStep++;
        }
        return true;
    }

    /** Forgets a batch whose answer will never come (failed or abandoned). */
    private void forget(long batchId) {
        contexts.remove(batchId);
    }

    // ---- Evaluation

    /** Recall@1 of the current weights on the held-out set. */
    public double recallAt1() {
        float[] w = weights();
        int rows = heldOutLabels.length;
        float[] z = new float[rows * dim];
        float[] u = new float[rows * dim];
        forward(w, dim, in, heldOut, rows, z, u);
        return recallAt1(u, heldOutLabels, rows, dim);
    }

    /**
     * Recall@1 of unit-length embeddings: the share of rows whose nearest other row (largest dot
     * product, i.e. cosine similarity) has the same label.
     */
    public static double recallAt1(float[] unit, int[] labels, int rows, int dim) {
        if (rows < 2) {
            return 0;
        }
        int hits = 0;
        for (int i = 0; i < rows; i++) {
            double best = Double.NEGATIVE_INFINITY;
            int nearest = -1;
            for (int j = 0; j < rows; j++) {
                if (j == i) {
                    continue;
                }
                double s = 0;
                for (int k = 0; k < dim; k++) {
                    s += unit[i * dim + k] * unit[j * dim + k];
                }
                if (s > best) {
                    best = s;
                    nearest = j;
                }
            }
            if (labels[nearest] == labels[i]) {
                hits++;
            }
        }
        return (double) hits / rows;
    }

    // ---- Training

    /**
     * Trains for {@code duration} ({@code null}: until {@link #stop()}), publishing batches through
     * {@code service} as fast as it accepts them, then waits up to the drain timeout for the
     * outstanding answers. Calls {@code progress} every progress interval (on this thread).
     */
    public Summary train(GradientService service, Duration duration, Consumer<Progress> progress) {
        Objects.requireNonNull(service, "service");
        trainingThread = Thread.currentThread();
        try {
            double before = recallAt1();
            long start = System.nanoTime();
            long deadline = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
            long intervalNanos = settings.progressInterval.toNanos();
            long nextReport = start + intervalNanos;
            long lastReport = start;
            boolean interrupted = false;
            while (!stopped && System.nanoTime() < deadline) {
                EmbeddingBatch batch = nextBatch();
                CompletableFuture<GradientBatch> future;
                try {
                    future = service.submit(batch);
                } catch (InterruptedException e) {
                    forget(batch.batchId());
                    interrupted = !stopped; // stop() interrupts; anyone else's interrupt is kept
                    break;
                } catch (RuntimeException e) {
                    forget(batch.batchId());
                    if (stopped) {
                        break; // the service was closed under us
                    }
                    throw e;
                }
                synchronized (metricsLock) {
                    submitted++;
                }
                future.whenComplete((g, error) -> onAnswer(batch, g, error));
                long now = System.nanoTime();
                if (now >= nextReport && progress != null) {
                    progress.accept(report(now - start, now - lastReport));
                    lastReport = now;
                    nextReport = now + intervalNanos;
                }
            }
            // Clear an interrupt from stop(); waiting (briefly) for the last answers is still useful.
            boolean wasStopped = stopped;
            interrupted |= Thread.interrupted() && !wasStopped;
            long drainUntil = System.nanoTime() + (wasStopped || interrupted
                    ? Math.min(settings.drainTimeout.toNanos(), 2_000_000_000L) : settings.drainTimeout.toNanos());
            while (!contexts.isEmpty() && System.nanoTime() < drainUntil) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    interrupted |= !stopped;
                    break;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            long end = System.nanoTime();
            double seconds = (end - start) / 1e9;
            double after = recallAt1();
            synchronized (metricsLock) {
                return new Summary(before, after, submitted, answered, failed, unmatched, seconds,
                        answered / Math.max(seconds, 1e-9), firstLoss, lastLoss,
                        runLatencies.percentile(0.50), runLatencies.percentile(0.99), modelStep());
            }
        } finally {
            trainingThread = null;
        }
    }

    private void onAnswer(EmbeddingBatch batch, GradientBatch g, Throwable error) {
        if (error != null || g == null) {
            forget(batch.batchId());
            synchronized (metricsLock) {
                failed++;
            }
            return;
        }
        long latency = Math.max(0, System.currentTimeMillis() - batch.createdMillis());
        boolean applied = g.batchId() == batch.batchId() && g.streamKey().equals(batch.streamKey()) && apply(g);
        synchronized (metricsLock) {
            if (!applied) {
                unmatched++;
                return;
            }
            answered++;
            intervalAnswers++;
            intervalLoss += g.loss();
            if (Double.isNaN(firstLoss)) {
                firstLoss = g.loss();
            }
            lastLoss = g.loss();
            intervalLatencies.add(latency);
            runLatencies.add(latency);
        }
    }

    private Progress report(long elapsedNanos, long intervalNanos) {
        double recall = recallAt1();
        synchronized (metricsLock) {
            double seconds = intervalNanos / 1e9;
            Progress p = new Progress(elapsedNanos / 1e9, submitted, answered,
                    intervalAnswers / Math.max(seconds, 1e-9),
                    intervalAnswers == 0 ? Double.NaN : intervalLoss / intervalAnswers, recall,
                    intervalLatencies.percentile(0.50), intervalLatencies.percentile(0.99), modelStep());
            intervalAnswers = 0;
            intervalLoss = 0;
            intervalLatencies.clear();
            return p;
        }
    }

    /** Ends {@link #train} soon (it still waits briefly for outstanding answers). Safe from any thread. */
    public void stop() {
        stopped = true;
        Thread t = trainingThread;
        if (t != null) {
            t.interrupt();
        }
    }

    public boolean isStopped() {
        return stopped;
    }

    /** The latest {@code capacity} latencies, for percentiles. */
    private static final class LatencyWindow {
        private final long[] values;
        private int size;
        private int next;

        LatencyWindow(int capacity) {
            values = new long[capacity];
        }

        void add(long v) {
            values[next] = v;
            next = (next + 1) % values.length;
            size = Math.min(size + 1, values.length);
        }

        void clear() {
            size = 0;
            next = 0;
        }

        /** Nearest-rank percentile; -1 when empty. */
        long percentile(double q) {
            if (size == 0) {
                return -1;
            }
            long[] sorted = Arrays.copyOf(values, size);
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(q * size) - 1;
            return sorted[Math.max(0, Math.min(size - 1, rank))];
        }
    }
}
