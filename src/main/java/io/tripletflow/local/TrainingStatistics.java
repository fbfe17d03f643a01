package io.tripletflow.local;

import java.util.function.LongSupplier;

/**
 * What {@link DemoTrainer} counts: batches submitted, answers applied, failed or unmatched, their
 * losses and latencies, since the trainer was made and over the current progress interval. The
 * source of its {@link DemoTrainer.Progress} and {@link DemoTrainer.Summary}. Thread-safe (answers
 * are counted on whatever thread completes them).
 */
final class TrainingStatistics {
    private final LatencyWindow intervalLatencies = new LatencyWindow(4096);
    private final LatencyWindow runLatencies = new LatencyWindow(20_000);
    private long submitted;
    private long answered;
    private long failed;
    private long unmatched;
    private double intervalLoss;
    private long intervalAnswers;
    private double firstLoss = Double.NaN;
    private double lastLoss = Double.NaN;

    synchronized void countSubmitted() {
        submitted++;
    }

    /** A batch whose answer will never come: publishing failed, or its future was cancelled. */
    synchronized void countFailed() {
        failed++;
    }

    /** An answer that fitted no waiting batch. */
    synchronized void countUnmatched() {
        unmatched++;
    }

    /** An answer applied to the model, {@code latencyMillis} after its batch was made. */
    synchronized void countAnswer(double loss, long latencyMillis) {
        answered++;
        intervalAnswers++;
        intervalLoss += loss;
        if (Double.isNaN(firstLoss)) {
            firstLoss = loss;
        }
        lastLoss = loss;
        intervalLatencies.add(latencyMillis);
        runLatencies.add(latencyMillis);
    }

    /** The progress since the last call (rates, mean loss, latencies), then a new interval begins. */
    synchronized DemoTrainer.Progress progress(long elapsedNanos, long intervalNanos, double recallAt1,
            LongSupplier modelStep) {
        double seconds = intervalNanos / 1e9;
        DemoTrainer.Progress p = new DemoTrainer.Progress(elapsedNanos / 1e9, submitted, answered,
                intervalAnswers / Math.max(seconds, 1e-9),
                intervalAnswers == 0 ? Double.NaN : intervalLoss / intervalAnswers, recallAt1,
                intervalLatencies.percentile(0.50), intervalLatencies.percentile(0.99), modelStep.getAsLong());
        intervalAnswers = 0;
        intervalLoss = 0;
        intervalLatencies.clear();
        return p;
    }

    synchronized DemoTrainer.Summary summary(double recallBefore, double recallAfter, double seconds,
            LongSupplier modelStep) {
        return new DemoTrainer.Summary(recallBefore, recallAfter, submitted, answered, failed, unmatched, seconds,
                answered / Math.max(seconds, 1e-9), firstLoss, lastLoss,
                runLatencies.percentile(0.50), runLatencies.percentile(0.99), modelStep.getAsLong());
    }
}
