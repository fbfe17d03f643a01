package io.tripletflow.bench;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.local.demo.HeldOutRecall;
import io.tripletflow.local.demo.LinearEmbeddingModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * What the cross-batch memory does for the embedding a trainer learns, on real data: scikit-learn's
 * handwritten digits (1797 images of 8 x 8, shipped inside scikit-learn, read through
 * {@code /usr/bin/python3}), a linear embedding of 64 pixels into D = 32 on the unit sphere
 * trained with the job's gradients (the engine in this JVM, the same code the job runs), small
 * batches of N = 16 (8 anchor-positive pairs of 8 classes). For each seed the same model start,
 * the same batches and the same number of steps, with and without a memory; recall@1 on held-out
 * images at the end. Prints a table, the mean gain and its spread over seeds.
 *
 * <pre>java -cp target/classes:target/test-classes:$(cat target/classpath.txt) --add-modules jdk.incubator.vector \
 *     io.tripletflow.bench.MemoryQualityBench [--seeds 5] [--batches 300] [--memory-rows 512] [--warm-up 20]
 *     [--miner rank-hard] [--learning-rate 1.0] [--classes-per-batch 8]</pre>
 */
public final class MemoryQualityBench {
    private static int CLASSES_PER_BATCH = 8;
    private static final int DIMENSION = 32;

