package io.tripletflow.local.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Recall@1, the demo's evaluation. */
class HeldOutRecallTest {

    @Test
    void recallAt1CountsNearestNeighboursOfTheSameLabel() {
        float[] unit = {1, 0, 0.9f, 0.436f, 0, 1, -1, 0};
        assertThat(HeldOutRecall.recallAt1(unit, new int[] {0, 0, 1, 1}, 4, 2)).isEqualTo(0.75);
        assertThat(HeldOutRecall.recallAt1(unit, new int[] {0, 0, 1, 2}, 4, 2)).isEqualTo(0.5);
        assertThat(HeldOutRecall.recallAt1(unit, new int[] {0, 0, 0, 0}, 4, 2)).isEqualTo(1.0);
    }
}
