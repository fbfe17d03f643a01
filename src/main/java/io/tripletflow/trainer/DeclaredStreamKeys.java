package io.tripletflow.trainer;

import io.tripletflow.wire.GradientsTopic;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The stream keys a client was built for ({@link TrainerClient.Builder#streamKeys}), or none (any
 * key): which batches it accepts, which gradient topics it reads, how many keys its deduplicator
 * keeps.
 */
final class DeclaredStreamKeys {
    /** Null: any key. */
    private final Set<String> keys;

    DeclaredStreamKeys(Collection<String> declared) {
        this.keys = declared.isEmpty() ? null : Collections.unmodifiableSet(new LinkedHashSet<>(declared));
    }

    /**
     * The topic(s) the answers arrive on: {@code topic} itself, or, if it is a template with
     * {@code {key}}, one per declared key.
     *
     * @throws IllegalArgumentException if {@code topic} is a template and no keys were declared
     */
    List<String> gradientTopics(GradientsTopic topic) {
        if (!topic.perKey()) {
            return List.of(topic.toString());
        }
        if (keys == null) {
            throw new IllegalArgumentException("gradients topic '" + topic
                    + "' depends on the stream key: declare the keys with streamKeys(...)");
        }
        Set<String> topics = new LinkedHashSet<>();
        for (String key : keys) {
            topics.add(topic.forKey(key));
        }
        return List.copyOf(topics);
    }

    /** @throws IllegalArgumentException if keys were declared and {@code streamKey} is not one of them */
    void check(String streamKey) {
        if (keys != null && !keys.contains(streamKey)) {
            throw new IllegalArgumentException("stream key '" + streamKey + "' was not declared; this client serves "
                    + keys);
        }
    }

    /** How many keys there are: the declared ones, or {@code whenAny}. */
    int count(int whenAny) {
        return keys == null ? whenAny : keys.size();
    }
}
