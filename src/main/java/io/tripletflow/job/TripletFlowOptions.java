package io.tripletflow.job;

import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningOptions.LabelMismatchPolicy;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.backends.BackendKind;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.wire.WireBounds;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * tripletflow's one configuration surface: every option of the job, with its default and
 * description. The keys are used as they are in {@code flink-conf/config.yaml}, with
 * {@code -D key=value} and as {@code --key value} on the command line (where the
 * {@code tripletflow.} prefix may be left out: {@code --neg-num 4}).
 * {@code docs/configuration.md} is generated from this class and a test keeps them in step.
 */
public final class TripletFlowOptions {
    public static final String PREFIX = "tripletflow.";
    /** The mining options' defaults are the engine's: declared once, in {@link MiningOptions#defaults()}. */
    private static final MiningOptions DEFAULT_MINING = MiningOptions.defaults();

    private TripletFlowOptions() {}

    // ---- Kafka

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("tripletflow.bootstrap-servers")
            .stringType().defaultValue("127.0.0.1:9092").withDescription("Kafka bootstrap servers.");

    public static final ConfigOption<String> EMBEDDINGS_TOPICS = ConfigOptions.key("tripletflow.embeddings-topics")
            .stringType().defaultValue("embeddings")
            .withDescription("Comma-separated topics of embedding batches (wire format v1, key = stream key).");

    public static final ConfigOption<String> GRADIENTS_TOPIC = ConfigOptions.key("tripletflow.gradients-topic")
            .stringType().defaultValue("gradients")
            .withDescription("Topic of gradient batches; '{key}' is replaced by the stream key (e.g. 'gradients.{key}').");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC = ConfigOptions.key("tripletflow.dead-letter-topic")
            .stringType().defaultValue("embeddings.dead-letters")
            .withDescription("Topic of invalid records, unchanged, with the reason in headers.");

