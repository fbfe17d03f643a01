package io.tripletflow.wire;

import static io.tripletflow.wire.Rejections.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.batch.GradientBatch;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GradientBatchCodecTest {
    private static final String KEY = "trainer-1";
    private final GradientBatchCodec codec = new GradientBatchCodec();

    @ParameterizedTest(name = "N={0} D={1} mask={2}")
    @CsvSource({"0,0,false", "0,0,true", "1,1,true", "2,3,false", "3,8,true", "7,5,true", "17,128,false",
            "256,64,true", "1000,1,true"})
    void roundTripsRandomBatches(int rows, int dimension, boolean withMask) throws InvalidRecordException {
        GradientBatch batch = RandomBatches.gradientBatch(
                new Random(rows * 31L + dimension), KEY, rows, dimension, withMask);

        byte[] record = codec.encode(batch);
        GradientBatch back = codec.decode(KEY, record);

        long maskBytes = withMask ? (rows * (long) rows + 7) / 8 : 0;
        assertThat((long) record.length).isEqualTo(64 + 4L * rows * dimension + maskBytes);
        assertThat(back).usingRecursiveComparison().isEqualTo(batch);
        assertThat(codec.encode(back)).isEqualTo(record);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void writesEveryFieldAtTheSpecOffsets(boolean withMask) {
        GradientBatch batch = RandomBatches.gradientBatch(new Random(11), KEY, 5, 3, withMask);

        byte[] r = codec.encode(batch);

        assertThat(RecordBytes.ascii(r, 0, 4)).isEqualTo("TFGB");
        assertThat(RecordBytes.u16(r, 4)).isEqualTo(1);
        assertThat(RecordBytes.u16(r, 6)).isEqualTo(withMask ? 1 : 0);
        assertThat(RecordBytes.i64(r, 8)).isEqualTo(batch.batchId());
        assertThat(RecordBytes.i64(r, 16)).isEqualTo(batch.modelStep());
        assertThat(RecordBytes.i64(r, 24)).isEqualTo(batch.createdMillis());
        assertThat(RecordBytes.i64(r, 32)).isEqualTo(batch.computedMillis());
        assertThat(RecordBytes.i32(r, 40)).isEqualTo(5);
        assertThat(RecordBytes.i32(r, 44)).isEqualTo(3);
        assertThat(Float.floatToRawIntBits(RecordBytes.f32(r, 48))).isEqualTo(Float.floatToRawIntBits(batch.loss()));
        assertThat(RecordBytes.i32(r, 52)).isEqualTo(batch.selectedTriplets());
        assertThat(RecordBytes.i32(r, 56)).isEqualTo(batch.nonZeroHinges());
        for (int k = 0; k < 15; k++) {
            assertThat(Float.floatToRawIntBits(RecordBytes.f32(r, 60 + 4 * k)))
                    .isEqualTo(Float.floatToRawIntBits(batch.gradients()[k]));
        }
        int maskBytes = withMask ? 4 : 0;
        if (withMask) {
            assertThat(Arrays.copyOfRange(r, 120, 124)).isEqualTo(batch.mask());
        }
        assertThat(r).hasSize(60 + 60 + maskBytes + 4);
        assertThat(RecordBytes.storedCrc(r)).isEqualTo(Castagnoli.crc32c(r, 0, r.length - 4));
    }

    @Test
    void encodesAKnownRecordWithItsMaskBitsByteForByte() throws InvalidRecordException {
        byte[] mask = new byte[GradientBatch.maskBytes(3)];
        for (int[] pair : new int[][] {{0, 1}, {1, 2}, {2, 0}}) {
            int bit = pair[0] * 3 + pair[1];
            mask[bit / 8] |= (byte) (1 << (bit % 8));
        }
        GradientBatch batch = new GradientBatch(KEY, 1, 2, 3, 4, 3, 1, 0.5f, 5, 6,
                new float[] {0.25f, -0.5f, 1.0f}, mask);
        byte[] expected = HexFormat.ofDelimiter(" ").parseHex(
                "54 46 47 42 01 00 01 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
                        + " 04 00 00 00 00 00 00 00 03 00 00 00 01 00 00 00 00 00 00 3f 05 00 00 00 06 00 00 00"
                        + " 00 00 80 3e 00 00 00 bf 00 00 80 3f 62 00 7f 7d ab 1a");

        assertThat(codec.encode(batch)).isEqualTo(expected);
        GradientBatch back = codec.decode(KEY, expected);
        assertThat(back).usingRecursiveComparison().isEqualTo(batch);
        assertThat(back.maskBit(0, 1)).isTrue();
        assertThat(back.maskBit(1, 2)).isTrue();
        assertThat(back.maskBit(2, 0)).isTrue();
        assertThat(back.maskBit(1, 0)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void rejectsNonFiniteLossAndGradients(float bad) {
        byte[] record = codec.encode(RandomBatches.gradientBatch(new Random(3), KEY, 4, 5, true));
        byte[] badLoss = record.clone();
        RecordBytes.putF32(badLoss, 48, bad);
        RecordBytes.reseal(badLoss);
        byte[] badGradient = record.clone();
        RecordBytes.putF32(badGradient, 60 + 4 * (3 * 5 + 4), bad);
        RecordBytes.reseal(badGradient);

        InvalidRecordException loss = assertRejected(() -> codec.decode(KEY, badLoss),
                InvalidRecordReason.NON_FINITE_VALUE, "loss", "finite float32");
        InvalidRecordException gradient = assertRejected(() -> codec.decode(KEY, badGradient),
                InvalidRecordReason.NON_FINITE_VALUE, "gradients", "finite float32");

        assertThat(loss.value()).isEqualTo(Float.toString(bad));
        assertThat(gradient.value()).isEqualTo(bad + " at row 3, column 4");
    }

    @Test
    void theMaskFlagDecidesTheExpectedSize() {
        byte[] withMask = codec.encode(RandomBatches.gradientBatch(new Random(4), KEY, 6, 2, true));
        byte[] withoutMask = codec.encode(RandomBatches.gradientBatch(new Random(4), KEY, 6, 2, false));
        RecordBytes.putU16(withMask, 6, 0);
        RecordBytes.putU16(withoutMask, 6, 1);

        assertRejected(() -> codec.decode(KEY, withMask), InvalidRecordReason.SIZE_MISMATCH, "record size",
                "64 + 4ND = 112 bytes for N = 6, D = 2");
        assertRejected(() -> codec.decode(KEY, withoutMask), InvalidRecordReason.SIZE_MISMATCH, "record size",
                "64 + 4ND + ceil(N*N/8) = 117 bytes for N = 6, D = 2");
    }

    @Test
    void honoursConfiguredBounds() throws InvalidRecordException {
        byte[] record = codec.encode(RandomBatches.gradientBatch(new Random(5), KEY, 8, 1, true));
        WireBounds exact = new WireBounds(8, 1, 104);

        assertThat(new GradientBatchCodec(exact).decode(KEY, record).hasMask()).isTrue();
        assertRejected(() -> new GradientBatchCodec(exact.withMaxRows(7)).decode(KEY, record),
                InvalidRecordReason.ROWS_OUT_OF_BOUNDS, "rows", "max-rows = 7");
        assertRejected(() -> new GradientBatchCodec(exact.withMaxRecordBytes(103)).decode(KEY, record),
                InvalidRecordReason.RECORD_TOO_LARGE, "record size", "max-record-bytes = 103");
    }

    @Test
    void refusesToEncodeWhatTheBoundsWouldReject() {
        GradientBatch batch = RandomBatches.gradientBatch(new Random(5), KEY, 8, 1, true);

        assertThatThrownBy(() -> new GradientBatchCodec(new WireBounds(8, 1, 103)).encode(batch))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gradient batch " + batch.batchId() + " of stream 'trainer-1'")
                .hasMessageContaining("field 'record size' = 104 bytes exceeds the bound max-record-bytes = 103");
    }

    @Test
    void encodesIntoABufferAtAnOffset() {
        GradientBatch batch = RandomBatches.gradientBatch(new Random(8), KEY, 3, 2, true);
        byte[] alone = codec.encode(batch);
        byte[] pool = new byte[alone.length + 3];

        int written = codec.encodeInto(batch, pool, 3);

        assertThat(written).isEqualTo(alone.length).isEqualTo(codec.encodedSize(batch));
        assertThat(Arrays.copyOfRange(pool, 3, pool.length)).isEqualTo(alone);
        assertThatThrownBy(() -> codec.encodeInto(batch, pool, 4)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
