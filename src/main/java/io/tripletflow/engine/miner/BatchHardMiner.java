package io.tripletflow.engine.miner;

/**
 * Hermans et al.'s batch-hard: per anchor, its farthest positive and its nearest negative (ties
 * to the lower index), one triplet. With {@code positives = pairs} the positive is row
 * {@code a + 1}, so only the negative is mined.
 */
public final class BatchHardMiner implements Miner {

    @Override
    public int mine(MiningInput in, int anchor, int[] positives, int positiveCount,
                    PairRandoms randoms, MinerScratch scratch, TripletSink out) {
        int farthest = -1;
        for (int q = 0; q < positiveCount; q++) {
            int p = positives[q];
            if (farthest < 0 || in.distance(anchor, p) > in.distance(anchor, farthest)) {
                farthest = p;
            }
        }
        int nearest = -1;
        int negatives = 0;
        for (int j = 0; j < in.columns; j++) {
            if (in.labels[j] != in.labels[anchor]) {
                negatives++;
                if (nearest < 0 || in.harder(anchor, j, nearest)) {
                    nearest = j;
                }
            }
        }
        if (farthest >= 0 && nearest >= 0) {
            out.add(anchor, farthest, nearest, true);
        }
        return negatives;
    }

    /** {@inheritDoc} Here: the one hardest negative. */
    @Override
    public int pairCapacity(int candidates, int negNum, int hardNum, int randNum) {
        return 1;
    }
}