    public static final ConfigOption<String> STATISTICS_TOPIC = ConfigOptions.key("tripletflow.statistics-topic")
            .stringType().defaultValue("mining-statistics")
            .withDescription("Topic of per-stream-key mining statistics (JSON).");

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("tripletflow.group-id")
            .stringType().defaultValue("tripletflow").withDescription("Kafka consumer group of the source.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = ConfigOptions.key("tripletflow.starting-offsets")
            .enumType(StartingOffsets.class).defaultValue(StartingOffsets.COMMITTED_OR_EARLIEST)
            .withDescription("Where a job without state starts reading.");

    public static final ConfigOption<DeliveryMode> DELIVERY_GUARANTEE = ConfigOptions.key("tripletflow.delivery-guarantee")
            .enumType(DeliveryMode.class).defaultValue(DeliveryMode.IDEMPOTENT)
            .withDescription("idempotent (answers are written at once and may repeat after a failure, byte for byte "
                    + "but 'computed'; consumers apply each (stream key, batch id) once, e.g. with "
                    + "io.tripletflow.delivery.Deduplicator: exactly-once effect at at-least-once latency; needs rng "
                    + "counter), exactly-once (Kafka transactions committed at checkpoints; answers wait for the "
                    + "checkpoint; readers use read_committed) or at-least-once (as idempotent, without the "
                    + "replay checks). See 'Delivery modes' in docs/configuration.md.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key("tripletflow.transactional-id-prefix")
            .stringType().defaultValue("tripletflow")
            .withDescription("Prefix of the sinks' Kafka transactional ids (each sink appends its own suffix); "
                    + "unique per job on a cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT = ConfigOptions.key("tripletflow.transaction-timeout")
            .durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("transaction.timeout.ms of the exactly-once sinks; must not exceed the broker's "
                    + "transaction.max.timeout.ms (15 min by default) and must exceed the checkpoint interval.");

    /**
     * Kafka's own client properties, one key each ({@code tripletflow.kafka.security.protocol}):
     * a prefix map, read with {@link KafkaClientProperties}. Secrets keep their Kafka names, which
     * Flink masks ({@code password}, {@code jaas.config}, ...).
     */
    public static final ConfigOption<Map<String, String>> KAFKA_PROPERTIES = ConfigOptions.key("tripletflow.kafka")
            .mapType().defaultValue(Map.of())
            .withDescription("Any Kafka client property, under its Kafka name, for every Kafka client of the job "
                    + "(the source's consumer and admin client; the gradients, dead-letter and statistics "
                    + "producers), like the Kafka connector's 'properties.*': --kafka.security.protocol SASL_SSL "
                    + "--kafka.sasl.mechanism SCRAM-SHA-512 --kafka.sasl.jaas.config '...' "
                    + "--kafka.ssl.truststore.location /path --kafka.ssl.truststore.password '...'. One key per "
                    + "property, so that Flink masks secrets by their names (password, jaas.config, secret, ...) "
                    + "in its dashboard; the job logs these properties with their secrets masked. Properties the "
                    + "job sets from its own options (bootstrap.servers, group.id, linger.ms, ...) are refused. "
                    + "See 'Secured Kafka' in docs/configuration.md.");

    // ---- The mining step

    public static final ConfigOption<BackendKind> BACKEND = ConfigOptions.key("tripletflow.backend")
            .enumType(BackendKind.class).defaultValue(BackendKind.AUTO)
            .withDescription("auto (the GPU when there is one, else the CPU), cpu or gpu (fails at start without one).");

    public static final ConfigOption<Integer> GPU_DEVICE = ConfigOptions.key("tripletflow.gpu-device")
            .intType().defaultValue(0)
            .withDescription("CUDA device index when Flink's external resource 'gpu' assigns none to the slot.");

    public static final ConfigOption<Integer> CPU_THREADS = ConfigOptions.key("tripletflow.cpu-threads")
            .intType().defaultValue(1)
            .withDescription("Threads of each CPU mining operator (parallel subtasks already use the slots).");

    public static final ConfigOption<Integer> NEG_NUM = mining("neg-num", DEFAULT_MINING.negNum(), "Negatives selected per anchor.");
    public static final ConfigOption<Integer> PAIR_SIZE = mining("pair-size", DEFAULT_MINING.pairSize(),
            "Rows per group; anchor = first row of a group, positive = the next row.");
    public static final ConfigOption<Float> HARD_RATIO = mining("hard-ratio", DEFAULT_MINING.hardRatio(),
            "Share of neg-num taken among the hardest violators.");
    public static final ConfigOption<Float> RAND_RATIO = mining("rand-ratio", DEFAULT_MINING.randRatio(),
            "Share of neg-num taken at random among the rest.");
    public static final ConfigOption<Float> MARGIN = mining("margin", DEFAULT_MINING.margin(), "Hinge margin.");
    public static final ConfigOption<Float> LOSS_WEIGHT = mining("loss-weight", DEFAULT_MINING.lossWeight(), "Scales loss and gradients.");
    public static final ConfigOption<DistanceKind> DISTANCE = mining("distance", DEFAULT_MINING.distance(),
            "The pairwise distance of the embeddings.");
    public static final ConfigOption<MinerKind> MINER = mining("miner", DEFAULT_MINING.miner(),
            "Which negatives each anchor-positive pair gets.");
    public static final ConfigOption<PositivesKind> POSITIVES = mining("positives", DEFAULT_MINING.positives(),
            "An anchor's positives: the next row of its group, or every row with its label.");
    public static final ConfigOption<LossKind> LOSS = mining("loss", DEFAULT_MINING.loss(), "The term of a triplet.");
    public static final ConfigOption<ReductionKind> REDUCTION = mining("reduction", DEFAULT_MINING.reduction(),
            "The divisor that turns the sum of terms into the loss.");
    public static final ConfigOption<RngKind> RNG = mining("rng", DEFAULT_MINING.rng(),
            "counter (replay-safe, per stream key and batch id) or seed-compat (MT19937, the Caffe layer's draws).");
    public static final ConfigOption<Long> RNG_SEED = mining("rng-seed", DEFAULT_MINING.rngSeed(), "Seed of the generator.");
    public static final ConfigOption<LabelMismatchPolicy> ON_LABEL_MISMATCH = mining("on-label-mismatch",
            DEFAULT_MINING.onLabelMismatch(),
            "A positive whose label differs from its anchor's: reject (dead letter), skip-anchor or seed.");
    public static final ConfigOption<Integer> MEMORY_ROWS = mining("memory-rows", DEFAULT_MINING.memoryRows(),
            "Cross-batch memory: rows of each stream key's recent batches that its next batches are mined against "
                    + "(0 = no memory; at most " + MiningOptions.MAX_MEMORY_ROWS + "). Kept in keyed state; "
                    + "see 'Cross-batch memory' in docs/mining.md.");
    public static final ConfigOption<Integer> MEMORY_WARM_UP = mining("memory-warm-up", DEFAULT_MINING.memoryWarmUp(),
            "Batches of a stream key enqueued before its memory is mined against.");
    public static final ConfigOption<Long> MEMORY_MAX_AGE = mining("memory-max-age", DEFAULT_MINING.memoryMaxAge(),
            "Memory rows more than this many model steps older than the batch are not mined against (-1: any age).");
    public static final ConfigOption<Boolean> MEMORY_POSITIVES = ConfigOptions.key(PREFIX + "memory-positives")
            .booleanType().defaultValue(DEFAULT_MINING.memoryPositives())
            .withDescription("Memory rows with an anchor's label are its positives too (else they are left out).");
    public static final ConfigOption<Boolean> INCLUDE_MASK = ConfigOptions.key("tripletflow.include-mask")
            .booleanType().defaultValue(false)
            .withDescription("Append the N x N selection mask to every gradient batch.");

    // ---- Input bounds

    public static final ConfigOption<Integer> MAX_ROWS = ConfigOptions.key("tripletflow.max-rows")
            .intType().defaultValue(WireBounds.DEFAULT.maxRows())
            .withDescription("Largest N accepted; larger batches are dead letters.");
    public static final ConfigOption<Integer> MAX_DIMENSION = ConfigOptions.key("tripletflow.max-dimension")
            .intType().defaultValue(WireBounds.DEFAULT.maxDimension()).withDescription("Largest D accepted.");
    public static final ConfigOption<Integer> MAX_RECORD_BYTES = ConfigOptions.key("tripletflow.max-record-bytes")
            .intType().defaultValue(WireBounds.DEFAULT.maxRecordBytes()).withDescription("Largest record accepted, in bytes. Kafka's own limits "
                    + "(broker/topic message.max.bytes, 1 MB by default; the trainers' max.request.size) must admit "
                    + "the batches and their answers: the job's producers send up to this size plus the mask.");

    // ---- Staleness and statistics

    public static final ConfigOption<Long> MAX_STALENESS = ConfigOptions.key("tripletflow.max-staleness")
            .longType().defaultValue(-1L)
            .withDescription("Batches more than this many model steps behind the newest seen for their key are "
                    + "stale (-1: never).");
    public static final ConfigOption<OnStale> ON_STALE = ConfigOptions.key("tripletflow.on-stale")
            .enumType(OnStale.class).defaultValue(OnStale.ANSWER)
            .withDescription("What happens to a stale batch: answer (and count it) or drop (count it, no answer).");
    public static final ConfigOption<Duration> STATISTICS_INTERVAL = ConfigOptions.key("tripletflow.statistics-interval")
            .durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("How often each stream key's statistics are published.");
    public static final ConfigOption<Double> STATISTICS_DECAY = ConfigOptions.key("tripletflow.statistics-decay")
            .doubleType().defaultValue(0.9)
            .withDescription("Weight of the past in the decayed statistics, per batch (0..1).");
    public static final ConfigOption<Integer> TOP_LABEL_PAIRS = ConfigOptions.key("tripletflow.top-label-pairs")
            .intType().defaultValue(10)
            .withDescription("How many label pairs supplying the hardest negatives are kept per key.");
    public static final ConfigOption<Integer> ALL_EASY_BATCHES = ConfigOptions.key("tripletflow.all-easy-batches")
            .intType().defaultValue(20)
            .withDescription("Consecutive batches without a non-zero hinge before a key is flagged 'all easy' "
                    + "(the collapse signal).");
    public static final ConfigOption<Duration> STATE_TTL = ConfigOptions.key("tripletflow.state-ttl")
            .durationType().defaultValue(Duration.ofHours(24))
            .withDescription("Statistics of a stream key idle this long expire.");

    // ---- Checkpointing of the job (also settable with Flink's own keys)

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = ConfigOptions.key("tripletflow.checkpoint-interval")
            .durationType().defaultValue(Duration.ofSeconds(5))
            .withDescription("Checkpoint interval; exactly-once output becomes visible at each checkpoint; in the "
                    + "idempotent mode it bounds how much is replayed after a failure.");

    public static final ConfigOption<Duration> ALIGNED_CHECKPOINT_TIMEOUT =
            ConfigOptions.key("tripletflow.aligned-checkpoint-timeout")
            .durationType().defaultValue(Duration.ofMillis(50))
            .withDescription("A checkpoint barrier waits at most this long for its alignment before the checkpoint "
                    + "turns unaligned (in-flight records go into the checkpoint instead of waiting), so a "
                    + "checkpoint never holds answers back longer; 0 = always unaligned. Flink's "
                    + "execution.checkpointing.aligned-checkpoint-timeout.");

    // ---- Latency, from publish to answer (docs/configuration.md, 'The round trip')

    public static final ConfigOption<Duration> BUFFER_TIMEOUT = ConfigOptions.key("tripletflow.buffer-timeout")
            .durationType().defaultValue(Duration.ZERO)
            .withDescription("How long a network buffer between the job's operators may wait to fill before it is "
                    + "sent (Flink's execution.buffer-timeout.interval, 100 ms by default there): 0 sends each "
                    + "record at once, which costs nothing at the sizes of embedding batches.");

    public static final ConfigOption<Duration> PRODUCER_LINGER = ConfigOptions.key("tripletflow.producer-linger")
            .durationType().defaultValue(Duration.ZERO)
            .withDescription("linger.ms of the job's Kafka producers (Kafka's default is 5 ms): how long an answer "
                    + "may wait for others to share its request.");

    public static final ConfigOption<Duration> SOURCE_FETCH_MAX_WAIT = ConfigOptions.key("tripletflow.source-fetch-max-wait")
            .durationType().defaultValue(Duration.ofMillis(100))
            .withDescription("fetch.max.wait.ms of the source's consumer: how long the broker holds a fetch when "
                    + "there is nothing to read (a new batch ends the wait at once, with fetch.min.bytes 1).");

    private static ConfigOption<Integer> mining(String name, int value, String description) {
        return ConfigOptions.key(PREFIX + name).intType().defaultValue(value).withDescription(description);
    }

    private static ConfigOption<Long> mining(String name, long value, String description) {
        return ConfigOptions.key(PREFIX + name).longType().defaultValue(value).withDescription(description);
    }

    private static ConfigOption<Float> mining(String name, float value, String description) {
        return ConfigOptions.key(PREFIX + name).floatType().defaultValue(value).withDescription(description);
    }

    private static <E extends Enum<E>> ConfigOption<E> mining(String name, E value, String description) {
        return ConfigOptions.key(PREFIX + name).enumType(value.getDeclaringClass()).defaultValue(value)
                .withDescription(description);
    }

    /** Every option, in declaration order. */
    public static List<ConfigOption<?>> all() {
        List<ConfigOption<?>> options = new ArrayList<>();
        for (Field f : TripletFlowOptions.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                try {
                    options.add((ConfigOption<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return Collections.unmodifiableList(options);
    }

    /** The options that make {@link MiningOptions}, in the spec's order: what {@link #miningOptions} reads. */
    public static List<ConfigOption<?>> mining() {
        List<ConfigOption<?>> all = new ArrayList<>(batchMining());
        all.addAll(memory());
        return Collections.unmodifiableList(all);
    }

    /** The mining options of one batch on its own: what {@code tripletflow compute} takes besides its own flags. */
    public static List<ConfigOption<?>> batchMining() {
        return List.of(NEG_NUM, PAIR_SIZE, HARD_RATIO, RAND_RATIO, MARGIN, LOSS_WEIGHT, DISTANCE, MINER, POSITIVES,
                LOSS, REDUCTION, RNG, RNG_SEED, ON_LABEL_MISMATCH);
    }

    /** The cross-batch memory's options: a stream's state, so the job's only. */
    public static List<ConfigOption<?>> memory() {
        return List.of(MEMORY_ROWS, MEMORY_WARM_UP, MEMORY_MAX_AGE, MEMORY_POSITIVES);
    }

    /** The mining options of a configuration, validated (names as in the spec). */
    public static MiningOptions miningOptions(Configuration conf) {
        return MiningOptions.builder()
                .negNum(value(conf, NEG_NUM)).pairSize(value(conf, PAIR_SIZE))
                .hardRatio(value(conf, HARD_RATIO)).randRatio(value(conf, RAND_RATIO))
                .margin(value(conf, MARGIN)).lossWeight(value(conf, LOSS_WEIGHT))
                .distance(value(conf, DISTANCE)).miner(value(conf, MINER)).positives(value(conf, POSITIVES))
                .loss(value(conf, LOSS)).reduction(value(conf, REDUCTION))
                .rng(value(conf, RNG)).rngSeed(value(conf, RNG_SEED))
                .onLabelMismatch(value(conf, ON_LABEL_MISMATCH))
                .memoryRows(value(conf, MEMORY_ROWS)).memoryWarmUp(value(conf, MEMORY_WARM_UP))
                .memoryMaxAge(value(conf, MEMORY_MAX_AGE)).memoryPositives(value(conf, MEMORY_POSITIVES))
                .build();
    }

    public static WireBounds wireBounds(Configuration conf) {
        return new WireBounds(value(conf, MAX_ROWS), value(conf, MAX_DIMENSION), value(conf, MAX_RECORD_BYTES));
    }

    /** An option's name on the command line: its key without the prefix ({@code --neg-num}). */
    public static String commandLineName(ConfigOption<?> option) {
        return option.key().substring(PREFIX.length());
    }

    /**
     * Whether {@code option} is a prefix map, set one key each as {@code <key>.<name>}
     * ({@link #KAFKA_PROPERTIES}) rather than under its own key.
     */
    public static boolean isPrefixMap(ConfigOption<?> option) {
        return option.defaultValue() instanceof Map;
    }

    /** The values an enum option accepts, as written ({@code neg-dot, ...}), default first; none for other options. */
    public static List<String> choices(ConfigOption<?> option) {
        List<String> choices = new ArrayList<>();
        if (option.defaultValue() instanceof Enum<?> preferred) {
            choices.add(preferred.toString());
            for (Enum<?> e : preferred.getDeclaringClass().getEnumConstants()) {
                if (e != preferred) {
                    choices.add(e.toString());
                }
            }
        }
        return choices;
    }

    /**
     * The value of {@code option} in {@code conf}, or an error naming the option and what it accepts:
     * {@code --distance must be one of neg-dot, squared-euclidean, euclidean, cosine, got 'manhattan'}.
     */
    public static <T> T value(ReadableConfig conf, ConfigOption<T> option) {
        try {
            return conf.get(option);
        } catch (IllegalArgumentException e) {
            throw invalid(conf, option, e);
        }
    }

    /** {@code e}, Flink's failure to read {@code option} from {@code conf}, as an error naming the option and what it accepts. */
    static IllegalArgumentException invalid(ReadableConfig conf, ConfigOption<?> option, IllegalArgumentException e) {
        String text = conf instanceof Configuration c ? c.toMap().get(option.key()) : null;
        return new IllegalArgumentException("--" + commandLineName(option) + " must be " + accepted(option)
                + (text == null ? "" : ", got '" + text + "'"), e);
    }

    private static String accepted(ConfigOption<?> option) {
        Object d = option.defaultValue();
        if (d instanceof Enum<?>) {
            return "one of " + String.join(", ", choices(option));
        } else if (d instanceof Integer || d instanceof Long) {
            return "an integer";
        } else if (d instanceof Float || d instanceof Double) {
            return "a number";
        } else if (d instanceof Boolean) {
            return "true or false";
        } else if (d instanceof Duration) {
            return "a duration such as 500 ms, 10 s, 5 min or 24 h";
        } else if (d instanceof Map) {
            return "given one key each, as " + option.key() + ".<property>";
        }
        return "a " + d.getClass().getSimpleName();
    }
}
