package io.tripletflow.engine.backends;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tripletflow.engine.MiningBackend;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.gpu.CudaDevice;
import org.junit.jupiter.api.Test;

/** backend = auto | cpu | gpu: what each gives, and why. */
class MiningBackendsTest {

    @Test
    void autoFallsBackToTheCpuAndSaysWhyWithoutAGpu() {
        String unavailable = CudaDevice.unavailable(0);
        assumeTrue(unavailable != null, "this machine has a GPU: the fallback is not exercised");
        MiningBackends.Choice choice = MiningBackends.create("auto", MiningOptions.defaults(), 1, 0);
        try (MiningBackend backend = choice.backend) {
            assertThat(backend.describe()).startsWith("cpu (");
            assertThat(choice.reason).startsWith("backend = auto: CPU, because ").contains("no CUDA driver");
        }
    }

    @Test
    void gpuFailsAtStartWithAClearMessageWithoutAGpu() {
        String unavailable = CudaDevice.unavailable(0);
        assumeTrue(unavailable != null, "this machine has a GPU: the failure is not exercised");
        assertThatThrownBy(() -> MiningBackends.create("gpu", MiningOptions.defaults(), 1, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("backend = gpu, but no CUDA driver")
                .hasMessageEndingWith("use backend = auto or cpu");
    }

    @Test
    void optionsTheGpuDoesNotRunStayOnTheCpu() {
        MiningOptions replay = MiningOptions.builder().rng(RngKind.SEED_COMPAT).build();
        MiningBackends.Choice choice = MiningBackends.create("auto", replay, 1, 0);
        try (MiningBackend backend = choice.backend) {
            assertThat(backend.describe()).startsWith("cpu (");
            assertThat(choice.reason).contains("rng = seed-compat").contains("CPU only");
        }
        assertThatThrownBy(() -> MiningBackends.create("gpu", replay, 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backend = gpu: rng = seed-compat");
    }

    @Test
    void cpuIsTheCpuAndUnknownKindsAreErrors() {
        try (MiningBackend backend = MiningBackends.create("CPU", MiningOptions.defaults(), 1, 0).backend) {
            assertThat(backend.describe()).startsWith("cpu (");
        }
        assertThatThrownBy(() -> MiningBackends.create("tpu", MiningOptions.defaults(), 1, 0))
                .hasMessage("backend must be auto, cpu or gpu, got 'tpu'");
    }

    @Test
    void memoryPositivesRunOnTheCpu() {
        MiningOptions memory = MiningOptions.builder().memoryRows(128).memoryPositives(true).build();
        MiningBackends.Choice choice = MiningBackends.create("auto", memory, 1, 0);
        try (MiningBackend backend = choice.backend) {
            assertThat(backend.describe()).startsWith("cpu (");
            assertThat(choice.reason).contains("memory-positives = true").contains("CPU only");
        }
        assertThatThrownBy(() -> MiningBackends.create("gpu", memory, 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backend = gpu: memory-positives = true");
    }
}
