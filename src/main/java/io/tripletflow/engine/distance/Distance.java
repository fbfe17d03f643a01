package io.tripletflow.engine.distance;


/**
 * Turns the Gram matrix {@code g[i][j] = dot(f_i, f_j)} into pairwise distances, and the
 * coefficients of {@code dL/d dis[i][j]} back into {@code dL/d f}.
 *
 * <p>The gradient of row {@code i} is {@code alpha_i x_i + sum_j beta_ij x_j} over the basis
 * vectors {@code x} ({@link #normalisesInside() f or f/|f|}), where {@code s_ij} is the
 * symmetric coefficient of {@code dis[i][j]} and {@code beta_ij = weight(s_ij, dis_ij, i == j)}.
 * Translation-invariant distances have {@code alpha_i = -sum_j beta_ij}.
 */
public interface Distance {

    /** {@code dis[i][j]} for {@code i != j}; the diagonal is always 0. */
    float fromGram(float gij, float normI, float normJ, float gii, float gjj);

    /** {@code beta_ij}, the weight of basis vector {@code x_j} in the gradient of row {@code i}. */
    float weight(float sij, float dij, boolean diagonal);

    /** Whether {@code alpha_i = -sum_j beta_ij} (a function of {@code f_i - f_j}). */
    boolean translationInvariant();

    /** Whether the basis is {@code f / |f|} and the row gradient is projected through the norm. */
    default boolean normalisesInside() {
        return false;
    }

    /** Lower edge of the fixed-bin histogram of {@code dis(a,n)} for unit vectors. */
    float histogramLow();

    /** Upper edge of the fixed-bin histogram of {@code dis(a,n)} for unit vectors. */
    float histogramHigh();

    static Distance of(DistanceKind kind) {
        switch (kind) {
            case NEG_DOT: return new NegDotDistance();
            case SQUARED_EUCLIDEAN: return new SquaredEuclideanDistance();
            case EUCLIDEAN: return new EuclideanDistance();
            case COSINE: return new CosineDistance();
            default: throw new IllegalArgumentException("unknown distance " + kind);
        }
    }
}
