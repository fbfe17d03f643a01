package io.tripletflow.job;

import static io.tripletflow.job.TripletFlowOptions.*;

import io.tripletflow.config.CommandLine;
import io.tripletflow.wire.GradientsTopic;
import io.tripletflow.wire.WireFormat;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tripletflow streaming job: embedding batches from Kafka are keyed by stream key, mined
 * (triplets, loss, gradients), and answered on the parameter-server topic; invalid records go to
 * the dead-letter topic and per-key mining statistics to the statistics topic.
 *
 * <pre>
 *   embeddings ─▶ require stream key ─▶ key by stream ─▶ mine triplets ─▶ gradients
 *                        │                                  │    └──────▶ statistics
 *                        └──────────── dead letters ◀───────┘
 * </pre>
 *
 * <p>Run on a cluster with {@code flink run tripletflow-job.jar [--option value ...]}; options
 * are {@link TripletFlowOptions}, also read from the cluster's {@code config.yaml}.
 */
public final class TripletFlowJob {
    private static final Logger LOG = LoggerFactory.getLogger(TripletFlowJob.class);
    /** Kafka's default {@code buffer.memory} of a producer. */
    private static final long DEFAULT_BUFFER_MEMORY = 32L << 20;
    /** Kafka's default {@code socket.request.max.bytes} of a broker: no produce request is larger. */
    private static final long LARGEST_BROKER_REQUEST = 100L << 20;

