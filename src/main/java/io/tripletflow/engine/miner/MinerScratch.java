package io.tripletflow.engine.miner;

/** Per-thread working arrays of the miners, grown to the largest batch and then reused. */
public final class MinerScratch {
    int[] candidates = new int[0];
    int[] order = new int[0];

    public void ensureRows(int rows) {
        if (candidates.length < 2 * rows || order.length < rows) {
            // Candidates, then the shuffled positions of sid2 behind them.
            candidates = new int[2 * rows];
            order = new int[rows];
        }
    }
}
