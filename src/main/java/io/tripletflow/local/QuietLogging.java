package io.tripletflow.local;

import java.util.List;

/**
 * Quiets the loggers of the embedded Kafka broker and the local Flink cluster when Log4j 2 is the
 * logging backend; does nothing (and fails nothing) when Log4j 2 core is absent or not active.
 */
public final class QuietLogging {
    private static final List<String> KAFKA = List.of("kafka", "org.apache.kafka", "state.change.logger");
    private static final List<String> KAFKA_AND_FLINK = List.of("kafka", "org.apache.kafka", "state.change.logger",
            "org.apache.flink");

    private QuietLogging() {
    }

    /** Kafka's loggers to WARN, but those the Log4j configuration names itself (the embedded broker). */
    public static void kafka() {
        apply(KAFKA, "WARN", false);
    }

    /**
     * Keeps the console for a command's own output: Kafka and Flink log only errors, unless the
     * user chose a Log4j configuration ({@code -Dlog4j2.configurationFile}).
     */
    public static void console() {
        if (System.getProperty("log4j2.configurationFile") != null
                || System.getProperty("log4j.configurationFile") != null) {
            return;
        }
        apply(KAFKA_AND_FLINK, "ERROR", true);
    }

    private static void apply(List<String> names, String level, boolean overrideConfigured) {
        try {
            Log4j.setLevel(names, level, overrideConfigured);
        } catch (LinkageError | RuntimeException ignored) {
            // no Log4j 2 core on the class path, or another backend: leave logging alone
        }
    }

    /** Kept separate so that Log4j classes are only resolved when this runs. */
    private static final class Log4j {
        static void setLevel(List<String> names, String level, boolean overrideConfigured) {
            Object ctx = org.apache.logging.log4j.LogManager.getContext(false);
            if (!(ctx instanceof org.apache.logging.log4j.core.LoggerContext lc)) {
                return;
            }
            var configured = lc.getConfiguration().getLoggers().keySet();
            for (String name : names) {
                if (overrideConfigured || !configured.contains(name)) {
                    org.apache.logging.log4j.core.config.Configurator.setLevel(name,
                            org.apache.logging.log4j.Level.valueOf(level));
                }
            }
        }
    }
}
