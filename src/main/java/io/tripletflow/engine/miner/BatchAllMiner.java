package io.tripletflow.engine.miner;

/** Every violating triplet: each candidate of each anchor-positive pair, no sampling. */
public final class BatchAllMiner implements Miner {

    @Override
    public int mine(MiningInput in, int anchor, int[] positives, int positiveCount,
                    PairRandoms randoms, MinerScratch scratch, TripletSink out) {
        int total = 0;
        for (int q = 0; q < positiveCount; q++) {
            int positive = positives[q];
            float anchorToPositive = in.distance(anchor, positive);
            for (int j = 0; j < in.columns; j++) {
                if (in.violates(anchor, anchorToPositive, j)) {
                    out.add(anchor, positive, j, true);
                    total++;
                }
            }
        }
        return total;
    }

    /** {@inheritDoc} Here: every violating negative. */
    @Override
    public int pairCapacity(int candidates, int negNum, int hardNum, int randNum) {
        return Math.max(1, candidates);
    }
}
