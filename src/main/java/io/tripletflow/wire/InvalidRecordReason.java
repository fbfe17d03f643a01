package io.tripletflow.wire;

/** Why a record was rejected, for dead-letter headers and counters. */
public enum InvalidRecordReason {
    /** Shorter than the header and CRC, or no value at all. */
    TRUNCATED,
    /** Longer than the configured max-record-bytes. */
    RECORD_TOO_LARGE,
    /** No Kafka key, or an empty one. */
    MISSING_KEY,
    /** A Kafka key that is not valid UTF-8. */
    BAD_KEY,
    BAD_MAGIC,
    UNKNOWN_VERSION,
    /** Flag bits that the version does not define. */
    BAD_FLAGS,
    /** N negative or above max-rows. */
    ROWS_OUT_OF_BOUNDS,
    /** D negative or above max-dimension. */
    DIMENSION_OUT_OF_BOUNDS,
    /** The length differs from what N, D and the flags imply. */
    SIZE_MISMATCH,
    BAD_CRC,
    /** NaN or infinity in embeddings, gradients or loss. */
    NON_FINITE_VALUE;

    /** Lower-case, dash-separated form for Kafka headers and metric names, e.g. {@code bad-crc}. */
    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
