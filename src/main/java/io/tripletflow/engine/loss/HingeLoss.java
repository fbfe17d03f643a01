package io.tripletflow.engine.loss;

/**
 * {@code max(0, x)}: with its second term the seed's {@code h1 + h2}, without it FaceNet's hinge.
 * An exactly-zero hinge has no gradient, as in the seed's {@code tloss > 0} test.
 */
public final class HingeLoss implements TripletLoss {
    private final boolean secondTerm;

    public HingeLoss(boolean secondTerm) {
        this.secondTerm = secondTerm;
    }

    @Override
    public float value(float x) {
        return Math.max(0f, x);
    }

    @Override
    public float slope(float x) {
        return x > 0f ? 1f : 0f;
    }

    @Override
    public boolean hasSecondTerm() {
        return secondTerm;
    }
}
