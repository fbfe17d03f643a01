package io.tripletflow.engine.miner;

/**
 * What a miner reads: the batch's labels and distance matrix ({@code dis[i][j]} at
 * {@code distances[i * stride + j]}), and the selection parameters.
 */
public final class MiningInput {
    public int rows;
    public int[] labels;
    public float[] distances;
    public int stride;
    public float margin;
    public int negNum;
    public int hardNum;
    public int randNum;

    public float distance(int i, int j) {
        return distances[i * stride + j];
    }

    /** The seed's candidate test: a different label and {@code (dis[a][p] - dis[a][j]) + margin > 0}. */
    public boolean violates(int anchor, float anchorToPositive, int j) {
        return labels[j] != labels[anchor] && (anchorToPositive - distances[anchor * stride + j]) + margin > 0f;
    }

    /** The seed's order of candidates: ascending distance, ties by lower index ({@code -0.0 == 0.0}). */
    public boolean harder(int anchor, int j, int k) {
        float dj = distances[anchor * stride + j];
        float dk = distances[anchor * stride + k];
        return dj < dk || (dj == dk && j < k);
    }
}
