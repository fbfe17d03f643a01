package io.tripletflow.cluster;

import io.tripletflow.local.Loopback;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

/**
 * A Flink configuration directory ({@code --configDir}, {@code FLINK_CONF_DIR}) made from the
 * project's {@code flink-conf/config.yaml}: every key kept as the file has it (the Java 17 options
 * among them), except those that bind the compose network, which are replaced by 127.0.0.1 and free
 * ports, the state paths, which point into this test's directory, and the Prometheus reporter
 * (a plugin of the Flink image on a fixed port of every interface). Then {@code overrides}. Also
 * Log4j configurations for the daemons and the client, each JVM logging to its own file.
 */
final class FlinkConfigDirectory {
    /** Keys of the project's file that are left out here (prefixes). */
    private static final List<String> LEFT_OUT = List.of("metrics.reporter.");
    private static final Pattern KEY = Pattern.compile("^([A-Za-z0-9._-]+)\\s*:.*$");

    private final Path dir;
    private final Path logs;
    private final int restPort;

    private FlinkConfigDirectory(Path dir, Path logs, int restPort) {
        this.dir = dir;
        this.logs = logs;
        this.restPort = restPort;
    }

    /**
     * Writes {@code dir/config.yaml} from {@code projectConfig}, bound to 127.0.0.1, with state
     * under {@code stateDir}, and {@code overrides} (Flink or tripletflow keys) last.
     */
    static FlinkConfigDirectory write(Path projectConfig, Path dir, Path stateDir, Map<String, String> overrides)
            throws IOException {
        Files.createDirectories(dir);
        Path logs = Files.createDirectories(dir.resolveSibling("logs"));
        int restPort = Loopback.freePort();
        Map<String, String> set = new LinkedHashMap<>();
        set.put("jobmanager.rpc.address", Loopback.HOST);
        set.put("jobmanager.rpc.port", Integer.toString(Loopback.freePort()));
        set.put("jobmanager.bind-host", Loopback.HOST);
        set.put("taskmanager.bind-host", Loopback.HOST);
        set.put("taskmanager.host", Loopback.HOST);
        set.put("rest.address", Loopback.HOST);
        set.put("rest.bind-address", Loopback.HOST);
        set.put("rest.port", Integer.toString(restPort));
        set.put("io.tmp.dirs", Files.createDirectories(stateDir.resolve("tmp")).toString());
        set.put("execution.checkpointing.dir", stateDir.resolve("checkpoints").toUri().toString());
        set.put("execution.checkpointing.savepoint-dir", stateDir.resolve("savepoints").toUri().toString());
        set.putAll(overrides);

        List<String> lines = new ArrayList<>();
        lines.add("# Written by the cluster test from " + projectConfig + ": its keys, bound to 127.0.0.1.");
        for (String line : Files.readAllLines(projectConfig)) {
            Matcher m = KEY.matcher(line);
            if (m.matches() && (set.containsKey(m.group(1)) || LEFT_OUT.stream().anyMatch(m.group(1)::startsWith))) {
                continue;
            }
            lines.add(line);
        }
        lines.add("");
        lines.add("# ---- the cluster test");
        set.forEach((k, v) -> lines.add(k + ": " + v));
        Files.write(dir.resolve("config.yaml"), lines);
        Files.writeString(dir.resolve("log4j.properties"), log4j("INFO"));
        Files.writeString(dir.resolve("log4j-cli.properties"), log4j("INFO"));
        return new FlinkConfigDirectory(dir, logs, restPort);
    }

    /** Log4j 2 configuration: everything at {@code level} into {@code ${sys:log.file}}, as Flink's own. */
    private static String log4j(String level) {
        return String.join("\n",
                "monitorInterval = 0",
                "rootLogger.level = " + level,
                "rootLogger.appenderRef.file.ref = MainAppender",
                "appender.main.name = MainAppender",
                "appender.main.type = File",
                "appender.main.append = true",
                "appender.main.fileName = ${sys:log.file}",
                "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                "logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline",
                "logger.netty.level = ERROR",
                "");
    }

    /** The configuration as a Flink process reads it from this directory. */
    Configuration load() {
        return GlobalConfiguration.loadConfiguration(dir.toString());
    }

    /** {@code -Dlog.file=... -Dlog4j.configurationFile=...} of a daemon (or {@code client-*}) named {@code name}. */
    List<String> logSettings(String name) {
        Path config = dir.resolve(name.startsWith("client") ? "log4j-cli.properties" : "log4j.properties");
        return List.of("-Dlog.file=" + logs.resolve(name + ".log"),
                "-Dlog4j.configuration=" + config.toUri(),
                "-Dlog4j.configurationFile=" + config.toUri());
    }

    Path dir() {
        return dir;
    }

    Path logs() {
        return logs;
    }

    int restPort() {
        return restPort;
    }
}
