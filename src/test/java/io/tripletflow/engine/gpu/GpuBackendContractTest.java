package io.tripletflow.engine.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tripletflow.engine.MiningBackend;
import io.tripletflow.engine.MiningBackendContract;
import io.tripletflow.engine.MiningOptions;
import org.junit.jupiter.api.BeforeEach;

/** The backend contract on the GPU backend; skipped, with the reason, where there is no GPU. */
class GpuBackendContractTest extends MiningBackendContract {

    @BeforeEach
    void needsAGpu() {
        String unavailable = CudaDevice.unavailable(0);
        assumeTrue(unavailable == null, "GPU contract not run: " + unavailable);
    }

    @Override
    protected MiningBackend backend(MiningOptions options) {
        return GpuMiningBackend.unsupported(options) != null ? null : new GpuMiningBackend(options, 0);
    }
}
