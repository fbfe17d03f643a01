package io.tripletflow.stats;

import io.tripletflow.deploy.JobHarness;
import io.tripletflow.testutils.KafkaTestUtils.KV;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.core.execution.SavepointFormatType;

/**
 * The input behind the statistics tests, and the savepoint of it that the code of tripletflow 0.1
 * wrote, kept in {@link #DIR} so that every later version must restore it (as Flink's own
 * migration tests keep savepoints of old versions). Three stream keys, {@link #BATCHES} valid
 * batches each (ids and model steps 1..n) and one corrupt batch of {@code gamma}.
 *
 * <p>{@link #main} writes the fixture again; run it only to add a fixture of a new state layout,
 * never to replace this one: {@code java -cp target/classes:target/test-classes:$(cat
 * target/classpath.txt) io.tripletflow.stats.StatisticsSavepointFixture}.
 */
public final class StatisticsSavepointFixture {
    /** A canonical savepoint taken by the 0.1 job (operator uids and state names of that version). */
    public static final Path DIR = Path.of("src/test/resources/savepoints/statistics-0.1");
    public static final Map<String, Integer> BATCHES = new LinkedHashMap<>(Map.of("alpha", 5, "beta", 3, "gamma", 2));
    public static final int ROWS = 8;
    public static final int DIMENSION = 4;

    private StatisticsSavepointFixture() {}

    /** The records behind the fixture, in the order they were published (same keys, same partitions). */
    public static List<KV> input() {
        List<KV> input = new ArrayList<>();
        BATCHES.forEach((key, n) -> input.addAll(JobHarness.batches(key, n, ROWS, DIMENSION, key.hashCode())));
        byte[] corrupt = JobHarness.batches("gamma", 1, ROWS, DIMENSION, 9).get(0).value().clone();
        corrupt[60] ^= 1;   // BAD_CRC: a dead letter of stream gamma
        input.add(new KV("gamma".getBytes(StandardCharsets.UTF_8), corrupt));
        return input;
    }

    /** The next valid batch of a key after the fixture's: id and model step {@code BATCHES.get(key) + 1}. */
    public static KV nextBatch(String key) {
        int n = BATCHES.get(key) + 1;
        List<KV> all = JobHarness.batches(key, n, ROWS, DIMENSION, key.hashCode());
        return all.get(n - 1);
    }

    /** Runs the job over {@link #input()}, takes a canonical savepoint and copies it to {@code args[0]} (default {@link #DIR}). */
    public static void main(String[] args) throws Exception {
        Path target = args.length > 0 ? Path.of(args[0]) : DIR;
        try (JobHarness job = JobHarness.start(Map.of())) {
            job.produce(input());
            int valid = BATCHES.values().stream().mapToInt(Integer::intValue).sum();
            if (job.awaitRecords(JobHarness.GRADIENTS, valid, Duration.ofSeconds(60)).size() < valid
                    || job.awaitRecords(JobHarness.DEAD_LETTERS, 1, Duration.ofSeconds(30)).isEmpty()) {
                throw new IllegalStateException("the job did not answer the fixture's input");
            }
            Thread.sleep(1500); // statistics state is updated with each batch; let a checkpoint pass
            Path tmp = Files.createTempDirectory("tripletflow-fixture-");
            String savepoint = job.client().triggerSavepoint(tmp.toUri().toString(), SavepointFormatType.CANONICAL)
                    .get(60, TimeUnit.SECONDS);
            Path source = Path.of(java.net.URI.create(savepoint.startsWith("file:") ? savepoint : "file://" + savepoint));
            Files.createDirectories(target);
            try (Stream<Path> files = Files.list(source)) {
                for (Path f : files.toList()) {
                    Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            System.out.println("savepoint " + savepoint + " copied to " + target);
        }
        System.exit(0);
    }
}
