package io.tripletflow.testutils;

import io.tripletflow.kafka.KafkaRecord;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Passes records through slowly (so that checkpoints complete mid-stream) and throws once in the
 * whole JVM: after a checkpoint completed and after {@code failAfter} records of its subtask. Put
 * it right after the source: a finished bounded source stops checkpoints from completing.
 */
public final class FailOnceAfterCheckpoint extends RichMapFunction<KafkaRecord, KafkaRecord>
        implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    public static final AtomicBoolean FAILED = new AtomicBoolean();
    public static final AtomicInteger COMPLETED_CHECKPOINTS = new AtomicInteger();

    private final int failAfter;
    private final long pauseMillis;
    private int seen;

    public FailOnceAfterCheckpoint(int failAfter, long pauseMillis) {
        this.failAfter = failAfter;
        this.pauseMillis = pauseMillis;
    }

    /** Arms the failure again (call before each test). */
    public static void reset() {
        FAILED.set(false);
        COMPLETED_CHECKPOINTS.set(0);
    }

    @Override
    public KafkaRecord map(KafkaRecord r) throws Exception {
        seen++;
        Thread.sleep(pauseMillis);
        if (seen >= failAfter && COMPLETED_CHECKPOINTS.get() > 0 && FAILED.compareAndSet(false, true)) {
            throw new RuntimeException("Injected failure after " + seen + " records");
        }
        return r;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        COMPLETED_CHECKPOINTS.incrementAndGet();
    }
}
