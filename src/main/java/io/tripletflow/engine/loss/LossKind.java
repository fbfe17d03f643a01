package io.tripletflow.engine.loss;

import io.tripletflow.config.OptionName;

/** Which loss turns a triplet into a term ({@code loss}). */
public enum LossKind {
    DOUBLE_HINGE, HINGE, SOFT;

    /** The value as written in configuration, e.g. {@code hinge}. */
    @Override
    public String toString() {
        return OptionName.of(this);
    }
}