    private TripletFlowJob() {}

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration conf = configuration(env.getConfiguration(), args);
        build(env, conf);
        env.execute("tripletflow");
    }

    /**
     * The job's options: what the cluster configuration holds, overlaid with {@code --key value}
     * arguments ({@code --neg-num 4} and {@code --tripletflow.neg-num 4} alike), Kafka client
     * properties included ({@code --kafka.security.protocol SASL_SSL}, see {@link KafkaClientProperties}).
     */
    public static Configuration configuration(ReadableConfig cluster, String... args) {
        Configuration conf = new Configuration();
        Map<String, ConfigOption<?>> known = new LinkedHashMap<>();
        for (ConfigOption<?> option : all()) {
            if (isPrefixMap(option)) {
                continue; // its keys are copied below, one each, so that Flink can mask secrets by name
            }
            known.put(option.key(), option);
            try {
                cluster.getOptional(option).ifPresent(v -> conf.setString(option.key(), String.valueOf(v)));
            } catch (IllegalArgumentException e) {
                throw invalid(cluster, option, e);
            }
        }
        Map<String, String> clusterKafka = new TreeMap<>();
        cluster.toMap().forEach((key, value) -> {
            if (key.equals(KAFKA_PROPERTIES.key())) {
                throw new IllegalArgumentException(oneKeyEach());
            } else if (KafkaClientProperties.isKey(key)) {
                conf.setString(key, value);
                clusterKafka.put(key.substring(KafkaClientProperties.PREFIX.length()), value);
            }
        });
        CommandLine line = CommandLine.parse(args, 0, Set.of(),
                name -> known.containsKey(keyOf(name)) || KafkaClientProperties.isKey(keyOf(name)),
                name -> keyOf(name).equals(KAFKA_PROPERTIES.key()) ? oneKeyEach()
                        : "unknown option --" + name + "; see docs/configuration.md");
        line.values().forEach((name, value) -> conf.setString(keyOf(name), value));
        // Fail at submission, not in a task: every option must parse, and the delivery mode must be
        // able to keep its promise with the mining options.
        for (ConfigOption<?> option : known.values()) {
            value(conf, option);
        }
        conf.get(DELIVERY_GUARANTEE).checkReplayable(miningOptions(conf));
        KafkaClientProperties.of(conf);
        for (String property : KafkaClientProperties.secretsFlinkShows(clusterKafka)) {
            LOG.warn("{}{} is a secret, but Flink does not mask its name: the cluster configuration, and with it "
                    + "the dashboard, shows it as it is. Keep it in a file (ssl.keystore.location instead of "
                    + "ssl.keystore.key) or behind a Kafka config provider ('${env:NAME}', see 'Secured Kafka' in "
                    + "docs/configuration.md).", KafkaClientProperties.PREFIX, property);
        }
        return conf;
    }

    private static String oneKeyEach() {
        return "give each Kafka client property as --kafka.<property> VALUE (" + KafkaClientProperties.PREFIX
                + "<property> in the configuration), not as one map, so that Flink masks secrets by name";
    }

    /** An option's key from its command-line name, with or without the prefix. */
    private static String keyOf(String name) {
        return name.startsWith(PREFIX) ? name : PREFIX + name;
    }

    /** Adds the pipeline to {@code env}. */
    public static void build(StreamExecutionEnvironment env, Configuration conf) {
        build(env, conf, null, UnaryOperator.identity());
    }

    /**
     * Test hook: the same pipeline, with the source bounded at {@code stoppingOffsets} (none when
     * null) and {@code afterSource} applied to the records straight after the source (e.g. a
     * throttling or failure-injecting map).
     */
    static void build(StreamExecutionEnvironment env, Configuration conf, OffsetsInitializer stoppingOffsets,
                      UnaryOperator<DataStream<KafkaRecord>> afterSource) {
        build(env, conf, stoppingOffsets, afterSource, new MiningFunction(MiningFunction.Settings.of(conf), miningOptions(conf)));
    }

    /**
     * Bench hook: the same pipeline with {@code mine} in place of the mining operator (a
     * pass-through that answers without mining measures what Kafka and Flink allow).
     */
    public static void build(StreamExecutionEnvironment env, Configuration conf, OffsetsInitializer stoppingOffsets,
                             UnaryOperator<DataStream<KafkaRecord>> afterSource,
                             KeyedProcessFunction<String, KafkaRecord, GradientRecord> mine) {
        Map<String, String> kafka = KafkaClientProperties.of(conf);
        if (!kafka.isEmpty()) {
            LOG.info("tripletflow Kafka clients at {} with {}", conf.get(BOOTSTRAP_SERVERS),
                    KafkaClientProperties.masked(kafka));
        }
        configureForLatency(env, conf);
        GradientsTopic gradientsTopic = GradientsTopic.of(conf.get(GRADIENTS_TOPIC));
        DataStream<KafkaRecord> records = afterSource.apply(env
                .fromSource(source(conf, stoppingOffsets), WatermarkStrategy.noWatermarks(), "embedding batches")
                .uid("embedding-batches"));
        SingleOutputStreamOperator<KafkaRecord> keyed = records
                .process(new RequireStreamKey(gradientsTopic)).name("require stream key").uid("require-stream-key");
        SingleOutputStreamOperator<GradientRecord> mined = keyed
                .keyBy(KafkaRecord::keyAsString)
                .process(mine)
                .name("mine triplets").uid(StreamState.OPERATOR_UID);
        mined.sinkTo(sink(conf, "gradients", new GradientRecordSerializer(gradientsTopic)))
                .name("gradients").uid("gradients-sink");
        keyed.getSideOutput(MiningFunction.DEAD_LETTERS)
                .union(mined.getSideOutput(MiningFunction.DEAD_LETTERS))
                .sinkTo(sink(conf, "dead-letters", largestDeadLetterBytes(conf),
                        new DeadLetterSerializer(conf.get(DEAD_LETTER_TOPIC))))
                .name("dead letters").uid("dead-letters-sink");
        mined.getSideOutput(MiningFunction.STATISTICS)
                .sinkTo(sink(conf, "statistics", new StatisticsSerializer(conf.get(STATISTICS_TOPIC))))
                .name("statistics").uid("statistics-sink");
    }

    /**
     * The round trip's knobs on the job's side: exactly-once checkpoints (the state stays
     * exactly-once in every delivery mode) that turn unaligned rather than hold records back,
     * network buffers sent without waiting to fill, and no copy of each record between chained
     * operators (none of the job's functions keeps or changes a record it has passed on).
     */
    static void configureForLatency(StreamExecutionEnvironment env, Configuration conf) {
        if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            env.enableCheckpointing(conf.get(CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        }
        env.getCheckpointConfig().enableUnalignedCheckpoints(true);
        env.getCheckpointConfig().setAlignedCheckpointTimeout(conf.get(ALIGNED_CHECKPOINT_TIMEOUT));
        env.setBufferTimeout(conf.get(BUFFER_TIMEOUT).toMillis());
        env.getConfig().enableObjectReuse();
    }

    static KafkaSource<KafkaRecord> source(Configuration conf, OffsetsInitializer stoppingOffsets) {
        List<String> topics = Arrays.stream(conf.get(EMBEDDINGS_TOPICS).split(","))
                .map(String::trim).filter(t -> !t.isEmpty()).toList();
        OffsetsInitializer start = conf.get(STARTING_OFFSETS).initializer();
        KafkaSourceBuilder<KafkaRecord> builder = KafkaSource.<KafkaRecord>builder()
                .setProperties(KafkaClientProperties.properties(conf)) // first: the job's own settings below win
                .setBootstrapServers(conf.get(BOOTSTRAP_SERVERS))
                .setTopics(topics)
                .setGroupId(conf.get(GROUP_ID))
                .setStartingOffsets(start)
                .setDeserializer(new KafkaRecordDeserializer())
                // Trainers write transactionally too; never mine a batch that was aborted.
                .setProperty("isolation.level", "read_committed")
                .setProperty("fetch.min.bytes", "1")
                .setProperty("fetch.max.wait.ms", Long.toString(conf.get(SOURCE_FETCH_MAX_WAIT).toMillis()));
        if (stoppingOffsets != null) {
            builder.setBounded(stoppingOffsets);
        }
        return builder.build();
    }

    /** A sink whose records are at most an answer's size ({@link #largestAnswerBytes}). */
    static <T> KafkaSink<T> sink(Configuration conf, String name, KafkaRecordSerializationSchema<T> schema) {
        // A gradient batch is as large as the batch it answers, plus its mask: let the producer send
        // what the input bounds admit (the broker's message.max.bytes must admit it too).
        return sink(conf, name, largestAnswerBytes(conf), schema);
    }

    /** A sink whose producer sends records of up to {@code largestRecordBytes}, key and headers included. */
    static <T> KafkaSink<T> sink(Configuration conf, String name, long largestRecordBytes,
                                 KafkaRecordSerializationSchema<T> schema) {
        DeliveryGuarantee guarantee = conf.get(DELIVERY_GUARANTEE).sinkGuarantee();
        return KafkaSink.<T>builder()
                .setBootstrapServers(conf.get(BOOTSTRAP_SERVERS))
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(guarantee)
                .setTransactionalIdPrefix(conf.get(TRANSACTIONAL_ID_PREFIX) + "-" + name)
                .setKafkaProducerConfig(producerProperties(conf, largestRecordBytes))
                .build();
    }

    /** The properties of a sink's producer that sends records of up to {@code largestRecordBytes}. */
    static Properties producerProperties(Configuration conf, long largestRecordBytes) {
        Properties producer = KafkaClientProperties.properties(conf);
        producer.setProperty("linger.ms", Long.toString(conf.get(PRODUCER_LINGER).toMillis()));
        producer.setProperty("transaction.timeout.ms", Long.toString(conf.get(TRANSACTION_TIMEOUT).toMillis()));
        producer.setProperty("max.request.size", Long.toString(largestRecordBytes));
        // The producer refuses a record larger than its whole buffer too, and a refused record fails
        // the job (over and over, on replay): buffer.memory, 32 MiB by default, must hold the largest.
        long buffer = Long.parseLong(producer.getProperty("buffer.memory", Long.toString(DEFAULT_BUFFER_MEMORY)));
        producer.setProperty("buffer.memory", Long.toString(Math.max(buffer, largestRecordBytes)));
        return producer;
    }

    /**
     * The largest dead letter: an input record as Kafka delivered it, plus the headers the job adds.
     * The input bounds do not bound it (a record over {@code max-record-bytes} is a dead letter
     * itself), the broker does: it refuses requests over {@code socket.request.max.bytes}, 100 MiB by
     * default, so no record a producer wrote to it is larger.
     */
    static long largestDeadLetterBytes(Configuration conf) {
        return Math.max(largestAnswerBytes(conf), LARGEST_BROKER_REQUEST + 4096);
    }

    /** The largest gradient batch the bounds admit (with its mask), plus room for key and headers. */
    static long largestAnswerBytes(Configuration conf) {
        long mask = conf.get(INCLUDE_MASK) ? WireFormat.maskBytes(conf.get(MAX_ROWS)) : 0;
        return Math.min(Integer.MAX_VALUE, conf.get(MAX_RECORD_BYTES) + 16L + mask + 4096);
    }
}
