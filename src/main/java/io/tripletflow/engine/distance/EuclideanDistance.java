package io.tripletflow.engine.distance;

/**
 * {@code |f_i - f_j|}. Where two rows coincide the distance has no gradient; we take 0 there
 * (the subgradient that moves neither row).
 */
public final class EuclideanDistance implements Distance {

    @Override
    public float fromGram(float gij, float normI, float normJ, float gii, float gjj) {
        return (float) Math.sqrt(Math.max(0f, gii + gjj - 2f * gij));
    }

    @Override
    public float weight(float sij, float dij, boolean diagonal) {
        return diagonal || dij <= 0f ? 0f : -sij / dij;
    }

    @Override
    public boolean translationInvariant() {
        return true;
    }

    @Override
    public float histogramLow() {
        return 0f;
    }

    @Override
    public float histogramHigh() {
        return 2f;
    }
}
