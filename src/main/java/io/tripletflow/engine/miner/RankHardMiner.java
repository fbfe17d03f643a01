package io.tripletflow.engine.miner;

import io.tripletflow.engine.random.ShuffleRandom;

/**
 * The seed's miner. Candidates are the negatives whose own hinge is positive; with at most
 * {@code neg-num} of them all are taken, otherwise a random {@code hard_num} of the
 * {@code neg-num} hardest and a random {@code rand_num} of the rest.
 *
 * <p>The draws and their order are the seed's ({@code random_shuffle} of {@code sid1}, then of
 * {@code sid2}), but {@code sid2} is shuffled as positions: only the few ranks that land in front
 * are then looked up with quickselect, so nothing beyond the {@code neg-num} hardest is sorted.
 */
public final class RankHardMiner implements Miner {

    @Override
    public int mine(MiningInput in, int anchor, int[] positives, int positiveCount,
                    PairRandoms randoms, MinerScratch scratch, TripletSink out) {
        int total = 0;
        for (int q = 0; q < positiveCount; q++) {
            total += minePair(in, anchor, positives[q], randoms, scratch, out);
        }
        return total;
    }

    private int minePair(MiningInput in, int anchor, int positive, PairRandoms randoms,
                         MinerScratch scratch, TripletSink out) {
        int[] c = scratch.candidates;
        float anchorToPositive = in.distance(anchor, positive);
        int count = 0;
        for (int j = 0; j < in.rows; j++) {
            if (in.violates(anchor, anchorToPositive, j)) {
                c[count++] = j;
            }
        }
        int negNum = in.negNum;
        if (count <= negNum) {
            for (int t = 0; t < count; t++) {
                out.add(anchor, positive, c[t], true);
            }
            return count;
        }
        ShuffleRandom random = randoms.forPair(anchor, positive);
        CandidateOrder.hardestFirst(in, anchor, c, count, negNum);
        int[] sid1 = scratch.order;
        System.arraycopy(c, 0, sid1, 0, negNum);
        random.shuffle(sid1, 0, negNum);
        int hard = Math.min(in.hardNum, negNum);
        for (int t = 0; t < hard; t++) {
            out.add(anchor, positive, sid1[t], true);
        }
        // sid2 = the rest in sorted order (positions [0, rest)), then sid1[hard_num..neg_num).
        int rest = count - negNum;
        int leftover = negNum - hard;
        int length = rest + leftover;
        // The leftover sid1 entries move behind the positions of sid2; c[negNum..count) keeps the rest.
        int[] positions = c;
        int base = count;
        for (int t = 0; t < length; t++) {
            positions[base + t] = t;
        }
        random.shuffle(positions, base, length);
        int picks = Math.min(in.randNum, length);
        for (int t = 0; t < picks; t++) {
            int position = positions[base + t];
            int negative;
            if (position < rest) {
                CandidateOrder.select(in, anchor, c, negNum, count, negNum + position);
                negative = c[negNum + position];
            } else {
                negative = sid1[hard + position - rest];
            }
            out.add(anchor, positive, negative, false);
        }
        return count;
    }
}
