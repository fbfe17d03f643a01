package io.tripletflow.engine.miner;

import io.tripletflow.engine.random.ShuffleRandom;

/**
 * Picks the negatives of one anchor. Miners see one anchor at a time and write only to their own
 * {@link TripletSink}, so anchors can be mined on any thread in any order.
 */
public interface Miner {

    /**
     * Mines anchor {@code anchor} with its positives {@code positives[0..positiveCount)}.
     *
     * @param randoms gives the generator of each anchor-positive pair
     * @return the number of candidate negatives the anchor had (summed over its positives)
     */
    int mine(MiningInput in, int anchor, int[] positives, int positiveCount,
             PairRandoms randoms, MinerScratch scratch, TripletSink out);

    /**
     * The most triplets this miner selects for one anchor-positive pair among {@code candidates}
     * rows: what a backend that writes selections into fixed slots reserves.
     */
    int pairCapacity(int candidates, int negNum, int hardNum, int randNum);

    /** The random draws of anchor-positive pairs. */
    interface PairRandoms {
        ShuffleRandom forPair(int anchor, int positive);
    }

    static Miner of(MinerKind kind) {
        switch (kind) {
            case RANK_HARD: return new RankHardMiner();
            case SEMI_HARD: return new SemiHardMiner();
            case BATCH_HARD: return new BatchHardMiner();
            case BATCH_ALL: return new BatchAllMiner();
            default: throw new IllegalArgumentException("unknown miner " + kind);
        }
    }
}
