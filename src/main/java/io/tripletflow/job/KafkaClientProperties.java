package io.tripletflow.job;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

/**
 * The Kafka client properties the job passes as they are to each of its Kafka clients (the source's
 * consumer and admin client, the three sinks' producers): {@link TripletFlowOptions#KAFKA_PROPERTIES},
 * set one key each as {@code tripletflow.kafka.<property>} ({@code --kafka.<property>} on the
 * command line), under Kafka's own names, as the Kafka connector's SQL {@code properties.*}.
 *
 * <pre>{@code
 * --kafka.security.protocol SASL_SSL --kafka.sasl.mechanism SCRAM-SHA-512
 * --kafka.sasl.jaas.config 'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";'
 * --kafka.ssl.truststore.location /etc/kafka/truststore.p12 --kafka.ssl.truststore.password '...'
 * }</pre>
 *
 * <p>Secrets: a property is {@linkplain #isSecret secret} when Flink would mask its name or Kafka
 * declares it a password; {@link #masked} is the only form in which the job logs the properties.
 * Properties the job sets from its own options, or needs for its guarantees, are refused with the
 * option to use instead, so that each setting has one place.
 */
public final class KafkaClientProperties {
    /** The keys' prefix: {@code tripletflow.kafka.}. */
    public static final String PREFIX = TripletFlowOptions.KAFKA_PROPERTIES.key() + ".";
    /** What a secret's value is replaced with: Flink's own mask. */
    public static final String MASK = GlobalConfiguration.HIDDEN_CONTENT;

    /** Kafka's password-typed client properties (JAAS config, key and store passwords, PEM keys, ...). */
    private static final Set<String> KAFKA_PASSWORDS = Stream.of(
                    ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef())
            .flatMap(def -> def.configKeys().values().stream())
            .filter(key -> key.type == ConfigDef.Type.PASSWORD)
            .map(key -> key.name)
            .collect(Collectors.toUnmodifiableSet());

    /** Properties the job sets itself, and where they come from instead. */
    private static final Map<String, String> SET_BY_THE_JOB = Map.ofEntries(
            Map.entry("bootstrap.servers", "from --bootstrap-servers"),
            Map.entry("group.id", "from --group-id"),
            Map.entry("transactional.id", "from --transactional-id-prefix"),
            Map.entry("transaction.timeout.ms", "from --transaction-timeout"),
            Map.entry("linger.ms", "from --producer-linger"),
            Map.entry("fetch.max.wait.ms", "from --source-fetch-max-wait"),
            Map.entry("max.request.size", "from --max-record-bytes (room for the largest answer it admits)"),
            Map.entry("isolation.level", "itself: the source reads read_committed, so that a trainer's aborted "
                    + "batches are never mined"),
            Map.entry("fetch.min.bytes", "itself: 1, so that a fetch returns as soon as a batch is there"),
            Map.entry("key.serializer", "itself: records are bytes in wire format v1"),
            Map.entry("value.serializer", "itself: records are bytes in wire format v1"),
            Map.entry("key.deserializer", "itself: records are bytes in wire format v1"),
            Map.entry("value.deserializer", "itself: records are bytes in wire format v1"));

    private KafkaClientProperties() {}

    /** Whether {@code key} (a full configuration key) is one of these properties. */
    public static boolean isKey(String key) {
        return key.startsWith(PREFIX) && key.length() > PREFIX.length();
    }

    /**
     * The properties of {@code conf}, Kafka's names to their values, checked.
     *
     * @throws IllegalArgumentException naming a property the job sets itself
     */
    public static Map<String, String> of(ReadableConfig conf) {
        Map<String, String> properties = new TreeMap<>(conf.get(TripletFlowOptions.KAFKA_PROPERTIES));
        check(properties);
        return properties;
    }

    /** {@link #of} as the {@link Properties} a Kafka client is built from. */
    public static Properties properties(ReadableConfig conf) {
        Properties p = new Properties();
        p.putAll(of(conf));
        return p;
    }

    /** Refuses the properties the job sets itself, naming the option that sets each. */
    static void check(Map<String, String> properties) {
        for (String property : properties.keySet()) {
            String source = SET_BY_THE_JOB.get(property);
            if (source != null) {
                throw new IllegalArgumentException("--kafka." + property + ": the job sets " + property + " " + source);
            }
        }
    }

    /**
     * Whether the value of Kafka client property {@code property} is a secret: Flink masks its name
     * ({@code password}, {@code secret}, {@code jaas.config}, {@code token}, ...), or Kafka declares it a
     * password ({@code ssl.keystore.key}, {@code sasl.oauthbearer.assertion.private.key.passphrase}, ...).
     */
    public static boolean isSecret(String property) {
        return GlobalConfiguration.isSensitive(property) || KAFKA_PASSWORDS.contains(property);
    }

    /**
     * The secrets whose full keys ({@code tripletflow.kafka.<property>}) Flink does not recognise as
     * sensitive, so that its dashboard shows them as they are when they are set in the cluster's
     * configuration.
     */
    public static List<String> secretsFlinkShows(Map<String, String> properties) {
        return properties.keySet().stream()
                .filter(p -> isSecret(p) && !GlobalConfiguration.isSensitive(PREFIX + p))
                .sorted().toList();
    }

    /** The properties with every secret's value replaced by {@value #MASK}: what may be logged. */
    public static String masked(Map<String, String> properties) {
        Map<String, String> shown = new LinkedHashMap<>();
        new TreeMap<>(properties).forEach((k, v) -> shown.put(k, isSecret(k) ? MASK : v));
        return shown.toString();
    }
}
