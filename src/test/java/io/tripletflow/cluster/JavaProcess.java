package io.tripletflow.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A JVM that a test started itself ({@code java <options> -cp <class path> <main> <args>}), with
 * its output in a log file. It is ended by its PID: {@link #kill()} is {@code kill -9};
 * {@link #close()} kills it if it still runs. Every process still running when the test JVM
 * exits (a test that timed out, a failed {@code @AfterAll}) is killed by a shutdown hook.
 */
final class JavaProcess implements AutoCloseable {
    private static final Set<JavaProcess> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(p -> p.process.destroyForcibly()),
                "kill test processes"));
    }

    private final String name;
    private final List<String> command;
    private final Process process;
    private final Path output;

    private JavaProcess(String name, List<String> command, Process process, Path output) {
        this.name = name;
        this.command = List.copyOf(command);
        this.process = process;
        this.output = output;
    }

    /**
     * Starts {@code mainClass}; stdout and stderr go (appended) to {@code output}.
     *
     * @param environment extra environment variables
     */
    static JavaProcess start(String name, List<String> jvmOptions, List<Path> classPath, String mainClass,
                             List<String> args, Path output, Map<String, String> environment) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(String.join(java.io.File.pathSeparator, classPath.stream().map(Path::toString).toList()));
        command.add(mainClass);
        command.addAll(args);
        try {
            Files.createDirectories(output.getParent());
            Files.writeString(output, "# " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(environment);
            JavaProcess p = new JavaProcess(name, command, pb.start(), output);
            RUNNING.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name, e);
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    /** The command line it was started with. */
    List<String> command() {
        return command;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** {@code kill -9}: no shutdown hook, no goodbye to anyone; returns once the process is gone. */
    void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " (pid " + pid() + ") survived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        RUNNING.remove(this);
    }

    /** Waits for the process to exit and returns its status; kills it past {@code timeout}. */
    int await(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
                throw new IllegalStateException(name + " did not finish within " + timeout + ":\n" + output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        RUNNING.remove(this);
        return process.exitValue();
    }

    /** What it wrote to stdout and stderr so far. */
    String output() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
        RUNNING.remove(this);
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + ")";
    }
}
