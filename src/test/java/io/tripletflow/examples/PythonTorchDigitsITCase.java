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
 * {@code examples/python/torch_digits.py} (PyTorch, scikit-learn's digits, the
 * {@code tripletflow} Python package) trains against the real job, pipelined: recall@1 on held-out
 * digits must reach 0.95 within 60 s of training. First it sends a batch whose first pair has two labels, which the job
 * dead-letters (label-mismatch), and that must surface in Python as {@code DeadLetterError}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PythonTorchDigitsITCase {
    private static final Pattern REACHED = Pattern.compile("reached recall@1 (\\S+) >= \\S+ after (\\S+) s");
    private static final Pattern SUMMARY = Pattern.compile(
            "summary: (\\d+) batches in \\S+ s .*recall@1 (\\S+) -> (\\S+); round trip p50 (\\S+) ms");

    @Test
    void trainsDigitsThroughTheJobAndSeesDeadLetters() throws Exception {
        Python.assumeModules("numpy", "confluent_kafka", "torch", "sklearn");
        try (JobHarness job = JobHarness.start(Map.of())) {
            Python.Result r = Python.run(List.of(Python.PYTHON.toString(),
                            PythonWireInteropTest.root().resolve("examples/python/torch_digits.py").toString(),
                            "--bootstrap-servers", job.bootstrapServers(),
                            "--embeddings-topic", JobHarness.EMBEDDINGS,
                            "--gradients-topic", JobHarness.GRADIENTS,
                            "--dead-letter-topic", JobHarness.DEAD_LETTERS,
                            "--stream-key", "torch-it",
                            "--mode", "pipelined",
                            "--seconds", "60",
                            "--target", "0.95",
                            "--until-target",
                            "--check-dead-letter"),
                    Map.of("PYTHONUNBUFFERED", "1", "PYTHONDONTWRITEBYTECODE", "1", "OMP_NUM_THREADS", "1"), 200);
            System.out.println(r.output());
            assertThat(r.output()).as(r.output()).contains("dead-letter: DeadLetterError reason=label-mismatch");
            assertThat(r.exit()).as(r.output()).isZero();
            Matcher m = SUMMARY.matcher(r.output());
            assertThat(m.find()).as(r.output()).isTrue();
            int batches = Integer.parseInt(m.group(1));
            assertThat(batches).isPositive();
            // The target: held-out recall@1 reaches 0.95 within 60 s of training.
            Matcher reached = REACHED.matcher(r.output());
            assertThat(reached.find()).as("recall@1 0.95 reached within 60 s: " + r.output()).isTrue();
            assertThat(Double.parseDouble(reached.group(1))).isGreaterThanOrEqualTo(0.95);
            assertThat(Double.parseDouble(reached.group(2))).isLessThanOrEqualTo(60.0);
            assertThat(Double.parseDouble(m.group(2))).as("recall@1 before training").isLessThan(0.95);
            // The job answered the training batches under the stream key and dead-lettered the bad one.
            List<ConsumerRecord<byte[], byte[]>> answers = job.awaitRecords(JobHarness.GRADIENTS, batches,
                    Duration.ofSeconds(30));
            assertThat(JobHarness.countByKey(answers).get("torch-it")).isGreaterThanOrEqualTo(batches);
            assertThat(JobHarness.countByKey(job.awaitRecords(JobHarness.DEAD_LETTERS, 1, Duration.ofSeconds(10))))
                    .containsEntry("torch-it", 1);
        }
    }
}
