package io.tripletflow.testutils;

import io.tripletflow.local.EmbeddedKafkaBroker;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension: one {@link EmbeddedKafkaBroker} per test class.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();
 * ...
 * KAFKA.createTopics(2, "in");
 * KafkaTestUtils.produce(KAFKA.bootstrapServers(), "in", records);
 * }</pre>
 *
 * Topics survive between the tests of a class: use distinct topic names per test.
 */
public final class EmbeddedKafkaExtension implements BeforeAllCallback, AfterAllCallback {

    private final EmbeddedKafkaBroker.Builder builder;
    private EmbeddedKafkaBroker broker;

    public EmbeddedKafkaExtension() {
        this(EmbeddedKafkaBroker.builder());
    }

    /** With a customised broker (port, extra broker properties). */
    public EmbeddedKafkaExtension(EmbeddedKafkaBroker.Builder builder) {
        this.builder = builder;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = builder.build().start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    public EmbeddedKafkaBroker broker() {
        if (broker == null) {
            throw new IllegalStateException("broker not started (register the extension as a static field)");
        }
        return broker;
    }

    public String bootstrapServers() {
        return broker().bootstrapServers();
    }

    public void createTopics(int partitions, String... names) {
        broker().createTopics(partitions, names);
    }
}
