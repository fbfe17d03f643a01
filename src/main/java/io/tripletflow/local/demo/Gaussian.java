package io.tripletflow.local.demo;

import java.util.Random;

/** Independent normal draws: the demo's class means, nuisance directions and initial weights. */
final class Gaussian {

    private Gaussian() {}

    /** {@code count} draws of {@code N(0, scale^2)}. */
    static float[] draw(Random random, int count, double scale) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (scale * random.nextGaussian());
        }
        return v;
    }
}
