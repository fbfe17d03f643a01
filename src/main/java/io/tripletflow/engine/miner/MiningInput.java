package io.tripletflow.engine.miner;

/**
 * What a miner reads: the labels of the candidate columns and the distance matrix
 * ({@code dis[i][j]} at {@code distances[i * stride + j]}, {@code i} a row of the batch, {@code j}
 * a column: the batch's rows, then the cross-batch memory's), and the selection parameters.
 */
public final class MiningInput {
    /** Rows of the batch (anchors and their batch positives are among them). */
    public int rows;
    /** Candidate columns: the batch's rows, then the memory's ({@code columns >= rows}). */
    public int columns;
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
