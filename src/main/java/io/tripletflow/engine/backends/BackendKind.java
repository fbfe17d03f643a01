package io.tripletflow.engine.backends;

import io.tripletflow.config.OptionName;

/** Which backend a mining operator runs on ({@code backend}). */
public enum BackendKind {
    /** The GPU when there is one (and it supports the options), else the CPU, with the reason. */
    AUTO,
    CPU,
    /** The GPU, or an error at start naming what is missing. */
    GPU;

    /** The value as written in configuration, e.g. {@code auto}. */
    @Override
    public String toString() {
        return OptionName.of(this);
    }
}
