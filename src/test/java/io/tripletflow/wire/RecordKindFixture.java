package io.tripletflow.wire;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import java.util.Random;
import java.util.stream.IntStream;

/** Both record kinds behind one face, so the checks they share are tested once for both. */
enum RecordKindFixture {
    EMBEDDING_BATCH("embedding batch", "TFEB", 40, 32, 36, 0x0001) {
        @Override
        byte[] validRecord(Random random, int rows, int dimension) {
            return new EmbeddingBatchCodec().encode(RandomBatches.embeddingBatch(random, STREAM_KEY, rows, dimension));
        }

        @Override
        Object decode(WireBounds bounds, String key, byte[] value) throws InvalidRecordException {
            return new EmbeddingBatchCodec(bounds).decode(key, value);
        }

        @Override
        Object decode(WireBounds bounds, byte[] key, byte[] value) throws InvalidRecordException {
            return new EmbeddingBatchCodec(bounds).decode(key, value);
        }

        @Override
        byte[] encode(Object batch) {
            return new EmbeddingBatchCodec(WireBounds.DEFAULT).encode((EmbeddingBatch) batch);
        }

        @Override
        int[] floatOffsets(byte[] record) {
            int first = 40 + 4 * rows(record);
            return IntStream.range(0, rows(record) * dimension(record)).map(i -> first + 4 * i).toArray();
        }
    },
    GRADIENT_BATCH("gradient batch", "TFGB", 60, 40, 44, 0x0002) {
        @Override
        byte[] validRecord(Random random, int rows, int dimension) {
            return new GradientBatchCodec().encode(
                    RandomBatches.gradientBatch(random, STREAM_KEY, rows, dimension, random.nextBoolean()));
        }

        @Override
        Object decode(WireBounds bounds, String key, byte[] value) throws InvalidRecordException {
            return new GradientBatchCodec(bounds).decode(key, value);
        }

        @Override
        Object decode(WireBounds bounds, byte[] key, byte[] value) throws InvalidRecordException {
            return new GradientBatchCodec(bounds).decode(key, value);
        }

        @Override
        byte[] encode(Object batch) {
            return new GradientBatchCodec(WireBounds.DEFAULT).encode((GradientBatch) batch);
        }

        @Override
        int[] floatOffsets(byte[] record) {
            int gradients = rows(record) * dimension(record);
            return IntStream.concat(IntStream.of(48), IntStream.range(0, gradients).map(i -> 60 + 4 * i)).toArray();
        }
    };

    static final String STREAM_KEY = "trainer-1";

    final String label;
    final String magic;
    final int headerBytes;
    final int rowsOffset;
    final int dimensionOffset;
    final int undefinedFlag;

    RecordKindFixture(String label, String magic, int headerBytes, int rowsOffset, int dimensionOffset,
            int undefinedFlag) {
        this.label = label;
        this.magic = magic;
        this.headerBytes = headerBytes;
        this.rowsOffset = rowsOffset;
        this.dimensionOffset = dimensionOffset;
        this.undefinedFlag = undefinedFlag;
    }

    abstract byte[] validRecord(Random random, int rows, int dimension);

    abstract Object decode(WireBounds bounds, String key, byte[] value) throws InvalidRecordException;

    abstract Object decode(WireBounds bounds, byte[] key, byte[] value) throws InvalidRecordException;

    /** Encodes a batch this kind decoded, to compare with the bytes it came from. */
    abstract byte[] encode(Object batch);

    /** Where the record's float values lie: embeddings, or loss and gradients. */
    abstract int[] floatOffsets(byte[] record);

    int minimumRecordBytes() {
        return headerBytes + 4;
    }

    int rows(byte[] record) {
        return RecordBytes.i32(record, rowsOffset);
    }

    int dimension(byte[] record) {
        return RecordBytes.i32(record, dimensionOffset);
    }

    RecordKindFixture other() {
        return this == EMBEDDING_BATCH ? GRADIENT_BATCH : EMBEDDING_BATCH;
    }
}
