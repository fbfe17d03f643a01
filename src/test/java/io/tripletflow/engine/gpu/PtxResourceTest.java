package io.tripletflow.engine.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import jcuda.nvptxcompiler.JNvPTXCompiler;
import jcuda.nvptxcompiler.nvPTXCompilerHandle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The shipped PTX: regenerated from the .cu source, loadable by CUDA 12 drivers, compilable for sm_80 and sm_90. */
class PtxResourceTest {

    static String shippedPtx() throws Exception {
        try (InputStream in = GpuMiningBackend.class.getResourceAsStream(GpuMiningBackend.PTX_RESOURCE)) {
            assertThat(in).as("PTX resource %s", GpuMiningBackend.PTX_RESOURCE).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void declaresAnIsaVersionThatCuda12DriversJit() throws Exception {
        String ptx = shippedPtx();
        assertThat(ptx).contains("\n.version 8.0\n").contains("\n.target sm_80\n");
        for (String kernel : GpuMiningBackend.KERNELS) {
            assertThat(ptx).as("kernel %s", kernel).contains(".entry " + kernel + "(");
        }
        // -fmad=false: the kernels that decide selections have no fused multiply-add, or distances
        // and hinges would round differently from Java (expf in the soft slope may use one).
        for (String kernel : new String[] {"gram", "diagonal", "distances", "mine"}) {
            int start = ptx.indexOf(".entry " + kernel + "(");
            int end = ptx.indexOf(".globl", start);
            assertThat(ptx.substring(start, end < 0 ? ptx.length() : end)).as("kernel %s", kernel).doesNotContain("fma.");
        }
    }

    @Test
    void matchesTheCudaSourceWhenNvccIsPresent(@TempDir Path dir) throws Exception {
        assumeTrue(onPath("nvcc"), "nvcc is not installed here: cannot regenerate the PTX to compare");
        Path regenerated = dir.resolve("regenerated.ptx");
        Process p = new ProcessBuilder("bash", "scripts/build-ptx.sh", regenerated.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(Files.readString(regenerated, StandardCharsets.US_ASCII))
                .as("src/main/resources/cuda/tripletflow.ptx is stale: run scripts/build-ptx.sh")
                .isEqualTo(shippedPtx());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sm_80", "sm_90"})
    void compilesWithJCudasPtxCompiler(String arch) throws Exception {
        byte[] ptx = (shippedPtx() + "\0").getBytes(StandardCharsets.US_ASCII);
        JNvPTXCompiler.setExceptionsEnabled(true);
        nvPTXCompilerHandle compiler = new nvPTXCompilerHandle();
        JNvPTXCompiler.nvPTXCompilerCreate(compiler, ptx.length, ptx);
        try {
            JNvPTXCompiler.nvPTXCompilerCompile(compiler, 1, new String[] {"--gpu-name=" + arch});
            long[] size = new long[1];
            JNvPTXCompiler.nvPTXCompilerGetCompiledProgramSize(compiler, size);
            assertThat(size[0]).as("cubin bytes for %s", arch).isGreaterThan(1000);
        } finally {
            JNvPTXCompiler.nvPTXCompilerDestroy(compiler);
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
