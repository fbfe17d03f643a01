package io.tripletflow.wire;

import static io.tripletflow.wire.InvalidRecordReason.BAD_CRC;
import static io.tripletflow.wire.InvalidRecordReason.BAD_FLAGS;
import static io.tripletflow.wire.InvalidRecordReason.BAD_MAGIC;
import static io.tripletflow.wire.InvalidRecordReason.DIMENSION_OUT_OF_BOUNDS;
import static io.tripletflow.wire.InvalidRecordReason.NON_FINITE_VALUE;
import static io.tripletflow.wire.InvalidRecordReason.RECORD_TOO_LARGE;
import static io.tripletflow.wire.InvalidRecordReason.ROWS_OUT_OF_BOUNDS;
import static io.tripletflow.wire.InvalidRecordReason.SIZE_MISMATCH;
import static io.tripletflow.wire.InvalidRecordReason.TRUNCATED;
import static io.tripletflow.wire.InvalidRecordReason.UNKNOWN_VERSION;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A record whose key, header, length and CRC passed the checks both kinds share, in the order the
 * format documents. Nothing the header claims is allocated before {@link #read} returns, and then
 * only what the checked length already holds.
 */
final class RecordFrame {
    private final byte[] bytes;
    private final ByteBuffer buffer;
    private final String streamKey;
    private final String record;
    private final int flags;
    private final int rows;
    private final int dimension;

    private RecordFrame(byte[] bytes, ByteBuffer buffer, String streamKey, String record, int flags, int rows,
            int dimension) {
        this.bytes = bytes;
        this.buffer = buffer;
        this.streamKey = streamKey;
        this.record = record;
        this.flags = flags;
        this.rows = rows;
        this.dimension = dimension;
    }

    static RecordFrame read(RecordKind kind, WireBounds bounds, StreamKey key, byte[] value)
            throws InvalidRecordException {
        int length = value == null ? 0 : value.length;
        String record = kind.label() + " (" + length + " bytes)";
        if (length > bounds.maxRecordBytes()) {
            throw new InvalidRecordException(RECORD_TOO_LARGE, record, "record size", length + " bytes",
                    "exceeds", "max-record-bytes = " + bounds.maxRecordBytes());
        }
        if (length < kind.minimumRecordBytes()) {
            throw new InvalidRecordException(TRUNCATED, record, "record size",
                    value == null ? "0 bytes (no value)" : length + " bytes", "is below",
                    "min-record-bytes = " + kind.minimumRecordBytes() + " (header and CRC)");
        }
        String streamKey = key.require(record);
        String stream = " of stream '" + StreamKey.abbreviate(streamKey) + "' (" + length + " bytes)";
        record = kind.label() + stream;

        ByteBuffer buffer = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (!kind.magicMatches(buffer)) {
            throw new InvalidRecordException(BAD_MAGIC, record, "magic", describeMagic(value), "differs from",
                    "magic = " + describeMagic(kind.magic()));
        }
        int version = Short.toUnsignedInt(buffer.getShort(RecordKind.VERSION_OFFSET));
        if (version != WireFormat.VERSION) {
            throw new InvalidRecordException(UNKNOWN_VERSION, record, "version", Integer.toString(version),
                    "differs from", "supported version = " + WireFormat.VERSION);
        }
        // From here on the bytes are a v1 record of this kind, so its batch id means something.
        record = kind.label() + " " + buffer.getLong(RecordKind.BATCH_ID_OFFSET) + stream;

        int flags = Short.toUnsignedInt(buffer.getShort(RecordKind.FLAGS_OFFSET));
        if ((flags & ~kind.allowedFlags()) != 0) {
            throw new InvalidRecordException(BAD_FLAGS, record, "flags", hex16(flags), "sets bits outside",
                    "allowed-flags = " + hex16(kind.allowedFlags()));
        }
        int rows = buffer.getInt(kind.rowsOffset());
        requireWithin(record, ROWS_OUT_OF_BOUNDS, "rows", rows, "min-rows", "max-rows", bounds.maxRows());
        int dimension = buffer.getInt(kind.dimensionOffset());
        requireWithin(record, DIMENSION_OUT_OF_BOUNDS, "dimension", dimension, "min-dimension", "max-dimension",
                bounds.maxDimension());

        long expected = kind.recordBytes(rows, dimension, flags);
        if (expected != length) {
            throw new InvalidRecordException(SIZE_MISMATCH, record, "record size", length + " bytes",
                    "differs from", kind.sizeFormula(flags) + " = " + expected + " bytes for N = " + rows
                            + ", D = " + dimension);
        }
        int crcOffset = length - WireFormat.CRC_BYTES;
        int stored = buffer.getInt(crcOffset);
        int computed = WireFormat.crc32c(value, 0, crcOffset);
        if (stored != computed) {
            throw new InvalidRecordException(BAD_CRC, record, "crc", hex32(stored), "differs from",
                    "CRC-32C of bytes 0.." + (crcOffset - 1) + " = " + hex32(computed));
        }
        return new RecordFrame(value, buffer, streamKey, record, flags, rows, dimension);
    }

    private static void requireWithin(String record, InvalidRecordReason reason, String field, int value,
            String minName, String maxName, int max) throws InvalidRecordException {
        if (value < 0) {
            throw new InvalidRecordException(reason, record, field, Integer.toString(value), "is below",
                    minName + " = 0");
        }
        if (value > max) {
            throw new InvalidRecordException(reason, record, field, Integer.toString(value), "exceeds",
                    maxName + " = " + max);
        }
    }

    /** The first non-finite value of a row-major N x D array, named by row and column. */
    void requireFinite(String field, float[] values) throws InvalidRecordException {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw nonFinite(field, values[i] + " at row " + i / dimension + ", column " + i % dimension);
            }
        }
    }

    void requireFinite(String field, float value) throws InvalidRecordException {
        if (!Float.isFinite(value)) {
            throw nonFinite(field, Float.toString(value));
        }
    }

    private InvalidRecordException nonFinite(String field, String value) {
        return new InvalidRecordException(NON_FINITE_VALUE, record, field, value, "violates", "finite float32");
    }

    /** A little-endian view of {@code length} bytes from {@code offset}, for bulk reads. */
    ByteBuffer slice(int offset, int length) {
        return ByteBuffer.wrap(bytes, offset, length).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    ByteBuffer buffer() { return buffer; }
    byte[] bytes() { return bytes; }
    String streamKey() { return streamKey; }
    int flags() { return flags; }
    int rows() { return rows; }
    int dimension() { return dimension; }

    private static String describeMagic(byte[] magic) {
        StringBuilder ascii = new StringBuilder();
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int b = magic[i] & 0xFF;
            ascii.append(b >= 0x20 && b < 0x7F ? (char) b : '.');
            hex.append(i == 0 ? "" : " ").append(String.format("%02x", b));
        }
        return "'" + ascii + "' (" + hex + ")";
    }

    private static String hex16(int value) {
        return String.format("0x%04x", value);
    }

    private static String hex32(int value) {
        return String.format("0x%08x", value);
    }
}
