package io.tripletflow.wire;

import java.util.Arrays;

/**
 * Reads and patches records by the spec's offsets with plain shifts, independently of the codecs'
 * ByteBuffer code: little-endian means the least significant byte comes first.
 */
final class RecordBytes {
    private RecordBytes() {
    }

    static int u16(byte[] b, int offset) {
        return (b[offset] & 0xFF) | (b[offset + 1] & 0xFF) << 8;
    }

    static int i32(byte[] b, int offset) {
        return (b[offset] & 0xFF) | (b[offset + 1] & 0xFF) << 8 | (b[offset + 2] & 0xFF) << 16 | b[offset + 3] << 24;
    }

    static long i64(byte[] b, int offset) {
        return (i32(b, offset) & 0xFFFFFFFFL) | (long) i32(b, offset + 4) << 32;
    }

    static float f32(byte[] b, int offset) {
        return Float.intBitsToFloat(i32(b, offset));
    }

    static String ascii(byte[] b, int offset, int length) {
        return new String(b, offset, length, java.nio.charset.StandardCharsets.US_ASCII);
    }

    static void putU16(byte[] b, int offset, int value) {
        b[offset] = (byte) value;
        b[offset + 1] = (byte) (value >>> 8);
    }

    static void putI32(byte[] b, int offset, int value) {
        for (int i = 0; i < 4; i++) {
            b[offset + i] = (byte) (value >>> 8 * i);
        }
    }

    static void putF32(byte[] b, int offset, float value) {
        putI32(b, offset, Float.floatToRawIntBits(value));
    }

    static int storedCrc(byte[] record) {
        return i32(record, record.length - 4);
    }

    /** Rewrites the trailing CRC so a patched record reaches the checks after the CRC. */
    static byte[] reseal(byte[] record) {
        putI32(record, record.length - 4, Castagnoli.crc32c(record, 0, record.length - 4));
        return record;
    }

    static byte[] withLength(byte[] record, int length) {
        return Arrays.copyOf(record, length);
    }
}
