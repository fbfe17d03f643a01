package io.tripletflow.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.deploy.JobHarness;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code examples/python/trainer.py} (numpy + confluent_kafka, run with /usr/bin/python3) trains
 * against the real job: an embedded broker and the job on an in-JVM Flink cluster (exactly-once,
 * RocksDB), as {@code bin/tripletflow local --no-trainer} runs them. The trainer must receive an
 * answer for every batch, print progress and a summary, and exit 0.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PythonTrainerITCase {
    private static final Pattern SUMMARY = Pattern.compile(
            "summary: received (\\d+) gradient batches for (\\d+) sent .*loss (\\S+) -> (\\S+);");

    @Test
    void trainsThroughTheJob() throws Exception {
        Python.assumeModules("numpy", "confluent_kafka");
        int steps = 40;
        try (JobHarness job = JobHarness.start(Map.of())) {
            Python.Result r = Python.run(List.of(Python.PYTHON.toString(),
                            PythonWireInteropTest.root().resolve("examples/python/trainer.py").toString(),
                            "--bootstrap-servers", job.bootstrapServers(),
                            "--embeddings-topic", JobHarness.EMBEDDINGS,
                            "--gradients-topic", JobHarness.GRADIENTS,
                            "--stream-key", "python-it",
                            "--steps", String.valueOf(steps),
                            "--batch-rows", "32",
                            "--max-in-flight", "8",
                            "--progress-seconds", "0.5",
                            "--answer-timeout", "60"),
                    Map.of("PYTHONUNBUFFERED", "1"), 180);
            System.out.println(r.output());
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(r.output()).as(r.output()).contains("trainer: stream 'python-it'").contains("progress: ");
            Matcher m = SUMMARY.matcher(r.output());
            assertThat(m.find()).as(r.output()).isTrue();
            assertThat(Integer.parseInt(m.group(1))).isEqualTo(steps);
            assertThat(Integer.parseInt(m.group(2))).isEqualTo(steps);
            assertThat(Double.parseDouble(m.group(3))).isPositive();
            // The job saw the trainer's batches under its stream key and answered each once.
            List<ConsumerRecord<byte[], byte[]>> answers = job.awaitRecords(JobHarness.GRADIENTS, steps, Duration.ofSeconds(30));
            assertThat(JobHarness.countByKey(answers)).containsExactly(Map.entry("python-it", steps));
            assertThat(job.awaitRecords(JobHarness.DEAD_LETTERS, 0, Duration.ofSeconds(2))).isEmpty();
        }
    }
}
