package io.tripletflow.engine.cpu;

import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of threads that split a range of work items in chunks, reused batch after batch
 * without allocating. Work items must be independent: what each computes may not depend on which
 * thread took it, so results are identical for any thread count.
 */
final class WorkerPool implements AutoCloseable {

    /** A chunk of items {@code [from, to)}, run by worker {@code worker} (0 = the calling thread). */
    interface RangeTask {
        void run(int worker, int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private final Phaser phaser;
    private final AtomicInteger next = new AtomicInteger();
    private volatile RangeTask task;
    private volatile int count;
    private volatile int grain;
    private volatile boolean closed;
    private volatile Throwable failure;

    WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        this.phaser = new Phaser(this.threads);
        for (int w = 0; w < workers.length; w++) {
            int id = w + 1;
            workers[w] = new Thread(() -> loop(id), "tripletflow-cpu-" + id);
            workers[w].setDaemon(true);
            workers[w].start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs {@code task} over {@code [0, count)} in chunks of {@code grain}, on every thread. */
    void run(int count, int grain, RangeTask task) {
        if (threads == 1 || count <= grain) {
            if (count > 0) {
                task.run(0, 0, count);
            }
            return;
        }
        this.task = task;
        this.count = count;
        this.grain = Math.max(1, grain);
        this.failure = null;
        next.set(0);
        phaser.arriveAndAwaitAdvance();
        work(0);
        phaser.arriveAndAwaitAdvance();
        this.task = null;
        Throwable t = failure;
        if (t != null) {
            if (t instanceof RuntimeException) throw (RuntimeException) t;
            if (t instanceof Error) throw (Error) t;
            throw new IllegalStateException(t);
        }
    }

    private void loop(int id) {
        while (true) {
            phaser.arriveAndAwaitAdvance();
            if (closed) {
                phaser.arriveAndDeregister();
                return;
            }
            work(id);
            phaser.arriveAndAwaitAdvance();
        }
    }

    private void work(int id) {
        RangeTask t = task;
        int n = count;
        int g = grain;
        try {
            for (int from = next.getAndAdd(g); from < n; from = next.getAndAdd(g)) {
                t.run(id, from, Math.min(n, from + g));
            }
        } catch (Throwable e) {
            failure = e;
            next.set(n);
        }
    }

    @Override
    public void close() {
        if (closed || workers.length == 0) {
            closed = true;
            return;
        }
        closed = true;
        phaser.arriveAndDeregister();
        for (Thread w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
