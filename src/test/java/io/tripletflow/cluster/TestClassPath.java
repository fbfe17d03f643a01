package io.tripletflow.cluster;

import io.tripletflow.job.TripletFlowJob;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * The test run's class path, split the way a deployment splits it: Flink's distribution (what
 * {@code flink-dist} and {@code lib/} would hold), a Kafka installation's {@code libs/}, and the
 * job: its classes and the dependencies its jar bundles ({@code target/job-classpath.txt}, written
 * by Maven before the tests: the compile and runtime scope, as the shade plugin packs them).
 */
final class TestClassPath {
    /** Test frameworks: on no server's class path. */
    private static final List<String> TEST_ONLY = List.of("junit-", "opentest4j-", "apiguardian-", "assertj-",
            "hamcrest-", "surefire-", "common-java5-", "common-junit", "testcontainers-", "docker-java-",
            "duct-tape-", "jna-", "curator-test-", "flink-test-utils");
    /** Kafka's server, tools and client, and Scala: not in a Flink distribution. */
    private static final List<String> KAFKA = List.of("kafka_", "kafka-", "scala-", "argparse4j-", "jopt-simple-",
            "jose4j-", "metrics-core-2", "pcollections-", "zookeeper-3", "zookeeper-jute-");
    /** The job's own dependencies that no Flink distribution ships: they travel with the job. */
    private static final List<String> JOB_ONLY = List.of("flink-connector-kafka-", "jcuda-");

    private TestClassPath() {}

    static List<Path> entries() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isBlank()).map(Path::of).toList();
    }

    /** The JobManager's, TaskManagers' and {@code flink} client's class path. */
    static List<Path> flink() {
        return jars(name -> !startsWithAny(name, TEST_ONLY) && !startsWithAny(name, KAFKA)
                && !startsWithAny(name, JOB_ONLY) && !name.endsWith("-tests.jar"));
    }

    /** The broker's class path ({@code kafka.Kafka}, {@code kafka.tools.StorageTool}). */
    static List<Path> kafka() {
        return jars(name -> !startsWithAny(name, TEST_ONLY) && !name.startsWith("flink-")
                && !name.startsWith("frocksdbjni-") && !name.startsWith("jcuda"));
    }

    /** The job's classes ({@code target/classes}, or wherever {@code build.dir} put them). */
    static Path jobClasses() {
        try {
            return Path.of(TripletFlowJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The build directory ({@code target}). */
    static Path buildDirectory() {
        return jobClasses().getParent();
    }

    /** What the job jar bundles besides its classes (the shade plugin's set), as written by Maven. */
    static List<Path> jobDependencies() {
        Path file = buildDirectory().resolve("job-classpath.txt");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " is missing: run the tests through Maven "
                    + "(mvn test), whose generate-test-resources phase writes it");
        }
        try {
            return Arrays.stream(Files.readString(file).trim().split(File.pathSeparator))
                    .filter(s -> !s.isBlank()).map(Path::of).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> jars(Predicate<String> keep) {
        return entries().stream()
                .filter(p -> p.getFileName().toString().endsWith(".jar"))
                .filter(p -> keep.test(p.getFileName().toString()))
                .toList();
    }

    private static boolean startsWithAny(String name, List<String> prefixes) {
        return prefixes.stream().anyMatch(name::startsWith);
    }
}