    public static void main(String[] args) throws Exception {
        int seeds = 5;
        int batches = 300;
        int memoryRows = 512;
        int warmUp = 20;
        double learningRate = 1.0;
        String miner = "rank-hard";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seeds": seeds = Integer.parseInt(args[++i]); break;
                case "--batches": batches = Integer.parseInt(args[++i]); break;
                case "--memory-rows": memoryRows = Integer.parseInt(args[++i]); break;
                case "--warm-up": warmUp = Integer.parseInt(args[++i]); break;
                case "--learning-rate": learningRate = Double.parseDouble(args[++i]); break;
                case "--miner": miner = args[++i]; break;
                case "--classes-per-batch": CLASSES_PER_BATCH = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: MemoryQualityBench [--seeds S] [--batches B] [--memory-rows M] [--warm-up W] "
                            + "[--miner rank-hard|semi-hard|batch-hard|batch-all] [--learning-rate L] [--classes-per-batch C]");
                    System.exit(64);
            }
        }
        Digits digits = Digits.load();
        MiningOptions base = MiningOptions.builder()
                .miner(io.tripletflow.engine.miner.MinerKind.valueOf(miner.toUpperCase(Locale.ROOT).replace('-', '_'))).build();
        MiningOptions withMemory = base.toBuilder().memoryRows(memoryRows).memoryWarmUp(warmUp).build();
        System.out.printf(Locale.ROOT, "# digits (%d images, %d classes), linear 64 -> %d on the unit sphere, N = %d, "
                        + "%d batches, learning rate %s%n# memory: %d rows, warm-up %d batches; %s%n",
                digits.rows(), 10, DIMENSION, 2 * CLASSES_PER_BATCH, batches, learningRate, memoryRows, warmUp, base);
        System.out.printf(Locale.ROOT, "%5s | %14s | %14s | %7s | %s%n", "seed", "recall@1 plain", "with memory", "gain",
                "memory negatives / triplets (last 50 batches)");
        double[] gains = new double[seeds];
        double[] plainRecalls = new double[seeds];
        double[] memoryRecalls = new double[seeds];
        for (int seed = 0; seed < seeds; seed++) {
            Split split = digits.split(new Random(1000 + seed), 0.3);
            double plain = train(split, base, batches, learningRate, seed, null);
            double[] share = new double[1];
            double memory = train(split, withMemory, batches, learningRate, seed, share);
            plainRecalls[seed] = plain;
            memoryRecalls[seed] = memory;
            gains[seed] = memory - plain;
            System.out.printf(Locale.ROOT, "%5d | %14.3f | %14.3f | %+7.3f | %.2f%n", seed, plain, memory, memory - plain, share[0]);
        }
        System.out.printf(Locale.ROOT, "# mean recall@1: plain %.3f, with memory %.3f; gain %+.3f (standard deviation %.3f, "
                        + "min %+.3f, max %+.3f over %d seeds)%n", mean(plainRecalls), mean(memoryRecalls), mean(gains),
                sd(gains), Arrays.stream(gains).min().orElse(0), Arrays.stream(gains).max().orElse(0), seeds);
    }

    /** Trains from the seed's start on the seed's batches; returns held-out recall@1. */
    static double train(Split split, MiningOptions options, int batches, double learningRate, int seed, double[] memoryShare)
            throws Exception {
        Random random = new Random(seed);
        LinearEmbeddingModel model = LinearEmbeddingModel.initial(new Random(seed * 31L + 7), DIMENSION, 64);
        CrossBatchMemory memory = options.memoryRows() > 0 ? new CrossBatchMemory(options.memoryRows()) : null;
        Random batchRandom = new Random(seed * 17L + 3);
        long memoryNegatives = 0;
        long triplets = 0;
        try (CpuMiningBackend backend = new CpuMiningBackend(options, 1)) {
            for (int b = 0; b < batches; b++) {
                int n = 2 * CLASSES_PER_BATCH;
                float[] x = new float[n * 64];
                int[] labels = new int[n];
                List<Integer> classes = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
                Collections.shuffle(classes, batchRandom);
                for (int c = 0; c < CLASSES_PER_BATCH; c++) {
                    int[] ofClass = split.trainByClass.get(classes.get(c));
                    for (int r = 0; r < 2; r++) {
                        int row = ofClass[batchRandom.nextInt(ofClass.length)];
                        System.arraycopy(split.trainX, row * 64, x, (2 * c + r) * 64, 64);
                        labels[2 * c + r] = classes.get(c);
                    }
                }
                LinearEmbeddingModel.Embedding e = model.embed(x, n);
                EmbeddingBatch batch = new EmbeddingBatch("digits", b, e.step(), 0, n, DIMENSION, labels, e.units());
                MemoryRows rows = memory == null ? MemoryRows.none()
                        : memory.eligible(batch.modelStep(), DIMENSION, options.memoryWarmUp(), options.memoryMaxAge());
                MiningResult result = backend.mine(batch, rows);
                if (b >= batches - 50) {
                    memoryNegatives += result.statistics().memoryNegatives();
                    triplets += result.statistics().triplets();
                }
                float[] gradient = Arrays.copyOf(result.gradients(), n * DIMENSION);
                if (memory != null) {
                    memory.enqueue(batch);
                }
                model.descend(x, e.outputs(), gradient, n, learningRate);
            }
        }
        if (memoryShare != null) {
            memoryShare[0] = triplets == 0 ? 0 : (double) memoryNegatives / triplets;
        }
        LinearEmbeddingModel.Embedding held = model.embed(split.testX, split.testLabels.length);
        return HeldOutRecall.recallAt1(held.units(), split.testLabels, split.testLabels.length, DIMENSION);
    }

    /** The digits: pixels scaled to [0, 1], and labels. */
    record Digits(float[] x, int[] labels) {
        int rows() {
            return labels.length;
        }

        static Digits load() throws Exception {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                    "from sklearn.datasets import load_digits\n"
                            + "d = load_digits()\n"
                            + "for row, label in zip(d.data, d.target):\n"
                            + "    print(int(label), ' '.join(str(int(v)) for v in row))\n")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            List<int[]> rows = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    rows.add(Arrays.stream(line.trim().split(" ")).mapToInt(Integer::parseInt).toArray());
                }
            }
            if (p.waitFor() != 0 || rows.isEmpty()) {
                throw new IllegalStateException("could not read scikit-learn's digits through /usr/bin/python3 "
                        + "(apt-get install python3-sklearn)");
            }
            float[] x = new float[rows.size() * 64];
            int[] labels = new int[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                labels[i] = rows.get(i)[0];
                for (int k = 0; k < 64; k++) {
                    x[i * 64 + k] = rows.get(i)[k + 1] / 16f;
                }
            }
            return new Digits(x, labels);
        }

        Split split(Random random, double heldOut) {
            Integer[] order = new Integer[rows()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Collections.shuffle(Arrays.asList(order), random);
            int test = (int) (rows() * heldOut);
            float[] testX = new float[test * 64];
            int[] testLabels = new int[test];
            float[] trainX = new float[(rows() - test) * 64];
            List<List<Integer>> byClass = new ArrayList<>();
            for (int c = 0; c < 10; c++) byClass.add(new ArrayList<>());
            for (int i = 0; i < order.length; i++) {
                int row = order[i];
                if (i < test) {
                    System.arraycopy(x, row * 64, testX, i * 64, 64);
                    testLabels[i] = labels[row];
                } else {
                    int t = i - test;
                    System.arraycopy(x, row * 64, trainX, t * 64, 64);
                    byClass.get(labels[row]).add(t);
                }
            }
            List<int[]> trainByClass = new ArrayList<>();
            for (List<Integer> c : byClass) trainByClass.add(c.stream().mapToInt(Integer::intValue).toArray());
            return new Split(trainX, trainByClass, testX, testLabels);
        }
    }

    record Split(float[] trainX, List<int[]> trainByClass, float[] testX, int[] testLabels) {}

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(0);
    }

    private static double sd(double[] v) {
        double m = mean(v);
        return Math.sqrt(Arrays.stream(v).map(a -> (a - m) * (a - m)).sum() / Math.max(1, v.length - 1));
    }
}
