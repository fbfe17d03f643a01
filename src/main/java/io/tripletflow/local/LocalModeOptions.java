package io.tripletflow.local;

import io.tripletflow.config.CommandLine;
import io.tripletflow.engine.OptionText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The options of {@code bin/tripletflow local}: its own flags, and every other {@code --name value}
 * passed on to the job ({@link io.tripletflow.job.TripletFlowJob#configuration}, which rejects
 * unknown names).
 *
 * <pre>
 *   --duration 60s        how long the demo trainer runs (ms, s, m, h; a bare number is seconds)
 *   --forever             run until Ctrl-C
 *   --no-trainer          only broker and job; print how to connect; until Ctrl-C unless --duration
 *   --web-port 8081       Flink dashboard on 127.0.0.1 (default 8081, another free port if taken; 0 = any)
 *   --kafka-port 9092     embedded broker on 127.0.0.1 (default 9092, another free port if taken; 0 = any)
 *   --parallelism 2       Flink parallelism and task slots
 *   --max-in-flight 8     batches the demo trainer keeps outstanding
 *   --batch-rows 128      rows per demo batch (even: anchor/positive pairs)
 *   --learning-rate 1.0   SGD step of the demo model
 *   --seed 7              seed of the demo's data and model
 *   --stream-key demo     stream key of the demo trainer
 *   --progress-interval 5s
 * </pre>
 */
public final class LocalModeOptions {
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(60);
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_KAFKA_PORT = 9092;
    /** Local mode's own options (its flags are --forever and --no-trainer); the rest go to the job. */
    private static final Set<String> OWN = Set.of("duration", "web-port", "kafka-port", "parallelism", "max-in-flight",
            "batch-rows", "learning-rate", "seed", "stream-key", "progress-interval", "bootstrap-servers",
            "tripletflow.bootstrap-servers");

    private Duration duration = DEFAULT_DURATION;
    private boolean durationGiven;
    private boolean forever;
    private boolean trainer = true;
    private int webPort = LocalFlinkCluster.DEFAULT_WEB_PORT;
    private boolean webPortGiven;
    private int kafkaPort = DEFAULT_KAFKA_PORT;
    private boolean kafkaPortGiven;
    private int parallelism = 2;
    private int maxInFlight = 8;
    private Duration progressInterval = Duration.ofSeconds(5);
    private final DemoTrainer.Settings demo = DemoTrainer.Settings.defaults();
    private final List<String> jobArgs = new ArrayList<>();

    public LocalModeOptions() {
    }

    /**
     * Parses {@code args[from ..]}.
     *
     * @throws IllegalArgumentException for a malformed value or a lone argument
     */
    public static LocalModeOptions parse(String[] args, int from) {
        CommandLine line = CommandLine.parse(args, from, Set.of("forever", "no-trainer"), OWN::contains, null);
        LocalModeOptions o = new LocalModeOptions();
        o.forever = line.flag("forever");
        o.trainer = line.get("no-trainer") == null || !line.flag("no-trainer");
        for (Map.Entry<String, String> e : line.values().entrySet()) {
            String value = e.getValue();
            switch (e.getKey()) {
                case "duration": o.duration(parseDuration("duration", value)); break;
                case "web-port": o.webPort(port("web-port", value)); break;
                case "kafka-port": o.kafkaPort(port("kafka-port", value)); break;
                case "parallelism": o.parallelism(OptionText.integer("parallelism", value)); break;
                case "max-in-flight": o.maxInFlight(OptionText.integer("max-in-flight", value)); break;
                case "batch-rows": o.demo.batchRows(OptionText.integer("batch-rows", value)); break;
                case "learning-rate": o.demo.learningRate(OptionText.number("learning-rate", value)); break;
                case "seed": o.demo.seed(OptionText.longInteger("seed", value)); break;
                case "stream-key": o.demo.streamKey(value); break;
                case "progress-interval": o.progressInterval(parseDuration("progress-interval", value)); break;
                case "bootstrap-servers":
                case "tripletflow.bootstrap-servers":
                    throw new IllegalArgumentException("local mode runs its own Kafka broker; use --kafka-port "
                            + "to choose its port, or run the job on a cluster to use another broker");
                default:
                    break; // flags
            }
        }
        o.jobArgs.addAll(line.passedOn()); // every other option is the job's, which rejects unknown ones
        return o;
    }

    /**
     * {@code 500ms}, {@code 20s}, {@code 2m}, {@code 1h}, {@code 1.5s}; a bare number is seconds.
     */
    public static Duration parseDuration(String name, String text) {
        Matcher m = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|sec|m|min|h)?").matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(name + " must be a duration like 60s, 2m or 500ms, got '" + text + "'");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double millis;
        switch (unit) {
            case "ms": millis = v; break;
            case "m":
            case "min": millis = v * 60_000; break;
            case "h": millis = v * 3_600_000; break;
            default: millis = v * 1000;
        }
        return Duration.ofMillis(Math.round(millis));
    }

    private static int port(String name, String v) {
        int p = OptionText.integer(name, v);
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException(name + " must be 0..65535, got " + p);
        }
        return p;
    }

    // ---- Fluent setters (for tests and embedding)

    public LocalModeOptions duration(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("duration must be > 0, got " + d);
        }
        this.duration = d;
        this.durationGiven = true;
        return this;
    }

    public LocalModeOptions forever(boolean forever) {
        this.forever = forever;
        return this;
    }

    public LocalModeOptions trainer(boolean trainer) {
        this.trainer = trainer;
        return this;
    }

    /** Flink dashboard port; 0 = any free port. Given explicitly, it must be free. */
    public LocalModeOptions webPort(int port) {
        this.webPort = port;
        this.webPortGiven = true;
        return this;
    }

    /** Kafka port; 0 = any free port. Given explicitly, it must be free. */
    public LocalModeOptions kafkaPort(int port) {
        this.kafkaPort = port;
        this.kafkaPortGiven = true;
        return this;
    }

    public LocalModeOptions parallelism(int p) {
        if (p < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1, got " + p);
        }
        this.parallelism = p;
        return this;
    }

    public LocalModeOptions maxInFlight(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("max-in-flight must be >= 1, got " + k);
        }
        this.maxInFlight = k;
        return this;
    }

    public LocalModeOptions progressInterval(Duration d) {
        this.progressInterval = Objects.requireNonNull(d);
        demo.progressInterval(d);
        return this;
    }

    /** A job option, as on the command line: {@code jobOption("neg-num", "4")}. */
    public LocalModeOptions jobOption(String name, String value) {
        jobArgs.add("--" + name);
        jobArgs.add(value);
        return this;
    }

    // ---- Getters

    /**
     * How long to run: the trainer's duration; {@code null} = until stopped (with
     * {@code --forever}, or with {@code --no-trainer} unless a duration was given).
     */
    public Duration effectiveDuration() {
        if (forever || (!trainer && !durationGiven)) {
            return null;
        }
        return duration;
    }

    public boolean trainer() { return trainer; }
    public boolean forever() { return forever; }
    public int webPort() { return webPort; }
    public boolean webPortGiven() { return webPortGiven; }
    public int kafkaPort() { return kafkaPort; }
    public boolean kafkaPortGiven() { return kafkaPortGiven; }
    public int parallelism() { return parallelism; }
    public int maxInFlight() { return maxInFlight; }
    public Duration progressInterval() { return progressInterval; }
    /** The demo's settings (mutable: adjust before starting). */
    public DemoTrainer.Settings demo() { return demo; }
    /** The arguments passed to the job, {@code --name value} pairs. */
    public String[] jobArgs() { return jobArgs.toArray(new String[0]); }
}
