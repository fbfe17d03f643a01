package io.tripletflow.cli;

import io.tripletflow.config.CommandLine;
import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.engine.InvalidBatchException;
import io.tripletflow.engine.OptionText;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.job.TripletFlowOptions;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * {@code tripletflow compute --input BATCH --output GRADIENTS [--mask] [mining options]}: one
 * embedding batch file (wire format v1) in, its gradient batch out, the batch's statistics
 * printed as JSON. What the streaming job would answer for that batch, except the
 * {@code computed} timestamp.
 */
final class ComputeCommand {
    static final int INVALID_INPUT = 2;
    /** compute's own options (and its flag, {@code --mask}). */
    static final List<String> OWN = List.of("input", "output", "stream-key", "threads");
    /** The job's input bounds, which compute applies too. */
    static final List<ConfigOption<?>> BOUNDS = List.of(TripletFlowOptions.MAX_ROWS,
            TripletFlowOptions.MAX_DIMENSION, TripletFlowOptions.MAX_RECORD_BYTES);

    private ComputeCommand() {}

    static int run(String[] args, int from, PrintStream out, PrintStream err) throws IOException {
        // The job's options under the job's names: what compute answers, the job answers.
        Map<String, ConfigOption<?>> jobOptions = new LinkedHashMap<>();
        for (ConfigOption<?> option : TripletFlowOptions.batchMining()) {
            jobOptions.put(TripletFlowOptions.commandLineName(option), option);
        }
        for (ConfigOption<?> option : BOUNDS) {
            jobOptions.put(TripletFlowOptions.commandLineName(option), option);
        }
        List<String> known = new ArrayList<>(OWN);
        known.add("mask");
        known.addAll(jobOptions.keySet());
        CommandLine line = CommandLine.parse(args, from, Set.of("mask"),
                name -> OWN.contains(name) || jobOptions.containsKey(name), CommandLine.listing(known));
        Path input = Paths.get(line.require("input"));
        Path output = Paths.get(line.require("output"));
        String streamKey = line.get("stream-key") == null ? "cli" : line.get("stream-key");
        Configuration conf = new Configuration();
        jobOptions.forEach((name, option) -> {
            if (line.get(name) != null) {
                conf.setString(option.key(), line.get(name));
            }
        });
        MiningOptions options = TripletFlowOptions.miningOptions(conf);
        WireBounds bounds = TripletFlowOptions.wireBounds(conf);
        int threads = line.get("threads") == null ? Runtime.getRuntime().availableProcessors()
                : OptionText.integer("threads", line.get("threads"));
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
