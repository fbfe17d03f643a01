package io.tripletflow.engine.reduction;

import io.tripletflow.config.OptionName;

/** How the terms become one loss ({@code reduction}). */
public enum ReductionKind {
    SEED, MEAN_NONZERO, MEAN;

    /** The value as written in configuration, e.g. {@code mean-nonzero}. */
    @Override
    public String toString() {
        return OptionName.of(this);
    }
}
