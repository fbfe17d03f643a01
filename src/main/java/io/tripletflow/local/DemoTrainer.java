package io.tripletflow.local;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.local.demo.AnchorPositiveBatches;
import io.tripletflow.local.demo.ClassConditionedData;
import io.tripletflow.local.demo.HeldOutRecall;
import io.tripletflow.local.demo.LinearEmbeddingModel;
import io.tripletflow.trainer.GradientService;
import java.time.Duration;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A small embedding model that really trains through tripletflow: the job mines triplets in the
 * embeddings it publishes and answers with d loss / d embeddings, which this class back-propagates
 * into its weights. It puts together the pieces in {@link io.tripletflow.local.demo}:
 *
 * <ul>
 *   <li><b>Data.</b> {@link ClassConditionedData}: {@code C} classes in {@code I} input dimensions,
 *       hidden under a strong nuisance shared by all classes.</li>
 *   <li><b>Model.</b> {@link LinearEmbeddingModel}: {@code u = W x / |W x|}; the published
 *       embeddings are the unit vectors {@code u}.</li>
 *   <li><b>Batches.</b> {@link AnchorPositiveBatches}: {@code N} rows in anchor/positive pairs; each
 *       answer {@code g = dL/du} is back-propagated with the inputs of its batch (delayed SGD).</li>
 *   <li><b>Training.</b> {@link #train}: several batches in flight at once through a
 *       {@link GradientService} ({@link GradientService#submit} blocks when too many are).</li>
 *   <li><b>Evaluation.</b> {@link HeldOutRecall}: recall@1 on a fixed held-out set.</li>
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
 * their futures. The weights are guarded by a lock, so that is safe. The data set, the model and
 * the batches take their settings when the trainer is made.
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

    private final Settings settings;
    private final LinearEmbeddingModel model;
    private final HeldOutRecall heldOut;
    private final AnchorPositiveBatches batches;
    private final TrainingStatistics statistics = new TrainingStatistics();

    private volatile boolean stopped;
    private volatile Thread trainingThread;

    public DemoTrainer(Settings settings) {
        this.settings = Objects.requireNonNull(settings);
        // One generator draws the data set and then the initial weights: the seed fixes both.
        Random random = new Random(settings.seed);
        ClassConditionedData data = new ClassConditionedData(random, settings.classes, settings.inputDimension,
                settings.nuisanceRank, settings.nuisanceScale, settings.noise);
        model = LinearEmbeddingModel.initial(random, settings.dimension, settings.inputDimension);
        heldOut = new HeldOutRecall(data, settings.heldOutPerClass, new Random(settings.seed ^ 0x5DEECE66DL));
        batches = new AnchorPositiveBatches(data, model, settings.streamKey, settings.batchRows,
                settings.learningRate, new Random(settings.seed * 31 + 17));
    }

    public Settings settings() {
        return settings;
    }

    /** A copy of {@code W} ({@code dimension x inputDimension}, row-major). */
    public float[] weights() {
        return model.weights();
    }

    /** Parameter updates applied so far. */
    public long modelStep() {
        return model.step();
    }

    /**
     * The next batch: {@code batchRows / 2} anchor/positive pairs of random classes, embedded with
     * the current weights. Remembers what {@link #apply} needs to back-propagate its answer.
     */
    public EmbeddingBatch nextBatch() {
        return batches.next();
    }

    /**
     * Back-propagates an answer into the weights (one SGD step).
     *
     * @return false (and nothing changes) if the answer matches no batch of this trainer that is
     *         still waiting: another stream key, an unknown or already applied batch id, or the
     *         wrong shape
     */
    public boolean apply(GradientBatch g) {
        return batches.apply(g);
    }

    /** Recall@1 of the current weights on the held-out set. */
    public double recallAt1() {
        return heldOut.recallAt1(model);
    }

    /**
     * Trains for {@code duration} ({@code null}: until {@link #stop()}), publishing batches through
     * {@code service} as fast as it accepts them, then waits up to the drain timeout for the
     * outstanding answers. Calls {@code progress} every progress interval (on this thread).
     */
    public Summary train(GradientService service, Duration duration, Consumer<Progress> progress) {
        Objects.requireNonNull(service, "service");
        trainingThread = Thread.currentThread();
        try {
            return new TrainingLoop(this, batches, statistics, service).run(duration, progress);
        } finally {
            trainingThread = null;
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
}
