package io.tripletflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.job.TripletFlowOptions;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * {@code docker-compose.yml} against the code: image tags, ports, paths, topic names and options
 * agree with the pom, {@code flink-conf/config.yaml}, {@link TripletFlowOptions} and the files under
 * {@code deploy/}. Parsed with snakeyaml-engine (Flink's own YAML library); where a
 * {@code docker-compose} or {@code docker compose} CLI is installed, also validated by it (no Docker
 * engine needed for {@code config}).
 */
class ComposeFileTest {
    static final List<String> FLINK_SERVICES = List.of("jobmanager", "taskmanager", "taskmanager-gpu");
    private static final Map<String, Object> COMPOSE = Repo.yaml("docker-compose.yml");
    private static final Configuration CONF = FlinkConfigurationTest.configuration();

    @SuppressWarnings("unchecked")
    static Map<String, Object> service(String name) {
        Map<String, Object> services = (Map<String, Object>) COMPOSE.get("services");
        assertThat(services).as("services").containsKey(name);
        return (Map<String, Object>) services.get(name);
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> env(String service) {
        Map<String, String> out = new LinkedHashMap<>();
        Object e = service(service).get("environment");
        if (e instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static List<String> list(String service, String key) {
        Object v = service(service).get(key);
        if (v == null) {
            return List.of();
        }
        return v instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of(String.valueOf(v));
    }

    /** The FLINK_PROPERTIES lines of a service, as key -> value. */
    static Map<String, String> flinkProperties(String service) {
        Map<String, String> out = new LinkedHashMap<>();
        String props = env(service).getOrDefault("FLINK_PROPERTIES", "");
        for (String line : props.split("\n")) {
            if (!line.isBlank()) {
                int colon = line.indexOf(':');
                out.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        return out;
    }

    /** The Kafka address of the compose network (the INTERNAL advertised listener). */
    static String internalBootstrap() {
        return listener(env("kafka").get("KAFKA_ADVERTISED_LISTENERS"), "INTERNAL");
    }

    private static String listener(String listeners, String name) {
        for (String l : listeners.split(",")) {
            if (l.startsWith(name + "://")) {
                return l.substring(name.length() + 3);
            }
        }
        throw new AssertionError("no listener " + name + " in " + listeners);
    }

    /** Host path -> container path of a service's bind mounts and named volumes. */
    static Map<String, String> volumes(String service) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String v : list(service, "volumes")) {
            String[] parts = v.split(":");
            out.put(parts[0], parts[1]);
        }
        return out;
    }

    @Test
    void servicesAndProfiles() {
        assertThat(service("kafka")).isNotNull();
        for (String s : List.of("jobmanager", "taskmanager", "taskmanager-gpu", "create-topics", "tripletflow-submit",
                "statistics-exporter", "prometheus", "grafana")) {
            assertThat(service(s)).as(s).isNotNull();
        }
        assertThat(list("taskmanager-gpu", "profiles")).containsExactly("gpu");
        assertThat(list("taskmanager", "profiles")).isEmpty();
        assertThat(list("create-topics", "restart")).containsExactly("no");
        assertThat(list("tripletflow-submit", "restart")).containsExactly("no");
        // Topics first, then the job, then the exporter of its statistics topic.
        assertThat(castMap(castMap(service("tripletflow-submit").get("depends_on")).get("create-topics")))
                .containsEntry("condition", "service_completed_successfully");
        assertThat(castMap(castMap(service("statistics-exporter").get("depends_on")).get("tripletflow-submit")))
                .containsEntry("condition", "service_completed_successfully");
    }

    @Test
    void imagesMatchTheVersionsTheCodeIsBuiltWith() {
        String kafka = AppInfoParser.getVersion();
        assertThat(kafka).isEqualTo(Repo.pom("<kafka\\.version>([^<]+)</kafka\\.version>"));
        assertThat(service("kafka").get("image")).isEqualTo("apache/kafka:" + kafka);
        assertThat(service("create-topics").get("image")).isEqualTo("apache/kafka:" + kafka);
        String flink = EnvironmentInformation.getVersion();
        assertThat(flink).isEqualTo(Repo.pom("<flink\\.version>([^<]+)</flink\\.version>"));
        String java = Repo.pom("<maven\\.compiler\\.release>([^<]+)</maven\\.compiler\\.release>");
        for (String s : List.of("jobmanager", "taskmanager", "taskmanager-gpu", "tripletflow-submit", "statistics-exporter")) {
            assertThat(service(s).get("image")).as(s).isEqualTo("flink:" + flink + "-java" + java);
        }
    }

    @Test
    void kafkaIsSingleNodeKraftWithTransactionsLongEnough() {
        Map<String, String> env = env("kafka");
        assertThat(env.get("KAFKA_PROCESS_ROLES")).isEqualTo("broker,controller");
        assertThat(Uuid.fromString(env.get("CLUSTER_ID"))).isNotNull();
        assertThat(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS")).isEqualTo(env.get("KAFKA_NODE_ID") + "@kafka:9093");
        Duration maxTimeout = Duration.ofMillis(Long.parseLong(env.get("KAFKA_TRANSACTION_MAX_TIMEOUT_MS")));
        assertThat(maxTimeout).as("broker transaction.max.timeout.ms >= the job's transaction timeout")
                .isGreaterThanOrEqualTo(TripletFlowOptions.TRANSACTION_TIMEOUT.defaultValue())
                .isGreaterThanOrEqualTo(CONF.get(TripletFlowOptions.TRANSACTION_TIMEOUT));
        for (String single : List.of("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR")) {
            assertThat(env.get(single)).as(single).isEqualTo("1");
        }
        String advertised = env.get("KAFKA_ADVERTISED_LISTENERS");
        String host = listener(advertised, "HOST");
        assertThat(host).as("trainers on the host use the job's default bootstrap address")
                .isEqualTo(TripletFlowOptions.BOOTSTRAP_SERVERS.defaultValue());
        assertThat(list("kafka", "ports")).containsExactly(host + ":" + host.substring(host.indexOf(':') + 1));
        assertThat(internalBootstrap()).isEqualTo(CONF.get(TripletFlowOptions.BOOTSTRAP_SERVERS))
                .isEqualTo(env("create-topics").get("BOOTSTRAP_SERVERS"))
                .isEqualTo(argument("statistics-exporter", "--bootstrap-servers"));
        assertThat(volumes("kafka")).containsEntry("kafka-data", env.get("KAFKA_LOG_DIRS"));
    }

    @Test
    void everyPublishedPortIsOnLoopback() {
        Map<String, Object> services = COMPOSE.entrySet().stream().filter(e -> e.getKey().equals("services"))
                .findFirst().map(e -> castMap(e.getValue())).orElseThrow();
        for (String s : services.keySet()) {
            for (String p : list(s, "ports")) {
                assertThat(p).as(s + " port").startsWith("127.0.0.1:");
            }
        }
        assertThat(list("jobmanager", "ports")).containsExactly("127.0.0.1:8081:" + CONF.getString("rest.port", ""));
        assertThat(list("prometheus", "ports")).containsExactly("127.0.0.1:9090:9090");
        assertThat(list("grafana", "ports")).containsExactly("127.0.0.1:3000:3000");
    }

    @Test
    void flinkContainersGetTheConfigurationTheStateVolumeAndTheScripts() throws IOException {
        String checkpoints = CONF.getString("execution.checkpointing.dir", "");
        String savepoints = CONF.getString("execution.checkpointing.savepoint-dir", "");
        String entrypoint = Repo.read("deploy/flink-entrypoint.sh");
        String submit = Repo.read("deploy/submit.sh");
        for (String s : FLINK_SERVICES) {
            Map<String, String> v = volumes(s);
            assertThat(v).as(s).containsEntry("./flink-conf", "/opt/tripletflow/flink-conf")
                    .containsEntry("./deploy", "/opt/tripletflow/deploy");
            String state = v.get("flink-state");
            assertThat(checkpoints).startsWith("file://" + state + "/");
            assertThat(savepoints).startsWith("file://" + state + "/");
            assertThat(entrypoint).contains("TRIPLETFLOW_STATE_DIR:-" + state + "}");
            assertThat(list(s, "entrypoint")).containsExactly("/opt/tripletflow/deploy/flink-entrypoint.sh");
            assertThat(env(s)).containsEntry("JOB_MANAGER_RPC_ADDRESS", "jobmanager");
        }
        assertThat(entrypoint).contains("TRIPLETFLOW_CONF_STAGING:-/opt/tripletflow/flink-conf}");
        assertThat(submit).contains("TRIPLETFLOW_CONF_STAGING:-/opt/tripletflow/flink-conf}");
        for (String script : List.of("deploy/flink-entrypoint.sh", "deploy/submit.sh")) {
            assertThat(Files.isExecutable(Repo.file(script))).as(script + " is executable").isTrue();
        }
        assertThat(list("tripletflow-submit", "entrypoint")).containsExactly("bash", "/opt/tripletflow/deploy/submit.sh");
        assertThat(list("create-topics", "entrypoint")).containsExactly("/bin/sh", "/opt/tripletflow/deploy/create-topics.sh");
        assertThat(volumes("create-topics")).containsEntry("./deploy", "/opt/tripletflow/deploy");
        assertThat(Files.isExecutable(Repo.file("deploy/create-topics.sh"))).isTrue();
        // Every bind-mounted host path exists in the checkout, except the build output.
        for (String s : castMap(COMPOSE.get("services")).keySet()) {
            for (String host : volumes(s).keySet()) {
                if (host.startsWith("./") && !host.equals("./target")) {
                    assertThat(Repo.file(host.substring(2))).as(s + " mounts " + host).exists();
                }
            }
        }
    }

    @Test
    void jobJarTopicsAndExporterAgreeWithTheCode() {
        String jar = "/opt/tripletflow/target/" + Repo.jobJarName();
        Map<String, String> submit = env("tripletflow-submit");
        assertThat(submit.get("JOB_JAR")).isEqualTo(jar);
        assertThat(volumes("tripletflow-submit")).containsEntry("./target", "/opt/tripletflow/target");
        assertThat(volumes("statistics-exporter")).containsEntry("./target", "/opt/tripletflow/target");
        assertThat(argument("statistics-exporter", "-cp")).startsWith(jar + ":");
        assertThat(list("statistics-exporter", "entrypoint")).contains(io.tripletflow.stats.StatisticsExporter.class.getName());
        assertThat(submit.get("JOBMANAGER")).isEqualTo("jobmanager:" + CONF.getString("rest.port", ""));

        Map<String, String> topics = new LinkedHashMap<>();
        for (String t : env("create-topics").get("TOPICS").trim().split("\\s+")) {
            topics.put(t.split(":")[0], t);
        }
        Set<String> wanted = new LinkedHashSet<>(Arrays.asList(CONF.get(TripletFlowOptions.EMBEDDINGS_TOPICS).split(",")));
        String gradients = CONF.get(TripletFlowOptions.GRADIENTS_TOPIC);
        if (!gradients.contains("{key}")) {
            wanted.add(gradients);
        }
        String statistics = CONF.get(TripletFlowOptions.STATISTICS_TOPIC);
        wanted.add(CONF.get(TripletFlowOptions.DEAD_LETTER_TOPIC));
        wanted.add(statistics);
        assertThat(topics.keySet()).containsExactlyInAnyOrderElementsOf(wanted);
        // The compose file runs the job with the options' defaults, which the Python example and
        // TrainerClient default to as well.
        for (var option : List.of(TripletFlowOptions.EMBEDDINGS_TOPICS, TripletFlowOptions.GRADIENTS_TOPIC,
                TripletFlowOptions.DEAD_LETTER_TOPIC, TripletFlowOptions.STATISTICS_TOPIC)) {
            assertThat(CONF.get(option)).as(option.key()).isEqualTo(option.defaultValue());
        }
        assertThat(topics.get(statistics)).endsWith(":cleanup.policy=compact");
        assertThat(argument("statistics-exporter", "--topic")).isEqualTo(statistics);
    }

    @Test
    void gpuTaskManagerReservesAnNvidiaDeviceForFlinksGpuResource() throws IOException {
        Map<String, Object> deploy = castMap(service("taskmanager-gpu").get("deploy"));
        Map<String, Object> reservations = castMap(castMap(deploy.get("resources")).get("reservations"));
        @SuppressWarnings("unchecked")
        Map<String, Object> device = (Map<String, Object>) ((List<Object>) reservations.get("devices")).get(0);
        assertThat(device).containsEntry("driver", "nvidia").containsEntry("count", 1);
        assertThat(String.valueOf(device.get("capabilities"))).isEqualTo("[gpu]");
        Map<String, String> props = flinkProperties("taskmanager-gpu");
        String resource = props.get("external-resources");
        assertThat(props).containsEntry("external-resource." + resource + ".amount", "1");
        // The mining operator asks Flink for the resource by name.
        Set<String> names = new LinkedHashSet<>();
        Pattern asked = Pattern.compile("getExternalResourceInfos\\(\"([^\"]+)\"\\)");
        try (Stream<Path> files = Files.walk(Repo.file("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = asked.matcher(Files.readString(f));
                while (m.find()) {
                    names.add(m.group(1));
                }
            }
        }
        if (!names.isEmpty()) {
            assertThat(names).contains(resource);
        }
        assertThat(service("taskmanager").get("deploy")).isNull();
        assertThat(flinkProperties("taskmanager")).isEmpty();
    }

    @Test
    void prometheusScrapesFlinksReporterAndTheExporter() {
        Map<String, Object> prom = Repo.yaml("deploy/prometheus/prometheus.yml");
        assertThat(volumes("prometheus")).containsEntry("./deploy/prometheus", "/etc/prometheus");
        assertThat(list("prometheus", "command")).contains("--config.file=/etc/prometheus/prometheus.yml");
        @SuppressWarnings("unchecked")
        List<String> rules = (List<String>) prom.get("rule_files");
        for (String r : rules) {
            assertThat(r).startsWith("/etc/prometheus/");
            assertThat(Repo.file("deploy/prometheus/" + r.substring("/etc/prometheus/".length()))).exists();
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> jobs = (List<Map<String, Object>>) prom.get("scrape_configs");
        Map<String, Object> flink = jobs.stream().filter(j -> "flink".equals(j.get("job_name"))).findFirst().orElseThrow();
        @SuppressWarnings("unchecked")
        Map<String, Object> sd = ((List<Map<String, Object>>) flink.get("dns_sd_configs")).get(0);
        assertThat(sd.get("port")).isEqualTo(FlinkConfigurationTest.prometheusPort());
        assertThat(((List<?>) sd.get("names")).stream().map(String::valueOf).toList()).containsExactlyInAnyOrderElementsOf(FLINK_SERVICES);
        Map<String, Object> stats = jobs.stream().filter(j -> "tripletflow-statistics".equals(j.get("job_name")))
                .findFirst().orElseThrow();
        @SuppressWarnings("unchecked")
        List<String> targets = (List<String>) ((List<Map<String, Object>>) stats.get("static_configs")).get(0).get("targets");
        assertThat(targets).containsExactly("statistics-exporter:" + argument("statistics-exporter", "--port"));
    }

    @Test
    void grafanaIsProvisionedWithTheDashboard() {
        Map<String, String> v = volumes("grafana");
        assertThat(v).containsEntry("./deploy/grafana/provisioning", "/etc/grafana/provisioning");
        String dashboards = v.get("./deploy/grafana/dashboards");
        Map<String, Object> provider = castMap(((List<?>) Repo.yaml("deploy/grafana/provisioning/dashboards/tripletflow.yml")
                .get("providers")).get(0));
        assertThat(castMap(provider.get("options")).get("path")).isEqualTo(dashboards);
        String home = env("grafana").get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH");
        assertThat(home).startsWith(dashboards + "/");
        assertThat(Repo.file("deploy/grafana/dashboards/" + home.substring(dashboards.length() + 1))).exists();
        Map<String, Object> ds = castMap(((List<?>) Repo.yaml("deploy/grafana/provisioning/datasources/prometheus.yml")
                .get("datasources")).get(0));
        assertThat(ds).containsEntry("type", "prometheus").containsEntry("url", "http://prometheus:9090");
        assertThat(Repo.read("deploy/grafana/dashboards/tripletflow.json"))
                .contains("\"uid\": \"" + ds.get("uid") + "\"");
    }

    @Test
    void dockerComposeAcceptsTheFile() throws Exception {
        List<String> cli = composeCli().orElse(null);
        Assumptions.assumeTrue(cli != null,
                "no docker-compose or 'docker compose' CLI installed (.ci/run installs Debian's docker-compose)");
        List<String> config = new ArrayList<>(cli);
        config.addAll(List.of("-f", Repo.file("docker-compose.yml").toString(), "--profile", "gpu", "config"));
        Result r = run(config);
        assertThat(r.exit).as(String.join(" ", config) + "\n" + r.output).isZero();
        @SuppressWarnings("unchecked")
        Map<String, Object> resolved = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(r.stdout);
        Map<String, Object> services = castMap(resolved.get("services"));
        assertThat(services.keySet()).containsAll(castMap(COMPOSE.get("services")).keySet());
        Map<String, Object> gpu = castMap(services.get("taskmanager-gpu"));
        assertThat(String.valueOf(gpu.get("profiles"))).isEqualTo("[gpu]");
        assertThat(r.stdout).contains("driver: nvidia");
    }

    // ---- helpers

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object o) {
        return (Map<String, Object>) o;
    }

    /** The value after {@code flag} in a service's entrypoint list. */
    static String argument(String service, String flag) {
        List<String> entrypoint = list(service, "entrypoint");
        int i = entrypoint.indexOf(flag);
        assertThat(i).as(flag + " in " + service + "'s entrypoint").isGreaterThanOrEqualTo(0);
        return entrypoint.get(i + 1);
    }

    private static Optional<List<String>> composeCli() throws Exception {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "docker"))) {
                Result v2 = run(List.of(Path.of(dir, "docker").toString(), "compose", "version"));
                if (v2.exit == 0) {
                    return Optional.of(List.of(Path.of(dir, "docker").toString(), "compose"));
                }
            }
        }
        for (String dir : (System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, "docker-compose");
            if (Files.isExecutable(p)) {
                return Optional.of(List.of(p.toString()));
            }
        }
        return Optional.empty();
    }

    private record Result(int exit, String stdout, String output) {}

    private static Result run(List<String> command) throws Exception {
        Path out = Files.createTempFile("compose-", ".out");
        Path err = Files.createTempFile("compose-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(Repo.root().toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("DOCKER_HOST", "unix:///nonexistent/docker.sock"); // never talk to an engine
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            return new Result(p.exitValue(), stdout, stdout + Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
