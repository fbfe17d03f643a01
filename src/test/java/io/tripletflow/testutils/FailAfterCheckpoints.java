package io.tripletflow.testutils;

import io.tripletflow.job.KafkaRecord;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Passes records through slowly (so that checkpoints complete mid-stream) and throws, at most
 * {@code failures} times in the whole JVM, each time after a checkpoint completed since the last
 * failure and after {@code failAfter} records: of its subtask's current attempt ({@link #once}),
 * or, with several failures, since the last checkpoint its subtask saw complete, so that every
 * failure leaves answers since its checkpoint that the job must replay. Put it right after the
 * source: a finished bounded source stops checkpoints from completing.
 */
public final class FailAfterCheckpoints extends RichMapFunction<KafkaRecord, KafkaRecord>
        implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    /** Failures injected since the last {@link #reset()}. */
    public static final AtomicInteger FAILURES = new AtomicInteger();
    private static final AtomicInteger CHECKPOINTS_SINCE_FAILURE = new AtomicInteger();

    private final int failures;
    private final int failAfter;
    private final long pauseMillis;
    private final boolean countFromCheckpoint;
    private int seen;

    /** {@code failures} failures, each {@code failAfter} records after a checkpoint completed. */
    public FailAfterCheckpoints(int failures, int failAfter, long pauseMillis) {
        this(failures, failAfter, pauseMillis, true);
    }

    private FailAfterCheckpoints(int failures, int failAfter, long pauseMillis, boolean countFromCheckpoint) {
        this.failures = failures;
        this.failAfter = failAfter;
        this.pauseMillis = pauseMillis;
        this.countFromCheckpoint = countFromCheckpoint;
    }

    /** One failure, after {@code failAfter} records of the subtask and a completed checkpoint. */
    public static FailAfterCheckpoints once(int failAfter, long pauseMillis) {
        return new FailAfterCheckpoints(1, failAfter, pauseMillis, false);
    }

    /** Arms the failures again (call before each test). */
    public static void reset() {
        FAILURES.set(0);
        CHECKPOINTS_SINCE_FAILURE.set(0);
    }

    @Override
    public KafkaRecord map(KafkaRecord r) throws Exception {
        seen++;
        Thread.sleep(pauseMillis);
        if (seen >= failAfter && CHECKPOINTS_SINCE_FAILURE.get() > 0) {
            int before = FAILURES.get();
            if (before < failures && FAILURES.compareAndSet(before, before + 1)) {
                CHECKPOINTS_SINCE_FAILURE.set(0);
                throw new RuntimeException("Injected failure " + (before + 1) + " of " + failures + " after " + seen
                        + " records");
            }
        }
        return r;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        CHECKPOINTS_SINCE_FAILURE.incrementAndGet();
        if (countFromCheckpoint) {
            seen = 0;
        }
    }
}
