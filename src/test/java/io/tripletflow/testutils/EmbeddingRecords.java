package io.tripletflow.testutils;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Embedding batch records (wire format v1) written byte by byte from the spec, independently of
 * the project's codec, including the malformed variants a job must turn into dead letters.
 *
 * <pre>
 *   0 magic "TFEB" | 4 u16 version | 6 u16 flags | 8 i64 batch id | 16 i64 model step
 *   24 i64 created | 32 i32 N | 36 i32 D | 40 i32[N] labels | f32[N*D] | u32 CRC-32C
 * </pre>
 */
public final class EmbeddingRecords {
    public static final int HEADER_BYTES = 40;
    public static final int CRC_BYTES = 4;

    private EmbeddingRecords() {}

    /** A well-formed record. */
    public static byte[] record(long batchId, long modelStep, long created, int n, int d, int[] labels,
                                float[] embeddings) {
        return record("TFEB", 1, 0, batchId, modelStep, created, n, d, labels, embeddings);
    }

    /** A record with any header values; the body is {@code labels} and {@code embeddings}, the CRC correct. */
    public static byte[] record(String magic, int version, int flags, long batchId, long modelStep, long created,
                                int n, int d, int[] labels, float[] embeddings) {
        int size = HEADER_BYTES + 4 * labels.length + 4 * embeddings.length + CRC_BYTES;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(magic.getBytes(StandardCharsets.US_ASCII), 0, 4);
        b.putShort((short) version).putShort((short) flags);
        b.putLong(batchId).putLong(modelStep).putLong(created);
        b.putInt(n).putInt(d);
        for (int label : labels) {
            b.putInt(label);
        }
        for (float f : embeddings) {
            b.putFloat(f);
        }
        return withCrc(b.array());
    }

    /** The record with its last four bytes set to the CRC-32C of all bytes before them. */
    public static byte[] withCrc(byte[] record) {
        byte[] r = record.clone();
        CRC32C crc = new CRC32C();
        crc.update(r, 0, r.length - CRC_BYTES);
        ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).putInt(r.length - CRC_BYTES, (int) crc.getValue());
        return r;
    }

    /** The record with one bit of its stored CRC flipped. */
    public static byte[] withBadCrc(byte[] record) {
        byte[] r = record.clone();
        r[r.length - 1] ^= 0x01;
        return r;
    }

    /** The first {@code length} bytes. */
    public static byte[] truncated(byte[] record, int length) {
        return Arrays.copyOf(record, length);
    }

    /** The embedding at {@code (row, column)} replaced by {@code value}, CRC recomputed. */
    public static byte[] withEmbedding(byte[] record, int row, int column, float value) {
        ByteBuffer b = ByteBuffer.wrap(record.clone()).order(ByteOrder.LITTLE_ENDIAN);
        int n = b.getInt(32);
        int d = b.getInt(36);
        b.putFloat(HEADER_BYTES + 4 * n + 4 * (row * d + column), value);
        return withCrc(b.array());
    }

    /** The created timestamp (ms) of a record. */
    public static long created(byte[] record) {
        return ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN).getLong(24);
    }

    /** Labels in pairs {@code (2i, 2i+1)} from {@code classes} classes. */
    public static int[] pairedLabels(RandomBatches random, int n, int classes) {
        return random.pairedLabels(n, classes, 0.0);
    }
}
