package io.tripletflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.stats.Json;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prometheus' own checker on the monitoring files: {@code promtool check config} on
 * {@code deploy/prometheus/prometheus.yml}, {@code check rules} on the alert rules, and every PromQL
 * query of the Grafana dashboard parsed as a recording rule. Needs {@code promtool} (.ci/run takes it
 * from Debian's prometheus package); skipped without it. Which metrics the queries may use is
 * {@link DashboardMetricsITCase}'s business.
 */
class PromtoolTest {
    private static Path promtool;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findPromtool() {
        promtool = find().orElse(null);
        Assumptions.assumeTrue(promtool != null,
                "skipped: no promtool on PATH (.ci/run installs it from Debian's prometheus package)");
    }

    private static Optional<Path> find() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/local/bin";
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, "promtool");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private String promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(promtool.toString()));
        command.addAll(List.of(args));
        Path log = tmp.resolve("promtool.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = Files.readString(log);
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
        return output;
    }

    @Test
    void configurationIsValid() throws Exception {
        // The rule files as the container sees them (/etc/prometheus = deploy/prometheus).
        String config = Repo.read("deploy/prometheus/prometheus.yml")
                .replace("/etc/prometheus/", Repo.file("deploy/prometheus").toString() + "/");
        Path file = Files.writeString(tmp.resolve("prometheus.yml"), config);
        assertThat(promtool("check", "config", file.toString())).contains("SUCCESS");
    }

    @Test
    void alertRulesAreValid() throws Exception {
        assertThat(promtool("check", "rules", Repo.file("deploy/prometheus/alerts.yml").toString()))
                .contains("SUCCESS: 11 rules found");
    }

    @Test
    void dashboardQueriesParse() throws Exception {
        Map<String, Object> dashboard = Json.parseObject(Repo.read("deploy/grafana/dashboards/tripletflow.json"));
        List<String> exprs = new ArrayList<>();
        collect(dashboard, exprs);
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < exprs.size(); i++) {
            // Grafana's variable as it is substituted.
            String expr = exprs.get(i).replace("$job", "tripletflow");
            rules.append("      - record: dashboard:query_").append(i).append('\n')
                    .append("        expr: ").append(Json.quote(expr)).append('\n');
        }
        Path file = Files.writeString(tmp.resolve("dashboard-rules.yml"), rules);
        assertThat(promtool("check", "rules", file.toString())).contains("SUCCESS: " + exprs.size() + " rules found");
    }

    private static void collect(Object node, List<String> out) {
        if (node instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if ("expr".equals(k) && v instanceof String s) {
                    out.add(s);
                } else {
                    collect(v, out);
                }
            });
        } else if (node instanceof List<?> l) {
            l.forEach(x -> collect(x, out));
        }
    }
}
