package io.tripletflow.wire;

import io.tripletflow.batch.EmbeddingBatch;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Encodes and decodes embedding batches, the records trainers publish, in wire format v1
 * ({@code docs/wire-format.md}). The stream key travels as the Kafka record key, not in the value.
 *
 * <pre>{@code
 * EmbeddingBatchCodec codec = new EmbeddingBatchCodec(WireBounds.DEFAULT);
 * byte[] value = codec.encode(batch);
 * try {
 *     EmbeddingBatch back = codec.decode(record.key(), record.value());
 * } catch (InvalidRecordException e) {
 *     deadLetters.send(record, e.reason().code(), e.getMessage());
 * }
 * }</pre>
 *
 * <p>Thread-safe and serializable, so a Flink function can hold one.
 */
public final class EmbeddingBatchCodec implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final RecordKind KIND = RecordKind.EMBEDDING_BATCH;
    private static final int MODEL_STEP_OFFSET = 16;
    private static final int CREATED_OFFSET = 24;
    private static final int LABELS_OFFSET = WireFormat.EMBEDDING_HEADER_BYTES;

    private final WireBounds bounds;

    public EmbeddingBatchCodec(WireBounds bounds) {
        this.bounds = Objects.requireNonNull(bounds, "bounds");
    }

    /** A codec with {@link WireBounds#DEFAULT}. */
    public EmbeddingBatchCodec() {
        this(WireBounds.DEFAULT);
    }

    /**
     * Bytes {@link #encode} will produce: {@code 44 + 4N + 4ND}.
     *
     * @throws IllegalArgumentException if the batch exceeds the bounds, so a decoder would reject it
     */
    public int encodedSize(EmbeddingBatch batch) {
        return KIND.checkedRecordBytes(
                bounds, batch.describe(), batch.rows(), batch.dimension(), 0);
    }

    /**
     * The record value of a batch; its stream key goes in the Kafka key.
     *
     * @throws IllegalArgumentException if the batch exceeds the bounds
     */
    public byte[] encode(EmbeddingBatch batch) {
        byte[] record = new byte[encodedSize(batch)];
        encodeInto(batch, record, 0);
        return record;
    }

    /**
     * Writes the record at {@code offset} of {@code target}, e.g. into a pooled buffer.
     *
     * @return the bytes written, {@link #encodedSize}
     * @throws IndexOutOfBoundsException if the record does not fit
     */
    public int encodeInto(EmbeddingBatch batch, byte[] target, int offset) {
        int size = encodedSize(batch);
        ByteBuffer out = ByteBuffer.wrap(target, offset, size).slice().order(ByteOrder.LITTLE_ENDIAN);
        KIND.writePreamble(out, 0);
        out.putLong(RecordKind.BATCH_ID_OFFSET, batch.batchId())
                .putLong(MODEL_STEP_OFFSET, batch.modelStep())
                .putLong(CREATED_OFFSET, batch.createdMillis())
                .putInt(KIND.rowsOffset(), batch.rows())
                .putInt(KIND.dimensionOffset(), batch.dimension());
        out.position(LABELS_OFFSET);
        out.asIntBuffer().put(batch.labels());
        out.position(LABELS_OFFSET + 4 * batch.rows());
        out.asFloatBuffer().put(batch.embeddings());
        int crcOffset = size - WireFormat.CRC_BYTES;
        out.putInt(crcOffset, WireFormat.crc32c(target, offset, crcOffset));
        return size;
    }

    /**
     * Decodes a record value whose Kafka key is {@code streamKey}.
     *
     * @throws InvalidRecordException naming the field and the bound of the first check that fails
     */
    public EmbeddingBatch decode(String streamKey, byte[] value) throws InvalidRecordException {
        return decode(StreamKey.of(streamKey), value);
    }

    /** Decodes a Kafka record as it arrives: the key as UTF-8 bytes, checked like the value. */
    public EmbeddingBatch decode(byte[] streamKeyUtf8, byte[] value) throws InvalidRecordException {
        return decode(StreamKey.ofUtf8(streamKeyUtf8), value);
    }

    private EmbeddingBatch decode(StreamKey key, byte[] value) throws InvalidRecordException {
        RecordFrame frame = RecordFrame.read(KIND, bounds, key, value);
        int rows = frame.rows();
        int dimension = frame.dimension();
        // The frame checked 44 + 4N + 4ND against the real length, so these fit and are backed by bytes.
        int[] labels = new int[rows];
        frame.slice(LABELS_OFFSET, 4 * rows).asIntBuffer().get(labels);
        float[] embeddings = new float[rows * dimension];
        frame.slice(LABELS_OFFSET + 4 * rows, 4 * rows * dimension).asFloatBuffer().get(embeddings);
        frame.requireFinite("embeddings", embeddings);

        ByteBuffer header = frame.buffer();
        return new EmbeddingBatch(frame.streamKey(), header.getLong(RecordKind.BATCH_ID_OFFSET),
                header.getLong(MODEL_STEP_OFFSET), header.getLong(CREATED_OFFSET), rows, dimension, labels,
                embeddings);
    }
}
