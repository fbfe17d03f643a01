package io.tripletflow.cluster;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** Polling until a condition holds, for the cluster tests. */
final class Waits {
    private Waits() {}

    /** Polls {@code condition} every 100 ms; throws {@link AssertionError} naming {@code what} after {@code timeout}. */
    static void until(String what, Duration timeout, Callable<Boolean> condition) throws Exception {
        until(() -> what, timeout, condition);
    }

    /** As {@link #until(String, Duration, Callable)}, {@code what} computed when the time is up. */
    static void until(Supplier<String> what, Duration timeout, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what.get());
            }
            Thread.sleep(100);
        }
    }
}
