package io.tripletflow.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Python package's own unit tests ({@code python/tests}), run by the README's test command. */
class PythonUnitTestsTest {

    @Test
    void thePythonPackagesUnitTestsPass() throws Exception {
        Python.assumeModules("numpy", "torch");
        Python.Result r = Python.run(List.of(Python.PYTHON.toString(), "-B", "-m", "unittest", "discover",
                "-s", "python/tests", "-t", "python", "-v"), Map.of(), 300);
        System.out.println(r.output());
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("\nOK").doesNotContain("skipped");
    }
}
