package io.tripletflow.wire;

import java.io.Serializable;

/**
 * The largest records a decoder accepts. Every size is checked against these bounds and the record
 * length before anything is allocated, so a hostile header cannot make the job allocate gigabytes.
 *
 * <pre>{@code
 * WireBounds bounds = WireBounds.DEFAULT.withMaxRows(4096).withMaxRecordBytes(64 << 20);
 * }</pre>
 *
 * @param maxRows        largest N, 1 .. 2^30
 * @param maxDimension   largest D, 1 .. 2^30
 * @param maxRecordBytes largest record, 64 .. {@link #MAX_RECORD_BYTES_LIMIT}
 */
public record WireBounds(int maxRows, int maxDimension, int maxRecordBytes) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Keeps every size computation (4ND plus an N x N mask) inside a long. */
    public static final int MAX_ROWS_OR_DIMENSION_LIMIT = 1 << 30;
    /** The largest Java byte array a JVM reliably allocates. */
    public static final int MAX_RECORD_BYTES_LIMIT = Integer.MAX_VALUE - 8;
    /** The smallest bound that still admits an empty gradient batch, the larger of the two headers. */
    public static final int MIN_RECORD_BYTES_LIMIT = WireFormat.GRADIENT_HEADER_BYTES + WireFormat.CRC_BYTES;

    /**
     * N up to 8192, D up to 4096, records up to 64 MiB: the job's defaults
     * ({@code tripletflow.max-rows}, {@code max-dimension}, {@code max-record-bytes}), so that a
     * trainer's encoder, {@code bin/tripletflow compute} and the job accept the same batches.
     */
    public static final WireBounds DEFAULT = new WireBounds(8192, 4096, 64 << 20);

    public WireBounds {
        requireWithin("max-rows", maxRows, 1, MAX_ROWS_OR_DIMENSION_LIMIT);
        requireWithin("max-dimension", maxDimension, 1, MAX_ROWS_OR_DIMENSION_LIMIT);
        requireWithin("max-record-bytes", maxRecordBytes, MIN_RECORD_BYTES_LIMIT, MAX_RECORD_BYTES_LIMIT);
    }

    public WireBounds withMaxRows(int rows) {
        return new WireBounds(rows, maxDimension, maxRecordBytes);
    }

    public WireBounds withMaxDimension(int dimension) {
        return new WireBounds(maxRows, dimension, maxRecordBytes);
    }

    public WireBounds withMaxRecordBytes(int bytes) {
        return new WireBounds(maxRows, maxDimension, bytes);
    }

    private static void requireWithin(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(
                    "wire bound " + name + " = " + value + " is outside " + min + " .. " + max);
        }
    }
}
