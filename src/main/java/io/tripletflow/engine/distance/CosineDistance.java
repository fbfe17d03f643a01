package io.tripletflow.engine.distance;

/**
 * {@code 1 - cos(f_i, f_j)}, normalising inside: rows need not be unit vectors, and the gradient
 * goes through the normalisation ({@code d u / d f = (I - u u^T) / |f|}). A zero row has
 * {@code u = 0}: distance 1 to everything and no gradient.
 */
public final class CosineDistance implements Distance {

    @Override
    public float fromGram(float gij, float normI, float normJ, float gii, float gjj) {
        float denominator = normI * normJ;
        return denominator > 0f ? 1f - gij / denominator : 1f;
    }

    @Override
    public float weight(float sij, float dij, boolean diagonal) {
        return diagonal ? 0f : -sij;
    }

    @Override
    public boolean translationInvariant() {
        return false;
    }

    @Override
    public boolean normalisesInside() {
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
