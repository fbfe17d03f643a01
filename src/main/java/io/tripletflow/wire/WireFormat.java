package io.tripletflow.wire;

import io.tripletflow.batch.GradientBatch;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Constants and size arithmetic of wire format v1 ({@code docs/wire-format.md}): little-endian
 * records that trainers in any language read with one {@code numpy.frombuffer} per array.
 */
public final class WireFormat {
    /** The only version this reader knows; a change to the layout is a new number. */
    public static final int VERSION = 1;

    /** Magic of an embedding batch, {@code TFEB} in ASCII. */
    public static final String EMBEDDING_MAGIC = "TFEB";
    /** Magic of a gradient batch, {@code TFGB} in ASCII. */
    public static final String GRADIENT_MAGIC = "TFGB";

    /** Fixed part of an embedding batch before the labels. */
    public static final int EMBEDDING_HEADER_BYTES = 40;
    /** Fixed part of a gradient batch before the gradients. */
    public static final int GRADIENT_HEADER_BYTES = 60;
    /** The trailing CRC-32C. */
    public static final int CRC_BYTES = 4;

    /** Gradient batch flag bit 0: a selection mask follows the gradients. */
    public static final int GRADIENT_FLAG_MASK = 1;

    private WireFormat() {
    }

    /** Exact size of an embedding batch: {@code 44 + 4N + 4ND}. */
    public static long embeddingRecordBytes(long rows, long dimension) {
        return EMBEDDING_HEADER_BYTES + 4 * rows + 4 * rows * dimension + CRC_BYTES;
    }

    /** Exact size of a gradient batch: {@code 64 + 4ND}, plus {@code ceil(N*N/8)} with a mask. */
    public static long gradientRecordBytes(long rows, long dimension, boolean withMask) {
        long mask = withMask ? maskBytes(rows) : 0;
        return GRADIENT_HEADER_BYTES + 4 * rows * dimension + mask + CRC_BYTES;
    }

    /** Bytes of an N x N bit mask padded to a whole byte. */
    public static long maskBytes(long rows) {
        return GradientBatch.maskBytesLong(rows);
    }

    /** The CRC-32C (Castagnoli) a record ends with, as the u32 bit pattern in an int. */
    public static int crc32c(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    /** The Kafka record key of a stream: its UTF-8 bytes. */
    public static byte[] streamKeyBytes(String streamKey) {
        return streamKey.getBytes(StandardCharsets.UTF_8);
    }
}
