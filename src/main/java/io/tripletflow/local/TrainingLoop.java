package io.tripletflow.local;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.local.demo.AnchorPositiveBatches;
import io.tripletflow.trainer.GradientService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One run of {@link DemoTrainer#train}: publishes batches through a {@link GradientService} (a
 * {@link io.tripletflow.trainer.TrainerClient}, or a stand-in) as fast as it accepts them, applies
 * each answer on whatever thread completes its future, reports progress every progress interval,
 * and at the end waits up to the drain timeout for the outstanding answers.
 *
 * <p>Several batches are in flight at once: {@link GradientService#submit} blocks when too many
 * are, which is all the pacing there is.
 */
final class TrainingLoop {
    /** After {@link DemoTrainer#stop()} or an interrupt, waiting for the last answers is cut to this. */
    private static final long SHORT_DRAIN_NANOS = 2_000_000_000L;

    private final DemoTrainer trainer;
    private final AnchorPositiveBatches batches;
    private final TrainingStatistics statistics;
    private final GradientService service;

    TrainingLoop(DemoTrainer trainer, AnchorPositiveBatches batches, TrainingStatistics statistics,
            GradientService service) {
        this.trainer = trainer;
        this.batches = batches;
        this.statistics = statistics;
        this.service = service;
    }

    /** Trains for {@code duration} ({@code null}: until stopped); {@code progress} may be null. */
    DemoTrainer.Summary run(Duration duration, Consumer<DemoTrainer.Progress> progress) {
        double before = trainer.recallAt1();
        long start = System.nanoTime();
        long deadline = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        boolean interrupted = publishUntil(start, deadline, progress);
        awaitAnswers(interrupted);
        double seconds = (System.nanoTime() - start) / 1e9;
        double after = trainer.recallAt1();
        return statistics.summary(before, after, seconds, trainer::modelStep);
    }

    /** Publishes batches until the deadline or a stop; returns whether someone else interrupted. */
    private boolean publishUntil(long start, long deadline, Consumer<DemoTrainer.Progress> progress) {
        long intervalNanos = trainer.settings().progressInterval().toNanos();
        long nextReport = start + intervalNanos;
        long lastReport = start;
        while (!trainer.isStopped() && System.nanoTime() < deadline) {
            EmbeddingBatch batch = batches.next();
            CompletableFuture<GradientBatch> future;
            try {
                future = service.submit(batch);
            } catch (InterruptedException e) {
                batches.forget(batch.batchId());
                return !trainer.isStopped(); // stop() interrupts; anyone else's interrupt is kept
            } catch (RuntimeException e) {
                batches.forget(batch.batchId());
                if (trainer.isStopped()) {
                    return false; // the service was closed under us
                }
                throw e;
            }
            statistics.countSubmitted();
            future.whenComplete((g, error) -> onAnswer(batch, g, error));
            long now = System.nanoTime();
            if (now >= nextReport && progress != null) {
                progress.accept(statistics.progress(now - start, now - lastReport, trainer.recallAt1(),
                        trainer::modelStep));
                lastReport = now;
                nextReport = now + intervalNanos;
            }
        }
        return false;
    }

    /**
     * Waits up to the drain timeout for the outstanding answers, then restores an interrupt that
     * was not {@link DemoTrainer#stop()}'s.
     */
    private void awaitAnswers(boolean interrupted) {
        // Clear an interrupt from stop(); waiting (briefly) for the last answers is still useful.
        boolean wasStopped = trainer.isStopped();
        interrupted |= Thread.interrupted() && !wasStopped;
        long drainNanos = trainer.settings().drainTimeout().toNanos();
        long drainUntil = System.nanoTime() + (wasStopped || interrupted
                ? Math.min(drainNanos, SHORT_DRAIN_NANOS) : drainNanos);
        while (batches.awaitingAnswers() && System.nanoTime() < drainUntil) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                interrupted |= !trainer.isStopped();
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void onAnswer(EmbeddingBatch batch, GradientBatch g, Throwable error) {
        if (error != null || g == null) {
            batches.forget(batch.batchId());
            statistics.countFailed();
            return;
        }
        long latency = Math.max(0, System.currentTimeMillis() - batch.createdMillis());
        boolean applied = g.batchId() == batch.batchId() && g.streamKey().equals(batch.streamKey())
                && batches.apply(g);
        if (applied) {
            statistics.countAnswer(g.loss(), latency);
        } else {
            statistics.countUnmatched();
        }
    }
}
