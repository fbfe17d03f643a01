package io.tripletflow.engine.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** Why a TaskManager has no GPU, said in one line (it lands in the log at every task start and in a metric). */
class CudaDeviceTest {

    @Test
    void withoutADriverTheReasonIsOneLineThatNamesTheMissingLibrary() {
        String reason = CudaDevice.unavailable(0);
        assumeTrue(reason != null, "this machine has a usable GPU: no reason to check");
        // Twice: the first load fails with UnsatisfiedLinkError, later ones with NoClassDefFoundError.
        for (String r : new String[] {reason, CudaDevice.unavailable(0)}) {
            assertThat(r.lines().count()).as(r).isEqualTo(1);
            assertThat(r).startsWith("no CUDA driver (").doesNotContain("\tat ").hasSizeLessThan(300);
        }
    }

    @Test
    void theCauseJCudasLoaderReportsLastIsKept() {
        String message = String.join("\n",
                "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"",
                "Operating system name: Linux",
                "---(start of nested stack traces)---",
                "Stack trace from the attempt to load the library as a file:",
                "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib",
                "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)",
                "Stack trace from the attempt to load the library as a resource:",
                "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: "
                        + "cannot open shared object file: No such file or directory",
                "\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)",
                "---(end of nested stack traces)---");
        assertThat(CudaDevice.why(new UnsatisfiedLinkError(message)))
                .isEqualTo("libcuda.so.1: cannot open shared object file: No such file or directory");
        assertThat(CudaDevice.why(new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver")))
                .isEqualTo("NoClassDefFoundError: Could not initialize class jcuda.driver.JCudaDriver");
    }
}
