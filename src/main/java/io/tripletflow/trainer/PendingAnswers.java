package io.tripletflow.trainer;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.delivery.Deduplicator;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answer matching: the futures of the outstanding batches by (stream key, batch id), and which
 * answer each one takes. Every answer passes a {@link Deduplicator}: a future completes with the
 * first answer to its batch; a later one (a replay, or an answer after its future was given up) is
 * counted as a duplicate, and an answer to a batch never submitted as unknown. Thread-safe.
 */
final class PendingAnswers {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerClient.class);

    private final Map<BatchKey, CompletableFuture<GradientBatch>> pending = new ConcurrentHashMap<>();
    /** The answers taken, per stream key; guarded by itself. */
    private final Deduplicator answers;
    private final ClientCounters counters;

    PendingAnswers(Deduplicator answers, ClientCounters counters) {
        this.answers = answers;
        this.counters = counters;
    }

    /**
     * @throws IllegalArgumentException if the batch's answer would be dropped: its id was answered
     *         before or lies below the deduplication window (ids must increase per stream key)
     */
    void checkAnswerable(EmbeddingBatch batch) {
        synchronized (answers) {
            if (answers.wouldRefuse(batch.streamKey(), batch.batchId())) {
                throw new IllegalArgumentException(batch.describe() + ": its answer would be dropped as a duplicate, "
                        + "because batch " + batch.batchId() + " of this stream was answered before or lies below the "
                        + "deduplication window of " + answers.window() + " batches; batch ids must increase per stream key");
            }
        }
    }

    /** Waits for the answer to {@code key}; false if a batch with that key is already in flight. */
    boolean add(BatchKey key, CompletableFuture<GradientBatch> answer) {
        return pending.putIfAbsent(key, answer) == null;
    }

    /**
     * Bookkeeping once a batch's future is done, whichever way: counts it answered or failed.
     *
     * @return whether it was still pending (true exactly once per {@link #add})
     */
    boolean finish(BatchKey key, CompletableFuture<GradientBatch> answer) {
        if (answer.isCompletedExceptionally()) {
            // Given up: an answer arriving after this is dropped as a duplicate, not taken as unknown.
            synchronized (answers) {
                answers.offer(key.streamKey(), key.batchId());
            }
        }
        if (!pending.remove(key, answer)) {
            return false;
        }
        if (answer.isCompletedExceptionally()) {
            counters.countFailed();
        } else {
            counters.countAnswered();
        }
        return true;
    }

    /** Completes the future {@code g} answers, if it is the first answer to an outstanding batch. */
    void take(GradientBatch g) {
        BatchKey key = new BatchKey(g.streamKey(), g.batchId());
        CompletableFuture<GradientBatch> answer = pending.get(key);
        Deduplicator.Verdict verdict;
        synchronized (answers) {
            if (answer == null && !answers.wouldRefuse(key.streamKey(), key.batchId())) {
                counters.countUnknown(); // another trainer's batch, or an earlier run's
                LOG.debug("ignoring an answer to unknown batch {} of stream '{}'", g.batchId(), g.streamKey());
                return;
            }
            verdict = answers.offer(key.streamKey(), key.batchId());
        }
        if (verdict != Deduplicator.Verdict.FIRST) {
            counters.countDuplicate();
            LOG.debug("dropping a {} answer to batch {} of stream '{}'", verdict, g.batchId(), g.streamKey());
            return;
        }
        answer.complete(g);
    }

    /** Fails every outstanding future with {@code cause}. */
    void failAll(Throwable cause) {
        for (CompletableFuture<GradientBatch> f : new ArrayList<>(pending.values())) {
            f.completeExceptionally(cause);
        }
    }

    /** Batches submitted and not yet answered, failed, cancelled or timed out. */
    int size() {
        return pending.size();
    }
}
