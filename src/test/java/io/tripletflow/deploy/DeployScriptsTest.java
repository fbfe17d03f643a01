package io.tripletflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.local.EmbeddedKafkaBroker;
import io.tripletflow.local.Loopback;
import io.tripletflow.testutils.EmbeddedKafkaExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts of {@code deploy/} run for real, outside a container: {@code create-topics.sh} with
 * Kafka's own kafka-topics (TopicCommand) against an embedded broker, {@code submit.sh} with a stub
 * {@code flink} CLI, and {@code flink-entrypoint.sh} with a stub image entrypoint.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeployScriptsTest {
    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @TempDir
    Path tmp;

    record Run(int exit, String output) {}

    private Run run(Map<String, String> env, String... command) throws Exception {
        Path log = tmp.resolve("run-" + System.nanoTime() + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(Repo.root().toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
        return new Run(p.exitValue(), Files.readString(log));
    }

    /** A fake FLINK_HOME whose bin/flink logs its arguments (and lists the given running jobs). */
    private Path flinkHome(String runningJobs) throws Exception {
        Path home = tmp.resolve("flink");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("conf"));
        Path flink = home.resolve("bin/flink");
        Files.writeString(flink, String.join("\n",
                "#!/usr/bin/env bash",
                "echo \"$*\" >> \"$(dirname \"$0\")/calls.log\"",
                "if [ \"$1\" = list ]; then",
                "  echo 'Waiting for response...'",
                "  echo '------------------ Running/Restarting Jobs -------------------'",
                "  printf '%s\\n' \"" + runningJobs + "\"",
                "fi",
                "exit 0", ""));
        Files.setPosixFilePermissions(flink, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    /** A fake KAFKA_HOME whose bin/kafka-topics.sh is Kafka's real TopicCommand (kafka-tools). */
    private Path kafkaHome() throws Exception {
        Path home = tmp.resolve("kafka");
        Files.createDirectories(home.resolve("bin"));
        Path script = home.resolve("bin/kafka-topics.sh");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Files.writeString(script, "#!/bin/sh\nexec '" + java + "' -Xshare:auto -XX:TieredStopAtLevel=1 -cp '"
                + System.getProperty("java.class.path") + "' org.apache.kafka.tools.TopicCommand \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    private Map<String, String> submitEnv(Path home, Path jar) {
        return Map.of(
                "FLINK_HOME", home.toString(),
                "JOBMANAGER", "jobmanager:8081",
                "JOB_JAR", jar.toString(),
                "TRIPLETFLOW_CONF_STAGING", Repo.file("flink-conf").toString(),
                "FROM_SAVEPOINT", "/opt/flink/state/savepoints/savepoint-1",
                "PARALLELISM", "3",
                "JOB_ARGS", "--neg-num 8 --miner semi-hard");
    }

    @Test
    void createTopicsCreatesWhatIsMissingWithItsConfigAndLeavesTheRest() throws Exception {
        KAFKA.createTopics(1, "narrow");
        Path kafka = kafkaHome();
        Map<String, String> env = Map.of("KAFKA_HOME", kafka.toString(), "BOOTSTRAP_SERVERS", KAFKA.bootstrapServers(),
                "TOPICS", "wide:3 stats:1:cleanup.policy=compact:retention.ms=3600000 narrow:4");
        Run r = run(env, "/bin/sh", "deploy/create-topics.sh");
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("create-topics: topic wide: 3 partition(s)", "create-topics: topic stats: 1 partition(s)",
                "create-topics: warning: topic narrow has 1 partition(s), fewer than 4 asked for");
        try (Admin admin = KAFKA.broker().admin()) {
            Map<String, TopicDescription> topics = admin.describeTopics(List.of("wide", "stats", "narrow"))
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            assertThat(topics.get("wide").partitions()).hasSize(3);
            assertThat(topics.get("narrow").partitions()).hasSize(1);
            ConfigResource stats = new ConfigResource(ConfigResource.Type.TOPIC, "stats");
            Config config = admin.describeConfigs(List.of(stats)).all().get(30, TimeUnit.SECONDS).get(stats);
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
            assertThat(config.get("retention.ms").value()).isEqualTo("3600000");
        }
        Run bad = run(Map.of("KAFKA_HOME", kafka.toString(), "BOOTSTRAP_SERVERS", KAFKA.bootstrapServers(),
                "TOPICS", "oops"), "/bin/sh", "deploy/create-topics.sh");
        assertThat(bad.exit).isEqualTo(2);
        assertThat(bad.output).contains("expected NAME:PARTITIONS");
    }

    @Test
    void submitCopiesTheConfigurationAndRunsTheJarOnce() throws Exception {
        Path home = flinkHome("");
        Path jar = tmp.resolve("tripletflow-job.jar");
        Files.writeString(jar, "a jar");
        Run r = run(submitEnv(home, jar), "bash", "deploy/submit.sh");
        assertThat(r.exit).as(r.output).isZero();
        List<String> calls = Files.readAllLines(home.resolve("bin/calls.log"));
        assertThat(calls.get(0)).isEqualTo("list -r -m jobmanager:8081");
        assertThat(calls.get(calls.size() - 1)).isEqualTo("run -d -m jobmanager:8081 -s /opt/flink/state/savepoints/savepoint-1 -p 3 "
                + jar + " --neg-num 8 --miner semi-hard");
        assertThat(home.resolve("conf/config.yaml")).hasSameTextualContentAs(Repo.file("flink-conf/config.yaml"));

        // Again while the job runs: nothing is submitted twice.
        Files.writeString(home.resolve("bin/calls.log"), "");
        Files.writeString(home.resolve("bin/flink"), Files.readString(home.resolve("bin/flink"))
                .replace("printf '%s\\n' \"\"", "printf '%s\\n' \"28.11.2025 10:00:00 : 0123456789abcdef : tripletflow (RUNNING)\""));
        Run again = run(submitEnv(home, jar), "bash", "deploy/submit.sh");
        assertThat(again.exit).as(again.output).isZero();
        assertThat(again.output).contains("already running");
        assertThat(Files.readAllLines(home.resolve("bin/calls.log"))).noneMatch(l -> l.startsWith("run "));
    }

    @Test
    void submitRefusesAMissingJar() throws Exception {
        Path home = flinkHome("");
        Run r = run(submitEnv(home, tmp.resolve("missing.jar")), "bash", "deploy/submit.sh");
        assertThat(r.exit).isEqualTo(1);
        assertThat(r.output).contains("no job jar at", "mvn -B -DskipTests package");
    }

    @Test
    void entrypointCopiesTheConfigurationPreparesTheStateVolumeAndHandsOver() throws Exception {
        Path home = tmp.resolve("flink-home");
        Files.createDirectories(home.resolve("conf"));
        Path state = tmp.resolve("state");
        Path stub = tmp.resolve("docker-entrypoint.sh");
        Files.writeString(stub, "#!/usr/bin/env bash\necho \"image entrypoint as $(id -un): $*\"\n");
        Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
        String user = run(Map.of(), "id", "-un").output.strip();
        Run r = run(Map.of("FLINK_HOME", home.toString(),
                        "TRIPLETFLOW_CONF_STAGING", Repo.file("flink-conf").toString(),
                        "TRIPLETFLOW_STATE_DIR", state.toString(),
                        "FLINK_DOCKER_ENTRYPOINT", stub.toString(),
                        "FLINK_USER", user),
                "bash", "deploy/flink-entrypoint.sh", "taskmanager");
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output.strip()).isEqualTo("image entrypoint as " + user + ": taskmanager");
        assertThat(home.resolve("conf/config.yaml")).hasSameTextualContentAs(Repo.file("flink-conf/config.yaml"));
        assertThat(state.resolve("checkpoints")).isDirectory();
        assertThat(state.resolve("savepoints")).isDirectory();
    }

    @Test
    void scriptsParse() throws Exception {
        for (String script : Set.of("deploy/submit.sh", "deploy/flink-entrypoint.sh", "deploy/create-topics.sh")) {
            Run r = run(Map.of(), script.endsWith("create-topics.sh") ? "/bin/sh" : "bash", "-n", script);
            assertThat(r.exit).as(script + ": " + r.output).isZero();
        }
        assertThat(new String(Files.readAllBytes(Repo.file("deploy/submit.sh")), StandardCharsets.UTF_8))
                .startsWith("#!/usr/bin/env bash");
        assertThat(EmbeddedKafkaBroker.HOST).isEqualTo(Loopback.HOST).isEqualTo("127.0.0.1");
    }
}
