package io.tripletflow.cli;

import java.io.PrintStream;

/** {@code bin/tripletflow COMMAND [options]}: the commands a user runs outside a Flink cluster. */
public final class TripletFlow {
    static final int USAGE = 64;

    private TripletFlow() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
            out.println(usage());
            return args.length == 0 ? USAGE : 0;
        }
        try {
            switch (args[0]) {
                case "compute":
                    return ComputeCommand.run(args, 1, out, err);
                case "local":
                    return LocalCommand.run(args, 1, out, err);
                case "stats":
                    return StatsCommand.run(args, 1, out, err);
                default:
                    err.println("unknown command '" + args[0] + "'\n" + usage());
                    return USAGE;
            }
        } catch (IllegalArgumentException e) {
            err.println("tripletflow " + args[0] + ": " + e.getMessage());
            return USAGE;
        }
    }

    static String usage() {
        return String.join("\n",
                "usage: tripletflow COMMAND [options]",
                "  compute --input BATCH --output GRADIENTS [--mask] [--stream-key KEY] [--threads T]",
                "          [--neg-num 4 --pair-size 2 --hard-ratio 0.5 --rand-ratio 0.5 --margin 1.0",
                "           --loss-weight 1.0 --distance neg-dot|squared-euclidean|euclidean|cosine",
                "           --miner rank-hard|semi-hard|batch-hard|batch-all --positives pairs|all",
                "           --loss double-hinge|hinge|soft --reduction seed|mean-nonzero|mean",
                "           --rng counter|seed-compat --rng-seed 1 --on-label-mismatch reject|skip-anchor|seed]",
                "          [--max-rows 8192 --max-dimension 4096 --max-record-bytes 67108864]  (the job's bounds)",
                "      one batch file (wire format v1) in, its gradient batch out, statistics printed",
                "  bench [--n N] [--d D] [--repetitions R] [--json]",
                "      ms per batch and GFLOP/s of the CPU backend beside the plain port of the seed",
                "  local [--duration 60s | --forever] [--no-trainer] [--web-port 8081] [--kafka-port 9092]",
                "        [--parallelism 2] [--max-in-flight 8] [--batch-rows 128] [--learning-rate 1.0]",
                "        [job options, e.g. --neg-num 4 --delivery-guarantee at-least-once]",
                "      embedded Kafka + local Flink (dashboard, RocksDB, checkpoints) running the job, and a demo",
                "      model training through it (docs/local-mode.md); --no-trainer prints how to connect yours",
                "  stats --savepoint PATH [--json] [--uid mine-triplets]",
                "      per-stream-key mining statistics held in a savepoint or retained checkpoint");
    }
}
