package io.tripletflow.trainer;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Back-pressure: at most {@code maxInFlight} batches outstanding. A slot is taken before a batch is
 * published and given back once its future is done, whichever way (answer, failure, cancellation,
 * timeout). Thread-safe.
 */
final class InFlightWindow {
    /** How often a waiting {@link #acquire} checks that the client is still open. */
    private static final long POLL_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final int maxInFlight;
    private final Semaphore slots;

    InFlightWindow(int maxInFlight) {
        this.maxInFlight = maxInFlight;
        this.slots = new Semaphore(maxInFlight);
    }

    int maxInFlight() {
        return maxInFlight;
    }

    /**
     * Takes a slot, waiting at most {@code maxWait} ({@code null}: no limit). {@code checkOpen}
     * throws when the client can no longer take batches; it is asked while waiting and once the
     * slot is taken (which it then gives back).
     *
     * @throws TimeoutException if no slot became free in time
     */
    void acquire(Duration maxWait, Runnable checkOpen) throws InterruptedException, TimeoutException {
        long deadline = maxWait == null ? Long.MAX_VALUE : System.nanoTime() + maxWait.toNanos();
        while (true) {
            checkOpen.run();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(maxInFlight + " batches still in flight after " + maxWait);
            }
            if (slots.tryAcquire(Math.min(left, POLL_SLICE_NANOS), TimeUnit.NANOSECONDS)) {
                try {
                    checkOpen.run();
                } catch (RuntimeException e) {
                    slots.release();
                    throw e;
                }
                return;
            }
        }
    }

    void release() {
        slots.release();
    }
}
