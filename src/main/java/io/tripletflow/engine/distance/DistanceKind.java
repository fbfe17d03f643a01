package io.tripletflow.engine.distance;

import io.tripletflow.config.OptionName;

/** Which pairwise distance mining uses ({@code distance}). */
public enum DistanceKind {
    NEG_DOT, SQUARED_EUCLIDEAN, EUCLIDEAN, COSINE;

    /** The value as written in configuration, e.g. {@code squared-euclidean}. */
    @Override
    public String toString() {
        return OptionName.of(this);
    }
}
