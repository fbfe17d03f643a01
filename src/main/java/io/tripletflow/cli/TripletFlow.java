package io.tripletflow.cli;

import io.tripletflow.job.TripletFlowOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;

/** {@code bin/tripletflow COMMAND [options]}: the commands a user runs outside a Flink cluster. */
public final class TripletFlow {
    static final int USAGE = 64;
    private static final int WIDTH = 100;

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

    /** The commands and their options; the job's options compute takes are listed from their {@code ConfigOption}s. */
    static String usage() {
        List<String> lines = new ArrayList<>(List.of(
                "usage: tripletflow COMMAND [options]",
                "  compute --input BATCH --output GRADIENTS [--mask] [--stream-key KEY] [--threads T]"));
        lines.addAll(options(TripletFlowOptions.batchMining(), "          [", "           ", "]"));
        lines.addAll(options(ComputeCommand.BOUNDS, "          [", "           ", "]  (the job's bounds)"));
        lines.addAll(List.of(
                "      one batch file (wire format v1) in, its gradient batch out, statistics printed",
                "  bench [--n N] [--d D] [--repetitions R] [--json]",
                "      ms per batch and GFLOP/s of the CPU backend beside the plain port of the seed",
                "  local [--duration 60s | --forever] [--no-trainer] [--web-port 8081] [--kafka-port 9092]",
                "        [--parallelism 2] [--max-in-flight 8] [--batch-rows 128] [--learning-rate 1.0]",
                "        [job options, e.g. --neg-num 4 --delivery-guarantee at-least-once]",
                "      embedded Kafka + local Flink (dashboard, RocksDB, checkpoints) running the job, and a demo",
                "      model training through it (docs/local-mode.md); --no-trainer prints how to connect yours",
                "  stats --savepoint PATH [--json] [--uid mine-triplets]",
                "      per-stream-key mining statistics held in a savepoint or retained checkpoint"));
        return String.join("\n", lines);
    }

    /**
     * {@code --name default} for each option ({@code --name a|b|c} for a choice, the default first),
     * in lines of at most {@link #WIDTH} characters that start with {@code first}, then {@code next};
     * {@code end} closes the last.
     */
    private static List<String> options(List<ConfigOption<?>> options, String first, String next, String end) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder(first);
        boolean empty = true;
        for (int i = 0; i < options.size(); i++) {
            ConfigOption<?> option = options.get(i);
            List<String> choices = TripletFlowOptions.choices(option);
            String word = "--" + TripletFlowOptions.commandLineName(option) + " "
                    + (choices.isEmpty() ? String.valueOf(option.defaultValue()) : String.join("|", choices))
                    + (i == options.size() - 1 ? end : "");
            if (!empty && line.length() + 1 + word.length() > WIDTH) {
                lines.add(line.toString());
                line = new StringBuilder(next);
                empty = true;
            }
            line.append(empty ? "" : " ").append(word);
            empty = false;
        }
        lines.add(line.toString());
        return lines;
    }
}
