package io.tripletflow.bench;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code bin/tripletflow bench}: ms per batch of the CPU backend and of the plain port of the
 * seed's loops, side by side in one run, with GFLOP/s counted as {@code 4 N^2 D} useful FLOPs
 * (the two products, distances and gradients, a dense implementation needs).
 *
 * <p>Repetitions alternate between the two contenders so that noise on a shared machine hits
 * both alike. Seed parameters 4/2/0.5/0.5/1.0, counter generator, L2-normalised random rows,
 * labels in pairs from N/8 classes.
 */
public final class EngineBench {

    /** One way of running the mining step on a batch. */
    interface Contender extends AutoCloseable {
        void run(EmbeddingBatch batch) throws Exception;

        @Override
        default void close() {}
    }

    public static void main(String[] args) throws Exception {
        List<Integer> ns = new ArrayList<>();
        List<Integer> ds = new ArrayList<>();
        int repetitions = 7;
        boolean json = false;
        boolean withPlain = true;
        int threads = Runtime.getRuntime().availableProcessors();
        String backendKind = "cpu";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--n": ns.add(Integer.parseInt(args[++i])); break;
                case "--d": ds.add(Integer.parseInt(args[++i])); break;
                case "--repetitions": repetitions = Integer.parseInt(args[++i]); break;
                case "--threads": threads = Integer.parseInt(args[++i]); break;
                case "--json": json = true; break;
                case "--no-plain": withPlain = false; break;
                case "--backend": backendKind = args[++i]; break;
                default:
                    System.err.println("usage: tripletflow bench [--n N]... [--d D]... [--repetitions R] [--threads T] [--json] [--no-plain] [--backend cpu|gpu]");
                    System.exit(64);
            }
        }
        if (ns.isEmpty()) ns.addAll(List.of(128, 256, 512, 1024, 2048));
        if (ds.isEmpty()) ds.addAll(List.of(128, 512));
        MiningOptions options = MiningOptions.defaults();
        if (backendKind.equals("gpu")) {
            GpuBench.run(options, ns, ds, repetitions, threads, json);
            return;
        }
        if (!json) {
            try (CpuMiningBackend described = new CpuMiningBackend(options, threads)) {
                System.out.printf(Locale.ROOT, "# fast = %s; plain = the seed's loops ported to Java (tests' reference)%n# %s%n",
                        described.describe(), options);
            }
            System.out.printf(Locale.ROOT, "%6s %5s | %10s %18s %9s | %10s %18s %9s | %8s%n",
                    "N", "D", "fast ms", "(min..max)", "GFLOP/s", "plain ms", "(min..max)", "GFLOP/s", "speed-up");
        }
        warmUp(options, threads, withPlain);
        for (int d : ds) {
            for (int n : ns) {
                EmbeddingBatch batch = batch(n, d, 42);
                try (CpuMiningBackend backend = new CpuMiningBackend(options, threads)) {
                    Contender fast = backend::mine;
                    Contender plain = withPlain ? PlainSeedPort.contender(options) : null;
                    double[][] times = measure(batch, fast, plain, repetitions);
                    report(n, d, times[0], times[1], json);
                }
            }
        }
    }

    /** Lets the JIT compile both contenders before anything is timed (about two seconds). */
    private static void warmUp(MiningOptions options, int threads, boolean withPlain) throws Exception {
        EmbeddingBatch small = batch(256, 64, 7);
        try (CpuMiningBackend backend = new CpuMiningBackend(options, threads)) {
            long until = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < until) {
                backend.mine(small);
            }
        }
        if (withPlain) {
            Contender plain = PlainSeedPort.contender(options);
            for (int i = 0; i < 20; i++) {
                plain.run(small);
            }
        }
    }

    /** Alternates the contenders, two warm-up runs each, and returns ms per repetition. */
    static double[][] measure(EmbeddingBatch batch, Contender fast, Contender plain, int repetitions) throws Exception {
        double[] f = new double[repetitions];
        double[] p = plain == null ? null : new double[repetitions];
        for (int w = 0; w < 2; w++) {
            fast.run(batch);
            if (plain != null) plain.run(batch);
        }
        for (int r = 0; r < repetitions; r++) {
            f[r] = time(fast, batch);
            if (plain != null) p[r] = time(plain, batch);
        }
        return new double[][] {f, p};
    }

    private static double time(Contender c, EmbeddingBatch batch) throws Exception {
        long t0 = System.nanoTime();
        c.run(batch);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void report(int n, int d, double[] fast, double[] plain, boolean json) {
        double flops = 4.0 * n * n * d;
        double fm = median(fast);
        double pm = plain == null ? Double.NaN : median(plain);
        if (json) {
            System.out.printf(Locale.ROOT,
                    "{\"n\":%d,\"d\":%d,\"fast_ms\":%.4f,\"fast_min_ms\":%.4f,\"fast_max_ms\":%.4f,\"fast_gflops\":%.2f,"
                            + "\"plain_ms\":%.4f,\"plain_min_ms\":%.4f,\"plain_max_ms\":%.4f,\"plain_gflops\":%.2f,\"speedup\":%.2f,\"repetitions\":%d}%n",
                    n, d, fm, min(fast), max(fast), flops / fm / 1e6,
                    pm, plain == null ? Double.NaN : min(plain), plain == null ? Double.NaN : max(plain),
                    flops / pm / 1e6, pm / fm, fast.length);
        } else {
            System.out.printf(Locale.ROOT, "%6d %5d | %10.3f %18s %9.1f | %10s %18s %9s | %8s%n",
                    n, d, fm, String.format(Locale.ROOT, "(%.3f..%.3f)", min(fast), max(fast)), flops / fm / 1e6,
                    plain == null ? "-" : String.format(Locale.ROOT, "%.2f", pm),
                    plain == null ? "" : String.format(Locale.ROOT, "(%.2f..%.2f)", min(plain), max(plain)),
                    plain == null ? "" : String.format(Locale.ROOT, "%.1f", flops / pm / 1e6),
                    plain == null ? "-" : String.format(Locale.ROOT, "%.1fx", pm / fm));
        }
    }

    /** L2-normalised random rows, labels in pairs from N/8 classes. */
    static EmbeddingBatch batch(int n, int d, long seed) {
        Random random = new Random(seed);
        float[] f = new float[n * d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int k = 0; k < d; k++) {
                float v = (float) random.nextGaussian();
                f[i * d + k] = v;
                norm += v * v;
            }
            for (int k = 0; k < d; k++) {
                f[i * d + k] /= (float) Math.sqrt(norm);
            }
        }
        int classes = Math.max(2, n / 8);
        int[] labels = new int[n];
        for (int i = 0; i < n; i += 2) {
            labels[i] = random.nextInt(classes);
            if (i + 1 < n) labels[i + 1] = labels[i];
        }
        return new EmbeddingBatch("bench", 1, 0, 0, n, d, labels, f);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
