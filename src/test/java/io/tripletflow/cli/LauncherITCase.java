package io.tripletflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/tripletflow} as an operator runs it: {@code local --no-trainer} started by the
 * launcher, stopped by SIGTERM to the launcher's PID. The JVM must be that process (not a child
 * the signal never reaches), shut down broker, job and cluster, and leave no process behind.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LauncherITCase {

    @TempDir
    Path target;

    @Test
    void sigtermToTheLauncherStopsTheLocalRunAndEveryProcessItStarted() throws Exception {
        Path repo = Path.of("").toAbsolutePath();
        prepareTarget(repo);
        ProcessBuilder pb = new ProcessBuilder(repo.resolve("bin/tripletflow").toString(), "local", "--no-trainer",
                "--kafka-port", "0", "--web-port", "0", "--forever")
                .redirectErrorStream(true);
        pb.environment().put("TRIPLETFLOW_TARGET", target.toString());
        Process launcher = pb.start();
        List<String> output = new ArrayList<>();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(launcher.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (output) {
                        output.add(line);
                    }
                    if (line.contains("Ctrl-C stops")) {
                        ready.complete(null);
                    }
                }
            } catch (Exception e) {
                ready.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(120, TimeUnit.SECONDS);
            ProcessHandle handle = launcher.toHandle();
            assertThat(handle.info().command().orElse("")).as("the launcher's PID runs java itself (exec)")
                    .endsWith("java");
            List<ProcessHandle> started = Stream.concat(Stream.of(handle), handle.descendants())
                    .collect(Collectors.toList());

            new ProcessBuilder("kill", "-TERM", Long.toString(launcher.pid())).start().waitFor();

            assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).as("the launcher ends on SIGTERM").isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (started.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(started.stream().filter(ProcessHandle::isAlive).map(p -> p.pid() + " "
                    + p.info().command().orElse("?")).toList()).as("processes left running").isEmpty();
            reader.join(5_000);
            synchronized (output) {
                assertThat(output).as(String.join("\n", output))
                        .anyMatch(l -> l.contains("tripletflow local: stopped"));
                assertThat(output).noneMatch(l -> l.contains("Using incubator modules"));
            }
        } finally {
            launcher.destroyForcibly();
            launcher.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** A target directory for the launcher made of this test run's class path (no build inside a test). */
    private void prepareTarget(Path repo) throws Exception {
        Path classes = repo.resolve("target/classes");
        String cp = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !Path.of(e).toAbsolutePath().equals(classes)
                        && !Path.of(e).toAbsolutePath().equals(repo.resolve("target/test-classes")))
                .collect(Collectors.joining(File.pathSeparator));
        Files.writeString(target.resolve("classpath.txt"), cp);
        Files.createSymbolicLink(target.resolve("classes"), classes);
        Files.createSymbolicLink(target.resolve("test-classes"), repo.resolve("target/test-classes"));
    }
}
