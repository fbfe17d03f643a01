package io.tripletflow.wire;

/**
 * A record that fails a check of wire format v1. It names the record, the field and the bound, so
 * the dead-letter entry explains itself, e.g.
 * {@code embedding batch 7 of stream 'trainer-1' (412 bytes): field 'rows' = 70000 exceeds the bound max-rows = 8192}.
 *
 * <p>Checked on purpose: invalid input is expected in a stream and must be routed, not crash the job.
 */
public final class InvalidRecordException extends Exception {
    private static final long serialVersionUID = 1L;

    private final InvalidRecordReason reason;
    private final String record;
    private final String field;
    private final String value;
    private final String bound;

    /**
     * @param relation how the value crossed the bound, e.g. "exceeds" or "differs from"
     */
    public InvalidRecordException(
            InvalidRecordReason reason, String record, String field, String value, String relation, String bound) {
        super(record + ": field '" + field + "' = " + value + " " + relation + " the bound " + bound);
        this.reason = reason;
        this.record = record;
        this.field = field;
        this.value = value;
        this.bound = bound;
    }

    public InvalidRecordReason reason() { return reason; }

    /** The record as far as it was understood, e.g. {@code embedding batch 7 of stream 'a' (412 bytes)}. */
    public String record() { return record; }

    /** The field in the spec's words: "magic", "rows", "record size", "crc", "embeddings", ... */
    public String field() { return field; }

    /** What the record held, e.g. {@code 70000} or {@code NaN at row 2, column 3}. */
    public String value() { return value; }

    /** The rule that was crossed, e.g. {@code max-rows = 8192}. */
    public String bound() { return bound; }
}
