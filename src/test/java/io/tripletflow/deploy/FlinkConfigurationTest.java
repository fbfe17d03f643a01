package io.tripletflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.job.TripletFlowJob;
import io.tripletflow.job.TripletFlowOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code flink-conf/config.yaml} as Flink 2.2 reads it ({@link GlobalConfiguration}): every key is
 * one that Flink or tripletflow knows (and not a deprecated name), every value parses as its
 * option's type, and the settings the deployment relies on are there.
 */
class FlinkConfigurationTest {
    private static FlinkOptionCatalog catalog;
    private static Configuration conf;

    @BeforeAll
    static void load() throws Exception {
        catalog = new FlinkOptionCatalog();
        conf = GlobalConfiguration.loadConfiguration(Repo.file("flink-conf").toString());
    }

    @Test
    void catalogSeesFlinksOptions() {
        assertThat(catalog.size()).as("ConfigOptions found in Flink's *Options classes").isGreaterThan(500);
        assertThat(catalog.scannedClasses()).contains(
                CheckpointingOptions.class.getName(), StateBackendOptions.class.getName(),
                "org.apache.flink.state.rocksdb.RocksDBOptions");
        assertThat(catalog.reporterOptions()).contains("factory.class", "interval", "port", "scope.variables.excludes");
        assertThat(catalog.known("no.such.option")).isFalse();
        assertThat(catalog.known("metrics.reporter.prom.no-such-parameter")).isFalse();
        assertThat(catalog.replacementOf("state.checkpoints.dir")).contains("execution.checkpointing.dir");
    }

    @Test
    void everyKeyIsKnownAndCurrent() {
        assertThat(conf.keySet()).as("keys read from flink-conf/config.yaml").hasSizeGreaterThan(30);
        List<String> unknown = new ArrayList<>();
        Map<String, String> deprecated = new LinkedHashMap<>();
        for (String key : conf.keySet()) {
            if (!catalog.known(key)) {
                unknown.add(key);
            }
            catalog.replacementOf(key).ifPresent(r -> deprecated.put(key, r));
        }
        assertThat(unknown).as("keys neither Flink 2.2 nor TripletFlowOptions knows").isEmpty();
        assertThat(deprecated).as("deprecated keys -> their current names").isEmpty();
    }

    @Test
    void everyValueParsesAsItsOptionsType() {
        List<String> bad = new ArrayList<>();
        for (String key : conf.keySet()) {
            catalog.option(key).ifPresent(option -> {
                try {
                    conf.get(option);
                } catch (RuntimeException e) {
                    bad.add(key + ": " + e.getMessage());
                }
            });
        }
        assertThat(bad).isEmpty();
    }

    @Test
    void gpuBlockIsCommentedOutAndValid() {
        // Off for CPU-only TaskManagers; the compose file's GPU TaskManager turns the same keys on.
        assertThat(conf.containsKey("external-resources")).isFalse();
        Map<String, String> gpu = new LinkedHashMap<>();
        for (String line : Repo.read("flink-conf/config.yaml").split("\n")) {
            String l = line.strip();
            if (l.startsWith("# external-resource")) {
                String kv = l.substring(2);
                int colon = kv.indexOf(": ");
                gpu.put(kv.substring(0, colon), kv.substring(colon + 2));
            }
        }
        assertThat(gpu).containsEntry("external-resources", "gpu")
                .containsEntry("external-resource.gpu.driver-factory.class",
                        "org.apache.flink.externalresource.gpu.GPUDriverFactory")
                .containsKeys("external-resource.gpu.amount", "external-resource.gpu.param.discovery-script.path");
        assertThat(gpu.keySet()).allSatisfy(k -> assertThat(catalog.known(k)).as(k).isTrue());
        assertThat(ComposeFileTest.flinkProperties("taskmanager-gpu")).as("the GPU TaskManager's FLINK_PROPERTIES")
                .isEqualTo(gpu);
    }

