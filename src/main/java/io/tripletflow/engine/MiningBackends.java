package io.tripletflow.engine;

import io.tripletflow.engine.cpu.CpuMiningBackend;
import java.util.Locale;

/**
 * Chooses the backend of a mining operator: {@code auto} (the GPU when a driver and a device are
 * there, the CPU otherwise), {@code cpu} or {@code gpu} (an error when no GPU can be used).
 */
public final class MiningBackends {
    private MiningBackends() {}

    /** The backend asked for, and why auto chose what it chose. */
    public static final class Choice {
        public final MiningBackend backend;
        public final String reason;

        Choice(MiningBackend backend, String reason) {
            this.backend = backend;
            this.reason = reason;
        }
    }

    public static Choice create(String kind, MiningOptions options, int cpuThreads) {
        switch (kind.trim().toLowerCase(Locale.ROOT)) {
            case "cpu":
                return new Choice(new CpuMiningBackend(options, cpuThreads), "backend = cpu");
            case "auto":
                return new Choice(new CpuMiningBackend(options, cpuThreads),
                        "backend = auto: no GPU backend in this build, using the CPU");
            case "gpu":
                throw new IllegalStateException("backend = gpu, but this build has no GPU backend yet; "
                        + "use backend = auto or cpu");
            default:
                throw new IllegalArgumentException("backend must be auto, cpu or gpu, got '" + kind + "'");
        }
    }
}
