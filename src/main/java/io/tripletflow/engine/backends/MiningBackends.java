package io.tripletflow.engine.backends;

import io.tripletflow.engine.MiningBackend;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.gpu.GpuMiningBackend;
import java.util.Locale;

/**
 * Chooses the backend of a mining operator: {@code auto} (the GPU when a driver, a device and
 * GPU support for the options are there, the CPU otherwise, with the reason), {@code cpu}, or
 * {@code gpu} (an error naming what is missing).
 */
public final class MiningBackends {
    private MiningBackends() {}

    /** The backend, and why it is the one: shown in logs and as a metric. */
    public static final class Choice {
        public final MiningBackend backend;
        public final String reason;

        Choice(MiningBackend backend, String reason) {
            this.backend = backend;
            this.reason = reason;
        }
    }

    public static Choice create(String kind, MiningOptions options, int cpuThreads, int gpuDevice) {
        switch (kind.trim().toLowerCase(Locale.ROOT)) {
            case "cpu":
                return new Choice(new CpuMiningBackend(options, cpuThreads), "backend = cpu");
            case "gpu":
                try {
                    return new Choice(new GpuMiningBackend(options, gpuDevice), "backend = gpu");
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("backend = gpu: " + e.getMessage() + "; use backend = auto or cpu", e);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException("backend = gpu, but " + e.getMessage() + "; use backend = auto or cpu", e);
                }
            case "auto": {
                String why;
                try {
                    return new Choice(new GpuMiningBackend(options, gpuDevice), "backend = auto: GPU device " + gpuDevice);
                } catch (IllegalArgumentException | IllegalStateException e) {
                    why = e.getMessage();
                } catch (RuntimeException | LinkageError e) {
                    why = "the GPU backend failed to start: " + e;
                }
                return new Choice(new CpuMiningBackend(options, cpuThreads), "backend = auto: CPU, because " + why);
            }
            default:
                throw new IllegalArgumentException("backend must be auto, cpu or gpu, got '" + kind + "'");
        }
    }
}
