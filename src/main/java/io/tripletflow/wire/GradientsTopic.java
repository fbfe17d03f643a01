package io.tripletflow.wire;

import java.io.Serializable;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the answers of a stream key go: a topic name, or a template in which {@code {key}} stands
 * for the stream key ({@code gradients.{key}}). The job writes by it, trainers read by it.
 *
 * <pre>{@code
 * GradientsTopic topic = GradientsTopic.of("gradients.{key}");
 * topic.forKey("trainer-1");   // "gradients.trainer-1"
 * }</pre>
 */
public final class GradientsTopic implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String KEY = "{key}";
    /** Kafka's legal topic names (at most 249 characters, not "." or ".."). */
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private final String template;
    private final boolean perKey;

    private GradientsTopic(String template) {
        this.template = template;
        this.perKey = template.contains(KEY);
    }

    public static GradientsTopic of(String topicOrTemplate) {
        Objects.requireNonNull(topicOrTemplate, "gradients topic");
        if (topicOrTemplate.isBlank()) {
            throw new IllegalArgumentException("the gradients topic must not be empty");
        }
        return new GradientsTopic(topicOrTemplate);
    }

    /** Whether each stream key has its own topic. */
    public boolean perKey() {
        return perKey;
    }

    /** The topic of a stream key's answers. */
    public String forKey(String streamKey) {
        return perKey ? template.replace(KEY, streamKey) : template;
    }

    /**
     * Why the stream key's topic cannot exist, or null when it can: with a per-key template, a key
     * whose topic name Kafka would refuse could never be answered.
     */
    public String illegalFor(String streamKey) {
        if (!perKey()) {
            return null;
        }
        String topic = forKey(streamKey);
        if (LEGAL.matcher(topic).matches() && !topic.equals(".") && !topic.equals("..")) {
            return null;
        }
        return "cannot name a Kafka topic in gradients-topic '" + template
                + "' (topic names are at most 249 of the characters a-z A-Z 0-9 . _ -)";
    }

    @Override
    public String toString() {
        return template;
    }
}
