package io.tripletflow.engine;

/**
 * A batch the mining step cannot answer: it names the batch, the field and the rule or bound it
 * breaks. The streaming job sends such batches to the dead-letter topic with {@link #reason()}.
 */
public final class InvalidBatchException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String reason;

    /**
     * @param reason a stable, machine-readable code such as {@code label-mismatch}
     */
    public InvalidBatchException(String batch, String field, String reason, String detail) {
        super(batch + ": field '" + field + "': " + detail);
        this.field = field;
        this.reason = reason;
    }

    public String field() {
        return field;
    }

    public String reason() {
        return reason;
    }
}
