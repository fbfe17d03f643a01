package io.tripletflow.trainer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters behind {@link TrainerClient#stats()}, each counted where it happens: batches
 * submitted, futures answered or failed, and answers dropped as duplicates, unknown or invalid.
 * Thread-safe.
 */
final class ClientCounters {
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();

    void countSubmitted() {
        submitted.incrementAndGet();
    }

    void countAnswered() {
        answered.incrementAndGet();
    }

    /** A future that failed, was cancelled or timed out. */
    void countFailed() {
        failed.incrementAndGet();
    }

    /** An answer to a batch that was answered or given up before. */
    void countDuplicate() {
        duplicates.incrementAndGet();
    }

    /** An answer to a batch this client never submitted (another trainer's, an earlier run's). */
    void countUnknown() {
        unknown.incrementAndGet();
    }

    /** A record on the gradient topic that fails the wire checks. */
    void countInvalid() {
        invalid.incrementAndGet();
    }

    TrainerClient.Stats snapshot(int inFlight) {
        return new TrainerClient.Stats(submitted.get(), answered.get(), failed.get(), duplicates.get(), unknown.get(),
                invalid.get(), inFlight);
    }
}
