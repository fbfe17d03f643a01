package io.tripletflow.engine.miner;

/** Where a miner puts the triplets it selects. */
public interface TripletSink {

    /** Selects negative {@code negative} for {@code (anchor, positive)}; {@code hard} unless drawn at random. */
    void add(int anchor, int positive, int negative, boolean hard);
}
