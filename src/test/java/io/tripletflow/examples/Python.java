package io.tripletflow.examples;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's {@code /usr/bin/python3} with its numpy and confluent_kafka (python3-numpy,
 * python3-confluent-kafka; .ci/run installs them), which the examples run with: the
 * {@code python3} first on PATH may be another one without them.
 */
final class Python {
    static final Path PYTHON = Path.of("/usr/bin/python3");

    private Python() {}

    /** Skips the calling test, saying why, unless /usr/bin/python3 imports every module. */
    static void assumeModules(String... modules) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON),
                "skipped: no /usr/bin/python3 (apt-get install python3-numpy python3-confluent-kafka)");
        Result r = run(List.of(PYTHON.toString(), "-c", "import " + String.join(", ", modules)), Map.of(), 60);
        Assumptions.assumeTrue(r.exit() == 0, "skipped: /usr/bin/python3 cannot import " + String.join(", ", modules)
                + " (apt-get install python3-numpy python3-confluent-kafka): " + r.output().strip());
    }

    record Result(int exit, String output) {}

    /** Runs a command (stdout and stderr together), killing it after {@code timeoutSeconds}. */
    static Result run(List<String> command, Map<String, String> env, long timeoutSeconds) throws Exception {
        Path log = Files.createTempFile("python-", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return new Result(124, Files.readString(log, StandardCharsets.UTF_8) + "\n[killed after "
                        + timeoutSeconds + " s]");
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
