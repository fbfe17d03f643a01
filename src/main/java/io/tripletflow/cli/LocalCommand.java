package io.tripletflow.cli;

import io.tripletflow.job.DeliveryMode;
import io.tripletflow.local.DemoTrainer;
import io.tripletflow.local.QuietLogging;
import io.tripletflow.local.LocalMode;
import io.tripletflow.local.LocalModeOptions;
import io.tripletflow.trainer.TrainerClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code tripletflow local [--duration 60s] [--forever] [--no-trainer] [--web-port 8081]
 * [--parallelism 2] [job options]}: Kafka, Flink (dashboard, RocksDB, checkpoints) and the job in
 * this process, and a demo embedding model that trains through it, with a progress line every few
 * seconds and a summary at the end. See {@code docs/local-mode.md}.
 */
final class LocalCommand {
    private LocalCommand() {}

    static int run(String[] args, int from, PrintStream out, PrintStream err) throws Exception {
        LocalModeOptions options = LocalModeOptions.parse(args, from);
        LocalMode local = new LocalMode(options, out); // a bad job option fails here, before anything starts
        QuietLogging.console();
        Duration duration = options.effectiveDuration();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            if (done.getCount() > 0) {
                out.println();
                out.println("tripletflow local: stopping ...");
                local.stop();
                try {
                    done.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "tripletflow-local-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("tripletflow local: starting Kafka and Flink on 127.0.0.1 ...");
        long t0 = System.nanoTime();
        try {
            local.start();
        } catch (Exception e) {
            done.countDown();
            removeHook(hook);
            if (local.isStopRequested()) {
                out.println("tripletflow local: stopped while starting");
                return 130;
            }
            if (e instanceof IllegalStateException) { // e.g. a port given explicitly is in use
                err.println("tripletflow local: " + e.getMessage()
                        + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
                return 1;
            }
            throw e;
        }
        try {
            out.printf(Locale.ROOT, "  started in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            out.println("  Kafka       " + local.bootstrapServers() + " (embedded, KRaft)");
            out.println("  dashboard   " + local.webUiUrl());
            LocalMode.Topics t = local.topics();
            out.println("  topics      " + String.join(",", t.embeddings()) + " -> " + t.gradients()
                    + "; dead letters " + t.deadLetters() + "; statistics " + t.statistics());
            out.println("  job         " + local.jobId() + ": " + local.describeJob());
            out.println("  backend     " + local.backend());
            if (!options.trainer()) {
                return noTrainer(local, duration, out);
            }
            return withTrainer(local, options, out);
        } finally {
            local.close();
            out.println("tripletflow local: stopped (job cancelled, broker closed, temporary files removed)");
            done.countDown();
            removeHook(hook);
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running (Ctrl-C) and waits for us
        }
    }

    private static int noTrainer(LocalMode local, Duration duration, PrintStream out) throws InterruptedException {
        LocalMode.Topics t = local.topics();
        out.println();
        out.println("No trainer runs; connect your own (any language) to:");
        out.println("  bootstrap servers  " + local.bootstrapServers());
        out.println("  publish to         " + String.join(",", t.embeddings())
                + "   (wire format v1, Kafka key = stream key)");
        out.println("  answers on         " + t.gradients() + "   (read with isolation.level=read_committed)");
        if (local.deliveryMode() != DeliveryMode.EXACTLY_ONCE) {
            out.println("  delivery           " + local.deliveryMode() + ": a batch replayed after a failure is answered "
                    + "again; apply each (stream key, batch id) once (io.tripletflow.delivery.Deduplicator, "
                    + "python/tripletflow/dedup.py)");
        }
        out.println("  dead letters       " + t.deadLetters());
        out.println("  statistics         " + t.statistics() + "   (JSON per stream key)");
        out.println(duration == null ? "Ctrl-C stops." : "Stopping after " + duration.toSeconds() + " s (or Ctrl-C).");
        local.awaitStop(duration);
        return local.jobEnded() == null ? 0 : 1;
    }

    private static int withTrainer(LocalMode local, LocalModeOptions options, PrintStream out) {
        DemoTrainer.Settings demo = options.demo();
        Duration duration = options.effectiveDuration();
        out.println("  trainer     demo model " + demo + ", stream key '" + demo.streamKey() + "', "
                + options.maxInFlight() + " batches in flight, "
                + (duration == null ? "until Ctrl-C" : duration.toSeconds() + " s"));
        out.println();
        String backend = local.backend();
        DemoTrainer.Summary s = local.runDemoTrainer(p -> out.println(progressLine(p, backend, local.clientStats())));
        TrainerClient.Stats c = local.clientStats();
        out.println();
        out.printf(Locale.ROOT, "summary: %d batches answered in %.1f s (%.1f batches/s), %d rows each%n",
                s.answered(), s.seconds(), s.batchesPerSecond(), demo.batchRows());
        out.printf(Locale.ROOT, "  loss       %.4f -> %.4f%n", s.firstLoss(), s.lastLoss());
        out.printf(Locale.ROOT, "  recall@1   %.3f -> %.3f (held-out, %d classes; chance %.3f)%n",
                s.recallBefore(), s.recallAfter(), demo.classes(), 1.0 / demo.classes());
        out.printf(Locale.ROOT, "  latency    p50 %d ms, p99 %d ms (trainer clock, publish to answer)%n",
                s.latencyP50Millis(), s.latencyP99Millis());
        if (c != null) {
            out.printf(Locale.ROOT, "  answers    %d matched, %d failed, %d duplicates dropped, %d unknown, %d invalid%n",
                    c.answered(), c.failed(), c.duplicateAnswers(), c.unknownAnswers(), c.invalidAnswers());
        }
        if (local.jobEnded() != null) {
            out.println("  the job " + local.jobEnded());
            return 1;
        }
        return 0;
    }

    /** One progress line; {@code client} (may be null) adds the duplicates the client dropped so far. */
    static String progressLine(DemoTrainer.Progress p, String backend, TrainerClient.Stats client) {
        return String.format(Locale.ROOT,
                "[%6.1fs] batches %6d  %6.1f/s  loss %s  recall@1 %.3f  latency p50 %s p99 %s ms  "
                        + "duplicates dropped %s  step %d  backend %s",
                p.elapsedSeconds(), p.answered(), p.batchesPerSecond(),
                Double.isNaN(p.loss()) ? "   -  " : String.format(Locale.ROOT, "%.4f", p.loss()), p.recallAt1(),
                p.latencyP50Millis() < 0 ? "-" : Long.toString(p.latencyP50Millis()),
                p.latencyP99Millis() < 0 ? "-" : Long.toString(p.latencyP99Millis()),
                client == null ? "-" : Long.toString(client.duplicateAnswers()), p.modelStep(), backend);
    }
}