    @Test
    void stateCheckpointsRestartsAndJvm() {
        assertThat(conf.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(conf.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("filesystem");
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).startsWith("file:///opt/flink/state/");
        assertThat(conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).startsWith("file:///opt/flink/state/");
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE)).isEqualTo(CheckpointingMode.EXACTLY_ONCE);
        assertThat(conf.getString("execution.checkpointing.externalized-checkpoint-retention", ""))
                .isEqualTo("RETAIN_ON_CANCELLATION");
        Duration interval = conf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL);
        assertThat(interval).as("the cluster's interval wins over the job's: keep them equal")
                .isEqualTo(conf.get(TripletFlowOptions.CHECKPOINT_INTERVAL));
        Duration transactionTimeout = conf.get(TripletFlowOptions.TRANSACTION_TIMEOUT);
        assertThat(interval).isLessThan(transactionTimeout);
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT)).isLessThan(transactionTimeout);
        assertThat(conf.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
        assertThat(conf.get(CoreOptions.FLINK_JVM_OPTIONS)).contains("--add-modules jdk.incubator.vector");
        assertThat(conf.get(RestOptions.PORT)).isEqualTo(8081);
    }

    /** What Flink 2.2's own config.yaml gives every Flink JVM on Java 17. */
    private static final List<String> JAVA_17_OPTIONS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /**
     * This file replaces Flink's own {@code config.yaml} in a deployment (the compose file mounts
     * it), so it must carry Flink's Java 17 options itself: without them {@code flink run} of the
     * job dies in the client ({@code InaccessibleObjectException ... java.util}). What bin/config.sh
     * gives a Flink JVM is the default options followed by {@code env.java.opts.all}.
     */
    @Test
    void everyFlinkJvmGetsFlinksJava17OptionsAndTheVectorModule() {
        String jvm = conf.getString("env.java.default-opts.all", "") + " " + conf.getString("env.java.opts.all", "");
        List<String> options = List.of(jvm.trim().split("\\s+"));
        assertThat(options).as("the JVM options of every Flink process").containsAll(JAVA_17_OPTIONS);
        assertThat(jvm).contains("--add-modules jdk.incubator.vector");
    }

    @Test
    void prometheusReporterIsConfigured() throws Exception {
        String factory = conf.getString("metrics.reporter.prom.factory.class", null);
        assertThat(factory).isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        assertThat(MetricReporterFactory.class.isAssignableFrom(Class.forName(factory))).isTrue();
        assertThat(conf.getString("metrics.reporter.prom.port", null)).isEqualTo(String.valueOf(prometheusPort()));
    }

    @Test
    void tripletflowOptionsAreValidAndMatchTheComposeFile() {
        Configuration job = TripletFlowJob.configuration(conf);   // parses and validates every option
        for (ConfigOption<?> o : TripletFlowOptions.all()) {
            if (conf.containsKey(o.key())) {
                assertThat(String.valueOf(job.get(o))).as(o.key()).isEqualTo(String.valueOf(conf.get(o)));
            }
        }
        assertThat(conf.get(TripletFlowOptions.BOOTSTRAP_SERVERS)).isEqualTo(ComposeFileTest.internalBootstrap());
        assertThat(conf.get(TripletFlowOptions.TRANSACTION_TIMEOUT))
                .isEqualTo(TripletFlowOptions.TRANSACTION_TIMEOUT.defaultValue());
    }

    /** The Prometheus reporter's port, as the file sets it. */
    static int prometheusPort() {
        Configuration c = GlobalConfiguration.loadConfiguration(Repo.file("flink-conf").toString());
        return Integer.parseInt(c.getString("metrics.reporter.prom.port", "-1"));
    }

    /** The loaded file, for the other deployment tests. */
    static Configuration configuration() {
        return GlobalConfiguration.loadConfiguration(Repo.file("flink-conf").toString());
    }
}
