package io.tripletflow.engine.distance;

/** FaceNet's {@code |f_i - f_j|^2 = g_ii + g_jj - 2 g_ij}, clamped at 0. */
public final class SquaredEuclideanDistance implements Distance {

    @Override
    public float fromGram(float gij, float normI, float normJ, float gii, float gjj) {
        return Math.max(0f, gii + gjj - 2f * gij);
    }

    @Override
    public float weight(float sij, float dij, boolean diagonal) {
        return diagonal ? 0f : -2f * sij;
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
        return 4f;
    }
}
