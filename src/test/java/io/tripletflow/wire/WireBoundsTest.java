package io.tripletflow.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WireBoundsTest {
    @Test
    void defaultsAreTheDocumentedOnes() {
        assertThat(WireBounds.DEFAULT.maxRows()).isEqualTo(8192);
        assertThat(WireBounds.DEFAULT.maxDimension()).isEqualTo(4096);
        assertThat(WireBounds.DEFAULT.maxRecordBytes()).isEqualTo(64 * 1024 * 1024);
    }

    @Test
    void withersChangeOneBound() {
        WireBounds bounds = WireBounds.DEFAULT.withMaxRows(10).withMaxDimension(20).withMaxRecordBytes(3000);

        assertThat(bounds).isEqualTo(new WireBounds(10, 20, 3000));
        assertThat(WireBounds.DEFAULT.maxRows()).isEqualTo(8192);
    }

    @Test
    void rejectsBoundsOutsideTheirRange() {
        assertThatThrownBy(() -> new WireBounds(0, 1, 64)).hasMessageContaining("max-rows = 0");
        assertThatThrownBy(() -> new WireBounds(1, -1, 64)).hasMessageContaining("max-dimension = -1");
        assertThatThrownBy(() -> new WireBounds((1 << 30) + 1, 1, 64)).hasMessageContaining("1 .. 1073741824");
        assertThatThrownBy(() -> new WireBounds(1, 1, 63)).hasMessageContaining("max-record-bytes = 63 is outside 64");
        assertThatThrownBy(() -> new WireBounds(1, 1, Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new WireBounds(1 << 30, 1 << 30, WireBounds.MAX_RECORD_BYTES_LIMIT).maxRows()).isEqualTo(1 << 30);
    }

    @Test
    void sizeArithmeticAtTheLargestBoundsStaysExact() {
        long n = 1L << 30;

        assertThat(WireFormat.embeddingRecordBytes(n, n)).isEqualTo(44 + (1L << 32) + (1L << 62));
        assertThat(WireFormat.gradientRecordBytes(n, n, true)).isEqualTo(64 + (1L << 62) + (1L << 57));
    }
}
