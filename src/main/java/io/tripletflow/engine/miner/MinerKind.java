package io.tripletflow.engine.miner;

import io.tripletflow.config.OptionName;

/** Which miner picks the triplets ({@code miner}). */
public enum MinerKind {
    RANK_HARD, SEMI_HARD, BATCH_HARD, BATCH_ALL;

    /** The value as written in configuration, e.g. {@code semi-hard}. */
    @Override
    public String toString() {
        return OptionName.of(this);
    }
}
