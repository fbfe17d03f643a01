package io.tripletflow.cli;

import io.tripletflow.config.CommandLine;
import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.InvalidBatchException;
import io.tripletflow.engine.MiningOptionParser;
import io.tripletflow.engine.OptionText;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.WireBounds;
import io.tripletflow.wire.InvalidRecordException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code tripletflow compute --input BATCH --output GRADIENTS [--mask] [mining options]}: one
 * embedding batch file (wire format v1) in, its gradient batch out, the batch's statistics
 * printed as JSON. What the streaming job would answer for that batch, except the
 * {@code computed} timestamp.
 */
final class ComputeCommand {
    static final int INVALID_INPUT = 2;

    private ComputeCommand() {}

    private static int bound(CommandLine line, String name, int defaultValue) {
        String v = line.get(name);
        return v == null ? defaultValue : OptionText.integer(name, v);
    }

    static int run(String[] args, int from, PrintStream out, PrintStream err) throws IOException {
        List<String> names = new ArrayList<>(List.of("input", "output", "stream-key", "threads",
                "max-rows", "max-dimension", "max-record-bytes"));
        names.addAll(MiningOptionParser.NAMES);
        List<String> known = new ArrayList<>(names);
        known.add("mask");
        CommandLine line = CommandLine.parse(args, from, Set.of("mask"), names::contains, CommandLine.listing(known));
        Path input = Paths.get(line.require("input"));
        Path output = Paths.get(line.require("output"));
        String streamKey = line.get("stream-key") == null ? "cli" : line.get("stream-key");
        MiningOptions options = MiningOptionParser.parse(MiningOptions.defaults(), line::get);
        int threads = line.get("threads") == null ? Runtime.getRuntime().availableProcessors()
                : Integer.parseInt(line.get("threads"));
        // The job's bounds, and its option names: what compute answers, the job answers.
        WireBounds bounds = new WireBounds(bound(line, "max-rows", WireBounds.DEFAULT.maxRows()),
                bound(line, "max-dimension", WireBounds.DEFAULT.maxDimension()),
                bound(line, "max-record-bytes", WireBounds.DEFAULT.maxRecordBytes()));
        EmbeddingBatch batch;
        try {
            batch = new EmbeddingBatchCodec(bounds).decode(streamKey, Files.readAllBytes(input));
        } catch (InvalidRecordException e) {
            err.println("invalid input " + input + ": " + e.getMessage() + " [reason " + e.reason().code() + "]");
            return INVALID_INPUT;
        }
        try (CpuMiningBackend backend = new CpuMiningBackend(options, threads)) {
            MiningResult result = backend.mine(batch);
            GradientBatch gradients = result.toGradientBatch(batch, System.currentTimeMillis(), line.flag("mask"));
            Files.write(output, new GradientBatchCodec(bounds).encode(gradients));
            out.println(result.statistics().toJson());
            return 0;
        } catch (InvalidBatchException e) {
            err.println("invalid input " + input + ": " + e.getMessage() + " [reason " + e.reason() + "]");
            return INVALID_INPUT;
        }
    }
}
