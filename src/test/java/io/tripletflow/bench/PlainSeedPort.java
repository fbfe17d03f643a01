package io.tripletflow.bench;

import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.SeedLoops;

/** The bench's baseline: the plain port of the seed's loops that the tests compare the backend with. */
final class PlainSeedPort {
    private PlainSeedPort() {}

    static EngineBench.Contender contender(MiningOptions options) {
        return batch -> SeedLoops.run(options, batch);
    }
}
