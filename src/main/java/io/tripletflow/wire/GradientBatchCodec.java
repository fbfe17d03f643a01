package io.tripletflow.wire;

import io.tripletflow.batch.GradientBatch;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Encodes and decodes gradient batches, the job's answer to an embedding batch, in wire format v1
 * ({@code docs/wire-format.md}). Flag bit 0 is set exactly when the batch carries its selection mask.
 *
 * <pre>{@code
 * GradientBatchCodec codec = new GradientBatchCodec(WireBounds.DEFAULT);
 * producer.send(new ProducerRecord<>(topic, WireFormat.streamKeyBytes(g.streamKey()), codec.encode(g)));
 * // on the trainer side, or in a test:
 * GradientBatch back = codec.decode(record.key(), record.value()); // throws InvalidRecordException
 * }</pre>
 *
 * <p>Thread-safe and serializable, so a Flink function can hold one.
 */
public final class GradientBatchCodec implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final RecordKind KIND = RecordKind.GRADIENT_BATCH;
    private static final int MODEL_STEP_OFFSET = 16;
    private static final int CREATED_OFFSET = 24;
    private static final int COMPUTED_OFFSET = 32;
    private static final int LOSS_OFFSET = 48;
    private static final int SELECTED_TRIPLETS_OFFSET = 52;
    private static final int NON_ZERO_HINGES_OFFSET = 56;
    private static final int GRADIENTS_OFFSET = WireFormat.GRADIENT_HEADER_BYTES;

    private final WireBounds bounds;

    public GradientBatchCodec(WireBounds bounds) {
        this.bounds = Objects.requireNonNull(bounds, "bounds");
    }

    /** A codec with {@link WireBounds#DEFAULT}. */
    public GradientBatchCodec() {
        this(WireBounds.DEFAULT);
    }

    /**
     * Bytes {@link #encode} will produce: {@code 64 + 4ND}, plus {@code ceil(N*N/8)} with a mask.
     *
     * @throws IllegalArgumentException if the batch exceeds the bounds, so a decoder would reject it
     */
    public int encodedSize(GradientBatch batch) {
        return KIND.checkedRecordBytes(bounds, describe(batch), batch.rows(), batch.dimension(), flags(batch));
    }

    /**
     * The record value of a batch; its stream key goes in the Kafka key.
     *
     * @throws IllegalArgumentException if the batch exceeds the bounds
     */
    public byte[] encode(GradientBatch batch) {
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
    public int encodeInto(GradientBatch batch, byte[] target, int offset) {
        int size = encodedSize(batch);
        ByteBuffer out = ByteBuffer.wrap(target, offset, size).slice().order(ByteOrder.LITTLE_ENDIAN);
        KIND.writePreamble(out, flags(batch));
        out.putLong(RecordKind.BATCH_ID_OFFSET, batch.batchId())
                .putLong(MODEL_STEP_OFFSET, batch.modelStep())
                .putLong(CREATED_OFFSET, batch.createdMillis())
                .putLong(COMPUTED_OFFSET, batch.computedMillis())
                .putInt(KIND.rowsOffset(), batch.rows())
                .putInt(KIND.dimensionOffset(), batch.dimension())
                .putFloat(LOSS_OFFSET, batch.loss())
                .putInt(SELECTED_TRIPLETS_OFFSET, batch.selectedTriplets())
                .putInt(NON_ZERO_HINGES_OFFSET, batch.nonZeroHinges());
        out.position(GRADIENTS_OFFSET);
        out.asFloatBuffer().put(batch.gradients());
        if (batch.hasMask()) {
            out.position(GRADIENTS_OFFSET + 4 * batch.gradients().length);
            out.put(batch.mask());
        }
        int crcOffset = size - WireFormat.CRC_BYTES;
        out.putInt(crcOffset, WireFormat.crc32c(target, offset, crcOffset));
        return size;
    }

    /**
     * Decodes a record value whose Kafka key is {@code streamKey}.
     *
     * @throws InvalidRecordException naming the field and the bound of the first check that fails
     */
    public GradientBatch decode(String streamKey, byte[] value) throws InvalidRecordException {
        return decode(StreamKey.of(streamKey), value);
    }

    /** Decodes a Kafka record as it arrives: the key as UTF-8 bytes, checked like the value. */
    public GradientBatch decode(byte[] streamKeyUtf8, byte[] value) throws InvalidRecordException {
        return decode(StreamKey.ofUtf8(streamKeyUtf8), value);
    }

    private GradientBatch decode(StreamKey key, byte[] value) throws InvalidRecordException {
        RecordFrame frame = RecordFrame.read(KIND, bounds, key, value);
        int rows = frame.rows();
        int dimension = frame.dimension();
        ByteBuffer header = frame.buffer();
        float loss = header.getFloat(LOSS_OFFSET);
        frame.requireFinite("loss", loss);
        // The frame checked the exact size against the real length, so these fit and are backed by bytes.
        float[] gradients = new float[rows * dimension];
        frame.slice(GRADIENTS_OFFSET, 4 * gradients.length).asFloatBuffer().get(gradients);
        frame.requireFinite("gradients", gradients);
        byte[] mask = null;
        if ((frame.flags() & WireFormat.GRADIENT_FLAG_MASK) != 0) {
            mask = new byte[GradientBatch.maskBytes(rows)];
            System.arraycopy(frame.bytes(), GRADIENTS_OFFSET + 4 * gradients.length, mask, 0, mask.length);
        }
        return new GradientBatch(frame.streamKey(), header.getLong(RecordKind.BATCH_ID_OFFSET),
                header.getLong(MODEL_STEP_OFFSET), header.getLong(CREATED_OFFSET), header.getLong(COMPUTED_OFFSET),
                rows, dimension, loss, header.getInt(SELECTED_TRIPLETS_OFFSET), header.getInt(NON_ZERO_HINGES_OFFSET),
                gradients, mask);
    }

    private static int flags(GradientBatch batch) {
        return batch.hasMask() ? WireFormat.GRADIENT_FLAG_MASK : 0;
    }

    private static String describe(GradientBatch batch) {
        return batch.batchId() + " of stream '" + StreamKey.abbreviate(batch.streamKey()) + "'";
    }
}
