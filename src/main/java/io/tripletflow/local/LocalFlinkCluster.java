package io.tripletflow.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Flink {@link Configuration} of a local (in-JVM MiniCluster) run, bound to loopback:
 * web dashboard on {@code 127.0.0.1:<webPort>} (default 8081), RocksDB state backend,
 * exactly-once checkpoints at a configurable interval into a checkpoint directory (a temporary
 * one unless given; {@link #close()} deletes a temporary one).
 *
 * <pre>{@code
 * try (LocalFlinkCluster local = LocalFlinkCluster.builder().webPort(8081).build()) {
 *     StreamExecutionEnvironment env = local.createEnvironment();
 *     ... build the job ...
 *     env.execute("tripletflow");
 * }
 * }</pre>
 *
 * <p>The web UI needs {@code flink-runtime-web} on the class path; RocksDB needs
 * {@code flink-statebackend-rocksdb}. Both are {@code provided} dependencies of this project.
 * The cluster lives as long as the job: when a (bounded) job ends, {@code execute} shuts the
 * in-JVM cluster down and the dashboard goes with it.
 */
public final class LocalFlinkCluster implements AutoCloseable {

    public static final int DEFAULT_WEB_PORT = 8081;
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(5);

    private final Configuration configuration;
    private final Path checkpointDir;
    private final boolean ownsCheckpointDir;
    private final int webPort;
    private final int parallelism;

    private LocalFlinkCluster(Builder b) {
        this.webPort = b.webPort;
        this.parallelism = b.parallelism;
        if (b.checkpointDir != null) {
            this.checkpointDir = b.checkpointDir.toAbsolutePath();
            this.ownsCheckpointDir = false;
        } else {
            try {
                this.checkpointDir = Files.createTempDirectory("tripletflow-checkpoints-").toAbsolutePath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            this.ownsCheckpointDir = true;
        }
        this.configuration = buildConfiguration(b, checkpointDir);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Loopback bind settings only (REST, JobManager and TaskManager hosts on 127.0.0.1, REST on
     * the given port; 0 = any free port). Also the base of {@link #configuration()}; tests can
     * use it for a {@code MiniClusterExtension}.
     */
    public static Configuration loopbackConfiguration(int restPort) {
        Configuration conf = new Configuration();
        conf.set(RestOptions.BIND_ADDRESS, Loopback.HOST);
        conf.set(RestOptions.ADDRESS, Loopback.HOST);
        conf.set(RestOptions.PORT, restPort);
        conf.set(RestOptions.BIND_PORT, String.valueOf(restPort));
        conf.set(JobManagerOptions.ADDRESS, Loopback.HOST);
        conf.set(JobManagerOptions.BIND_HOST, Loopback.HOST);
        conf.set(TaskManagerOptions.BIND_HOST, Loopback.HOST);
        conf.set(TaskManagerOptions.HOST, Loopback.HOST);
        return conf;
    }

    private static Configuration buildConfiguration(Builder b, Path checkpointDir) {
        Configuration conf = loopbackConfiguration(b.webPort);
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, b.incrementalCheckpoints);
        if (b.checkpointInterval != null) {
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, b.checkpointInterval);
            conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        }
        // Task slots are left unset: the local executor then gives its TaskManager as many
        // slots as the job's highest operator parallelism.
        conf.set(CoreOptions.DEFAULT_PARALLELISM, b.parallelism);
        for (Map.Entry<String, String> e : b.extra.entrySet()) {
            conf.setString(e.getKey(), e.getValue());
        }
        return conf;
    }

    /** A copy of the configuration. */
    public Configuration configuration() {
        return new Configuration(configuration);
    }

    /**
     * A local environment (an in-JVM MiniCluster started by {@code execute}) with the web
     * dashboard at {@link #webUiUrl()}.
     */
    public StreamExecutionEnvironment createEnvironment() {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(configuration());
        env.setParallelism(parallelism);
        return env;
    }

    /** {@code http://127.0.0.1:<webPort>/} (meaningless if the port is 0). */
    public String webUiUrl() {
        return "http://" + Loopback.HOST + ":" + webPort + "/";
    }

    public int webPort() {
        return webPort;
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    /** Deletes the checkpoint directory if it was a temporary one created here. */
    @Override
    public void close() {
        if (ownsCheckpointDir) {
            TemporaryDirectory.delete(checkpointDir);
        }
    }

    /** Options for {@link LocalFlinkCluster}. */
    public static final class Builder {
        private int webPort = DEFAULT_WEB_PORT;
        private int parallelism = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        private Duration checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL;
        private Path checkpointDir;
        private boolean incrementalCheckpoints = true;
        private final Map<String, String> extra = new LinkedHashMap<>();

        private Builder() {
        }

        /** Web dashboard / REST port on 127.0.0.1; default 8081, 0 = any free port. */
        public Builder webPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("webPort: " + port);
            }
            this.webPort = port;
            return this;
        }

        /** Default parallelism; default min(4, #cpus). */
        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new IllegalArgumentException("parallelism: " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        /** Exactly-once checkpoint interval; default 5 s; {@code null} disables checkpointing. */
        public Builder checkpointInterval(Duration interval) {
            if (interval != null && (interval.isNegative() || interval.isZero())) {
                throw new IllegalArgumentException("checkpointInterval: " + interval);
            }
            this.checkpointInterval = interval;
            return this;
        }

        /** Where checkpoints go; default a temporary directory deleted by {@code close()}. */
        public Builder checkpointDir(Path dir) {
            this.checkpointDir = Objects.requireNonNull(dir);
            return this;
        }

        /** RocksDB incremental checkpoints; default true. */
        public Builder incrementalCheckpoints(boolean incremental) {
            this.incrementalCheckpoints = incremental;
            return this;
        }

        /** Any other Flink option (string form, e.g. {@code restart-strategy.type}); applied last. */
        public Builder set(String key, String value) {
            extra.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        public LocalFlinkCluster build() {
            return new LocalFlinkCluster(this);
        }
    }
}
