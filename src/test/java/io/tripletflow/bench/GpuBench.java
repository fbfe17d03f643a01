package io.tripletflow.bench;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.gpu.CudaDevice;
import io.tripletflow.engine.gpu.GpuMiningBackend;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code bin/tripletflow bench --backend gpu}: the GPU backend's full step (transfers included)
 * beside the CPU backend in the same run, with upload, device work and download shown apart.
 */
final class GpuBench {
    private GpuBench() {}

    static void run(MiningOptions options, List<Integer> ns, List<Integer> ds, int repetitions, int threads, boolean json)
            throws Exception {
        String unavailable = CudaDevice.unavailable(0);
        if (unavailable != null) {
            System.out.println("# GPU bench not run: " + unavailable);
            return;
        }
        try (GpuMiningBackend gpu = new GpuMiningBackend(options, 0)) {
            if (!json) {
                System.out.printf(Locale.ROOT, "# gpu = %s (transfers included); cpu = cpu backend, %d threads%n# %s%n",
                        gpu.describe(), threads, options);
                System.out.printf(Locale.ROOT, "%6s %5s | %10s %18s %9s | %8s %9s %8s | %10s %9s | %8s%n", "N", "D",
                        "gpu ms", "(min..max)", "GFLOP/s", "up ms", "device ms", "down ms", "cpu ms", "GFLOP/s", "speed-up");
            }
            for (int d : ds) {
                for (int n : ns) {
                    EmbeddingBatch batch = EngineBench.batch(n, d, 42);
                    try (CpuMiningBackend cpu = new CpuMiningBackend(options, threads)) {
                        double[][] phases = new double[3][repetitions];
                        int[] r = {0};
                        EngineBench.Contender onGpu = b -> {
                            gpu.mine(b);
                            if (r[0] >= 2 && r[0] - 2 < repetitions) {
                                float[] p = gpu.lastPhaseMillis();
                                for (int k = 0; k < 3; k++) phases[k][r[0] - 2] = p[k];
                            }
                            r[0]++;
                        };
                        double[][] times = EngineBench.measure(batch, onGpu, cpu::mine, repetitions);
                        report(n, d, times[0], times[1], phases, json);
                    }
                }
            }
        }
    }

    private static void report(int n, int d, double[] gpu, double[] cpu, double[][] phases, boolean json) {
        double flops = 4.0 * n * n * d;
        double g = median(gpu);
        double c = median(cpu);
        if (json) {
            System.out.printf(Locale.ROOT, "{\"backend\":\"gpu\",\"n\":%d,\"d\":%d,\"gpu_ms\":%.4f,\"gpu_min_ms\":%.4f,"
                            + "\"gpu_max_ms\":%.4f,\"gpu_gflops\":%.2f,\"upload_ms\":%.4f,\"device_ms\":%.4f,\"download_ms\":%.4f,"
                            + "\"cpu_ms\":%.4f,\"cpu_gflops\":%.2f,\"speedup\":%.2f}%n",
                    n, d, g, min(gpu), max(gpu), flops / g / 1e6, median(phases[0]), median(phases[1]), median(phases[2]),
                    c, flops / c / 1e6, c / g);
        } else {
            System.out.printf(Locale.ROOT, "%6d %5d | %10.3f %18s %9.1f | %8.3f %9.3f %8.3f | %10.2f %9.1f | %7.1fx%n",
                    n, d, g, String.format(Locale.ROOT, "(%.3f..%.3f)", min(gpu), max(gpu)), flops / g / 1e6,
                    median(phases[0]), median(phases[1]), median(phases[2]), c, flops / c / 1e6, c / g);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
