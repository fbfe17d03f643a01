package io.tripletflow.job;

import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** Where a job without state starts reading the embeddings topics ({@code tripletflow.starting-offsets}). */
public enum StartingOffsets {
    /** The consumer group's committed offsets, the beginning where there are none. */
    COMMITTED_OR_EARLIEST("committed-or-earliest"),
    EARLIEST("earliest"),
    LATEST("latest");

    private final String text;

    StartingOffsets(String text) {
        this.text = text;
    }

    OffsetsInitializer initializer() {
        return switch (this) {
            case COMMITTED_OR_EARLIEST -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
    }

    @Override
    public String toString() {
        return text;
    }
}
