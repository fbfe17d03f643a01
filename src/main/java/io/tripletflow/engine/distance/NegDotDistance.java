package io.tripletflow.engine.distance;

/**
 * The seed's distance, {@code dis[i][j] = -dot(f_i, f_j)}, diagonal 0.
 *
 * <p>The diagonal is 0 in value but the seed's backward pass still differentiates
 * {@code -dot(f_p, f_p)} when a label-mismatched positive is its own negative (the
 * {@code dis[p][p]} quirk), so the diagonal keeps its weight here.
 */
public final class NegDotDistance implements Distance {

    @Override
    public float fromGram(float gij, float normI, float normJ, float gii, float gjj) {
        return -gij;
    }

    @Override
    public float weight(float sij, float dij, boolean diagonal) {
        return -sij;
    }

    @Override
    public boolean translationInvariant() {
        return false;
    }

    @Override
    public float histogramLow() {
        return -1f;
    }

    @Override
    public float histogramHigh() {
        return 1f;
    }
}
