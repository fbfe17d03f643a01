package io.tripletflow.engine.miner;

import io.tripletflow.engine.random.ShuffleRandom;

/**
 * The seed's miner. Candidates are the negatives whose own hinge is positive; with at most
 * {@code neg-num} of them all are taken, otherwise a random {@code hard_num} of the
 * {@code neg-num} hardest ({@code sid1}) and a random {@code rand_num} of the rest plus the
 * {@code sid1} entries not taken ({@code sid2}).
 *
 * <p>Nothing beyond the {@code neg-num} hardest is sorted. Replaying the seed's generator,
 * {@code sid2} must stand in the seed's (sorted) order, so its shuffle runs on positions and only
 * the few ranks that land in front are looked up with quickselect. With the counter generator
 * {@code sid2} stands in index order and only {@code rand_num} elements are drawn.
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
        for (int j = 0; j < in.columns; j++) {
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
        int[] sid1 = scratch.order;
        CandidateOrder.hardest(in, anchor, c, count, negNum, sid1);
        // The rest, in index order, to the front of c.
        int kth = sid1[negNum - 1];
        int rest = 0;
        for (int t = 0; t < count; t++) {
            if (in.harder(anchor, kth, c[t])) {
                c[rest++] = c[t];
            }
        }
        ShuffleRandom random = randoms.forPair(anchor, positive);
        int hard = Math.min(in.hardNum, negNum);
        random.chooseFront(sid1, 0, negNum, hard);
        for (int t = 0; t < hard; t++) {
            out.add(anchor, positive, sid1[t], true);
        }
        int length = rest + negNum - hard;
        int picks = Math.min(in.randNum, length);
        if (random.replaysSeed()) {
            // Positions of sid2 behind the rest; a position below `rest` is a rank among the rest.
            int base = rest;
            for (int t = 0; t < length; t++) {
                c[base + t] = t;
            }
            random.chooseFront(c, base, length, picks);
            for (int t = 0; t < picks; t++) {
                int position = c[base + t];
                int negative;
                if (position < rest) {
                    CandidateOrder.select(in, anchor, c, 0, rest, position);
                    negative = c[position];
                } else {
                    negative = sid1[hard + position - rest];
                }
                out.add(anchor, positive, negative, false);
            }
        } else {
            System.arraycopy(sid1, hard, c, rest, negNum - hard);
            random.chooseFront(c, 0, length, picks);
            for (int t = 0; t < picks; t++) {
                out.add(anchor, positive, c[t], false);
            }
        }
        return count;
    }

    /** {@inheritDoc} Here: all violators up to neg-num, or hard-num of the hardest plus rand-num of the rest. */
    @Override
    public int pairCapacity(int candidates, int negNum, int hardNum, int randNum) {
        return Math.max(1, Math.min(candidates, Math.max(negNum, Math.min(hardNum, negNum) + randNum)));
    }
}
