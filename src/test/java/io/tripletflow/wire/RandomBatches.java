package io.tripletflow.wire;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import java.util.Random;

/** Batches with random contents, including the float edge cases a faithful codec must keep. */
final class RandomBatches {
    private static final float[] EDGE_VALUES = {
        -0.0f, 0.0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 1.0f,
    };

    private RandomBatches() {
    }

    static EmbeddingBatch embeddingBatch(Random random, String streamKey, int rows, int dimension) {
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = random.nextBoolean() ? random.nextInt(10) : random.nextInt();
        }
        return new EmbeddingBatch(streamKey, random.nextLong(), random.nextLong(), random.nextLong(), rows, dimension,
                labels, floats(random, rows * dimension));
    }

    static GradientBatch gradientBatch(Random random, String streamKey, int rows, int dimension, boolean withMask) {
        byte[] mask = null;
        if (withMask) {
            mask = new byte[GradientBatch.maskBytes(rows)];
            random.nextBytes(mask);
            int usedBits = rows * rows % 8;
            if (usedBits != 0) {
                mask[mask.length - 1] &= (byte) ((1 << usedBits) - 1);
            }
        }
        return new GradientBatch(streamKey, random.nextLong(), random.nextLong(), random.nextLong(), random.nextLong(),
                rows, dimension, floats(random, 1)[0], random.nextInt(), random.nextInt(),
                floats(random, rows * dimension), mask);
    }

    static float[] floats(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextInt(16) == 0
                    ? EDGE_VALUES[random.nextInt(EDGE_VALUES.length)]
                    : (float) random.nextGaussian();
        }
        return values;
    }
}
