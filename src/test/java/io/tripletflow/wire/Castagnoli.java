package io.tripletflow.wire;

/** CRC-32C written from its definition, so the tests do not check the codec with its own tool. */
final class Castagnoli {
    private static final int REFLECTED_POLYNOMIAL = 0x82F63B78;

    private Castagnoli() {
    }

    static int crc32c(byte[] bytes, int offset, int length) {
        int crc = 0xFFFFFFFF;
        for (int i = offset; i < offset + length; i++) {
            crc ^= bytes[i] & 0xFF;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc >>> 1) ^ (REFLECTED_POLYNOMIAL & -(crc & 1));
            }
        }
        return ~crc;
    }
}
