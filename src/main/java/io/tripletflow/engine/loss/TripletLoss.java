package io.tripletflow.engine.loss;


/**
 * Turns a triplet into loss terms of {@code x = dis(a,p) - dis(y,n) + margin}: {@code y = a} for
 * the first term, {@code y = p} for the second, which only the seed's double hinge has.
 */
public interface TripletLoss {

    /** The value of one term. */
    float value(float x);

    /** {@code d value / d x}, the coefficient the term puts on its distances. */
    float slope(float x);

    /** Whether the {@code dis(p,n)} term is part of the loss. */
    boolean hasSecondTerm();

    static TripletLoss of(LossKind kind) {
        switch (kind) {
            case DOUBLE_HINGE: return new HingeLoss(true);
            case HINGE: return new HingeLoss(false);
            case SOFT: return new SoftplusLoss();
            default: throw new IllegalArgumentException("unknown loss " + kind);
        }
    }
}
