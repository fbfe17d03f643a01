package io.tripletflow.local;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.trainer.GradientService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The job's mining step without Kafka or Flink: the CPU backend on one thread, each answer
 * delivered {@code latencyMillis} after its batch was submitted, at most {@code maxInFlight}
 * outstanding (submit blocks). For fast training tests of {@link DemoTrainer}.
 */
final class InProcessGradientService implements GradientService, AutoCloseable {
    private final CpuMiningBackend backend;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "in-process-mining");
        t.setDaemon(true);
        return t;
    });
    private final Semaphore slots;
    private final long latencyMillis;

    InProcessGradientService(MiningOptions options, int maxInFlight, long latencyMillis) {
        this.backend = new CpuMiningBackend(options, 1);
        this.slots = new Semaphore(maxInFlight);
        this.latencyMillis = latencyMillis;
    }

    @Override
    public CompletableFuture<GradientBatch> submit(EmbeddingBatch batch) throws InterruptedException {
        slots.acquire();
        CompletableFuture<GradientBatch> f = new CompletableFuture<>();
        executor.schedule(() -> {
            try {
                f.complete(backend.mine(batch).toGradientBatch(batch, System.currentTimeMillis(), false));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            } finally {
                slots.release();
            }
        }, latencyMillis, TimeUnit.MILLISECONDS);
        return f;
    }

    @Override
    public void close() {
        executor.shutdownNow();
        backend.close();
    }
}
