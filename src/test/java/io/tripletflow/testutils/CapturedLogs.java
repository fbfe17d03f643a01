package io.tripletflow.testutils;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.AppenderRef;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.filter.AbstractFilter;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Everything logged in this JVM while it is open, at {@code level} or finer whatever the Log4j
 * configuration says (Kafka, Flink, the broker, the job, exceptions with their causes), kept in
 * memory; the console sees no more than before. {@link #close()} restores the configuration.
 *
 * <pre>{@code
 * try (CapturedLogs logs = CapturedLogs.start(Level.INFO)) {
 *     ... run ...
 *     assertThat(logs.text()).doesNotContain(password);
 * }
 * }</pre>
 */
public final class CapturedLogs implements AutoCloseable {
    private static final String NAME = "captured-logs";

    private final LoggerContext context;
    private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();

    private CapturedLogs(Level level, List<String> finer) {
        context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        PatternLayout layout = PatternLayout.newBuilder().withConfiguration(config)
                .withPattern("%-5p [%t] %c - %m%n%throwable").build();
        Appender capture = new AbstractAppender(NAME, null, layout, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                lines.add(getLayout().toSerializable(event).toString());
            }
        };
        capture.start();
        Set<LoggerConfig> loggers = new LinkedHashSet<>(config.getLoggers().values()); // the root among them
        loggers.add(config.getRootLogger());
        Map<LoggerConfig, Level> configured = new IdentityHashMap<>();
        loggers.forEach(logger -> configured.put(logger, logger.getLevel()));
        for (String name : finer) {
            LoggerConfig logger = new LoggerConfig(name, Level.ALL, true);
            configured.put(logger, config.getLoggerConfig(name).getLevel()); // what its parent let through
            config.addLogger(name, logger);
        }
        // The existing appenders see what they saw: an event passes if its logger's configured level let it.
        Filter asConfigured = new AbstractFilter() {
            @Override
            public Result filter(LogEvent event) {
                Level level = configured.get(config.getLoggerConfig(event.getLoggerName()));
                return level == null || event.getLevel().isMoreSpecificThan(level) ? Result.NEUTRAL : Result.DENY;
            }
        };
        for (LoggerConfig logger : loggers) {
            for (Map.Entry<String, Appender> a : logger.getAppenders().entrySet()) {
                Level refLevel = logger.getAppenderRefs().stream().filter(r -> r.getRef().equals(a.getKey()))
                        .map(AppenderRef::getLevel).filter(Objects::nonNull).findFirst().orElse(null);
                logger.removeAppender(a.getKey());
                logger.addAppender(a.getValue(), refLevel, asConfigured);
            }
            if (logger.getLevel().isMoreSpecificThan(level)) {
                logger.setLevel(level);
            }
            if (logger == config.getRootLogger() || !logger.isAdditive()) { // the others pass events up to the root
                logger.addAppender(capture, level, null);
            }
        }
        for (String name : finer) {
            config.getLoggerConfig(name).addAppender(capture, Level.ALL, null);
        }
        context.updateLoggers();
    }

    /**
     * Starts capturing at {@code level}, and everything of the loggers {@code finer} (e.g. Kafka's
     * security code; their events at {@code level} and above are captured twice).
     */
    public static CapturedLogs start(Level level, String... finer) {
        return new CapturedLogs(level, List.of(finer));
    }

    /** All captured lines so far, in order, as one text. */
    public String text() {
        return String.join("", lines);
    }

    /** How many log events were captured. */
    public int events() {
        return lines.size();
    }

    /** Stops capturing: the Log4j configuration is loaded again as it was. */
    @Override
    public void close() {
        context.reconfigure();
    }
}
