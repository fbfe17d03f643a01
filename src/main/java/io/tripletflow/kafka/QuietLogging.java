package io.tripletflow.kafka;

import java.util.List;

/**
 * Raises the Kafka loggers to WARN when Log4j 2 is the logging backend, leaving any logger that
 * the Log4j configuration names explicitly as it is. Does nothing (and fails nothing) when Log4j
 * 2 core is absent or is not the active backend.
 */
final class QuietLogging {

    static final List<String> KAFKA_LOGGERS = List.of(
            "kafka", "org.apache.kafka", "state.change.logger", "org.apache.zookeeper");

    private QuietLogging() {
    }

    static void apply() {
        try {
            Log4j.apply(KAFKA_LOGGERS);
        } catch (LinkageError | RuntimeException ignored) {
            // no Log4j 2 core on the class path, or another backend: leave logging alone
        }
    }

    /** Kept separate so that Log4j classes are only resolved when this runs. */
    private static final class Log4j {
        static void apply(List<String> names) {
            Object ctx = org.apache.logging.log4j.LogManager.getContext(false);
            if (!(ctx instanceof org.apache.logging.log4j.core.LoggerContext lc)) {
                return;
            }
            var configured = lc.getConfiguration().getLoggers().keySet();
            for (String name : names) {
                if (!configured.contains(name)) {
                    org.apache.logging.log4j.core.config.Configurator.setLevel(
                            name, org.apache.logging.log4j.Level.WARN);
                }
            }
        }
    }
}
