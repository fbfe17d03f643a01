package io.tripletflow.engine.loss;

/**
 * The soft margin of Hermans et al.: {@code log(1 + exp(x))} on the anchor's term, smooth
 * everywhere (set {@code margin = 0} for their exact form).
 */
public final class SoftplusLoss implements TripletLoss {

    @Override
    public float value(float x) {
        // log1p(exp(x)) overflows for large x, where it equals x to float precision.
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    @Override
    public float slope(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    @Override
    public boolean hasSecondTerm() {
        return false;
    }
}
