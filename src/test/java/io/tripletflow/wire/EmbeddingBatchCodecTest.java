package io.tripletflow.wire;

import static io.tripletflow.wire.Rejections.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.batch.EmbeddingBatch;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EmbeddingBatchCodecTest {
    private static final String KEY = "trainer-1";
    private final EmbeddingBatchCodec codec = new EmbeddingBatchCodec();

    @ParameterizedTest(name = "N={0} D={1}")
    @CsvSource({"0,0", "0,7", "5,0", "1,1", "2,3", "3,8", "17,128", "256,64", "1000,1"})
    void roundTripsRandomBatches(int rows, int dimension) throws InvalidRecordException {
        EmbeddingBatch batch = RandomBatches.embeddingBatch(new Random(rows * 31L + dimension), KEY, rows, dimension);

        byte[] record = codec.encode(batch);
        EmbeddingBatch back = codec.decode(KEY, record);

        assertThat(record).hasSize(44 + 4 * rows + 4 * rows * dimension);
        assertThat(back).usingRecursiveComparison().isEqualTo(batch);
        assertThat(codec.encode(back)).isEqualTo(record);
    }

    @Test
    void writesEveryFieldAtTheSpecOffsets() {
        EmbeddingBatch batch = RandomBatches.embeddingBatch(new Random(11), KEY, 5, 3);

        byte[] r = codec.encode(batch);

        assertThat(RecordBytes.ascii(r, 0, 4)).isEqualTo("TFEB");
        assertThat(RecordBytes.u16(r, 4)).isEqualTo(1);
        assertThat(RecordBytes.u16(r, 6)).isZero();
        assertThat(RecordBytes.i64(r, 8)).isEqualTo(batch.batchId());
        assertThat(RecordBytes.i64(r, 16)).isEqualTo(batch.modelStep());
        assertThat(RecordBytes.i64(r, 24)).isEqualTo(batch.createdMillis());
        assertThat(RecordBytes.i32(r, 32)).isEqualTo(5);
        assertThat(RecordBytes.i32(r, 36)).isEqualTo(3);
        for (int i = 0; i < 5; i++) {
            assertThat(RecordBytes.i32(r, 40 + 4 * i)).isEqualTo(batch.labels()[i]);
        }
        for (int k = 0; k < 15; k++) {
            assertThat(Float.floatToRawIntBits(RecordBytes.f32(r, 40 + 4 * 5 + 4 * k)))
                    .isEqualTo(Float.floatToRawIntBits(batch.embeddings()[k]));
        }
        assertThat(r).hasSize(40 + 4 * 5 + 4 * 15 + 4);
        assertThat(RecordBytes.storedCrc(r)).isEqualTo(Castagnoli.crc32c(r, 0, r.length - 4));
    }

    @Test
    void encodesAKnownRecordByteForByte() throws InvalidRecordException {
        EmbeddingBatch batch = new EmbeddingBatch(KEY, 1, 2, 3, 2, 1, new int[] {7, -1}, new float[] {1.0f, -2.0f});
        byte[] expected = HexFormat.ofDelimiter(" ").parseHex(
                "54 46 45 42 01 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
                        + " 02 00 00 00 01 00 00 00 07 00 00 00 ff ff ff ff 00 00 80 3f 00 00 00 c0 8b 00 62 85");

        assertThat(codec.encode(batch)).isEqualTo(expected);
        assertThat(codec.decode(KEY, expected)).usingRecursiveComparison().isEqualTo(batch);
    }

    @Test
    void castagnoliOfTheStandardCheckString() {
        byte[] check = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        assertThat(Castagnoli.crc32c(check, 0, 9)).isEqualTo(0xE3069283);
        assertThat(WireFormat.crc32c(check, 0, 9)).isEqualTo(0xE3069283);
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void rejectsNonFiniteEmbeddingsNamingRowAndColumn(float bad) {
        EmbeddingBatch batch = RandomBatches.embeddingBatch(new Random(3), KEY, 4, 5);
        byte[] record = codec.encode(batch);
        RecordBytes.putF32(record, 40 + 4 * 4 + 4 * (2 * 5 + 3), bad);
        RecordBytes.reseal(record);

        InvalidRecordException e = assertRejected(() -> codec.decode(KEY, record),
                InvalidRecordReason.NON_FINITE_VALUE, "embeddings", "finite float32");
        assertThat(e.value()).isEqualTo(bad + " at row 2, column 3");
        assertThat(e.record()).contains("embedding batch " + batch.batchId() + " of stream 'trainer-1'");
    }

    @Test
    void messageNamesRecordFieldAndBound() {
        byte[] record = codec.encode(RandomBatches.embeddingBatch(new Random(5), KEY, 4, 22));
        long batchId = RecordBytes.i64(record, 8);
        RecordBytes.putI32(record, 32, 70000);

        InvalidRecordException e = assertRejected(() -> codec.decode(KEY, record),
                InvalidRecordReason.ROWS_OUT_OF_BOUNDS, "rows", "max-rows = 8192");

        assertThat(e.getMessage()).isEqualTo("embedding batch " + batchId
                + " of stream 'trainer-1' (412 bytes): field 'rows' = 70000 exceeds the bound max-rows = 8192");
    }

    @Test
    void honoursConfiguredBounds() throws InvalidRecordException {
        byte[] record = codec.encode(RandomBatches.embeddingBatch(new Random(5), KEY, 4, 22));
        WireBounds exact = new WireBounds(4, 22, 412);

        assertThat(new EmbeddingBatchCodec(exact).decode(KEY, record).rows()).isEqualTo(4);
        assertRejected(() -> new EmbeddingBatchCodec(exact.withMaxRows(3)).decode(KEY, record),
                InvalidRecordReason.ROWS_OUT_OF_BOUNDS, "rows", "max-rows = 3");
        assertRejected(() -> new EmbeddingBatchCodec(exact.withMaxDimension(21)).decode(KEY, record),
                InvalidRecordReason.DIMENSION_OUT_OF_BOUNDS, "dimension", "max-dimension = 21");
        assertRejected(() -> new EmbeddingBatchCodec(exact.withMaxRecordBytes(411)).decode(KEY, record),
                InvalidRecordReason.RECORD_TOO_LARGE, "record size", "max-record-bytes = 411");
    }

    @Test
    void refusesToEncodeWhatTheBoundsWouldReject() {
        EmbeddingBatch batch = RandomBatches.embeddingBatch(new Random(5), KEY, 4, 22);

        assertThatThrownBy(() -> new EmbeddingBatchCodec(new WireBounds(3, 22, 412)).encode(batch))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("field 'rows' = 4 exceeds the bound max-rows = 3");
        assertThatThrownBy(() -> new EmbeddingBatchCodec(new WireBounds(4, 21, 412)).encode(batch))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("field 'dimension' = 22 exceeds the bound max-dimension = 21");
        assertThatThrownBy(() -> new EmbeddingBatchCodec(new WireBounds(4, 22, 411)).encode(batch))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("field 'record size' = 412 bytes exceeds the bound max-record-bytes = 411");
    }

    @Test
    void encodesIntoABufferAtAnOffset() {
        EmbeddingBatch batch = RandomBatches.embeddingBatch(new Random(8), KEY, 3, 2);
        byte[] alone = codec.encode(batch);
        byte[] pool = new byte[alone.length + 10];

        int written = codec.encodeInto(batch, pool, 7);

        assertThat(written).isEqualTo(alone.length).isEqualTo(codec.encodedSize(batch));
        assertThat(java.util.Arrays.copyOfRange(pool, 7, 7 + written)).isEqualTo(alone);
        assertThat(java.util.Arrays.copyOfRange(pool, 0, 7)).containsOnly(0);
        assertThatThrownBy(() -> codec.encodeInto(batch, pool, 11)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
