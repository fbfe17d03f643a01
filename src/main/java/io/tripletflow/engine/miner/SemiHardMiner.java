package io.tripletflow.engine.miner;

/**
 * FaceNet's semi-hard negatives, {@code dis(a,p) < dis(a,n) < dis(a,p) + margin}: the
 * {@code neg-num} hardest of them; an anchor without any falls back to its hardest negative.
 * No randomness.
 */
public final class SemiHardMiner implements Miner {

    @Override
    public int mine(MiningInput in, int anchor, int[] positives, int positiveCount,
                    PairRandoms randoms, MinerScratch scratch, TripletSink out) {
        int total = 0;
        int[] c = scratch.candidates;
        for (int q = 0; q < positiveCount; q++) {
            int positive = positives[q];
            float anchorToPositive = in.distance(anchor, positive);
            int count = 0;
            int hardest = -1;
            for (int j = 0; j < in.columns; j++) {
                if (in.labels[j] == in.labels[anchor]) {
                    continue;
                }
                if (hardest < 0 || in.harder(anchor, j, hardest)) {
                    hardest = j;
                }
                if (in.distance(anchor, j) > anchorToPositive && in.violates(anchor, anchorToPositive, j)) {
                    c[count++] = j;
                }
            }
            total += count;
            if (count == 0) {
                if (hardest >= 0) {
                    out.add(anchor, positive, hardest, true);
                }
                continue;
            }
            int take = Math.min(in.negNum, count);
            CandidateOrder.hardestFirst(in, anchor, c, count, take);
            for (int t = 0; t < take; t++) {
                out.add(anchor, positive, c[t], true);
            }
        }
        return total;
    }

    /** {@inheritDoc} Here: up to neg-num semi-hard negatives. */
    @Override
    public int pairCapacity(int candidates, int negNum, int hardNum, int randNum) {
        return Math.max(1, Math.min(negNum, candidates));
    }
}
