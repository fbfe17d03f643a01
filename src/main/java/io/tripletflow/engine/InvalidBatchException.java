package io.tripletflow.engine;

/**
 * A batch the mining step cannot answer: it names the batch, the field and the rule or bound it
 * breaks. The streaming job sends such batches to the dead-letter topic with {@link #reason()}.
 */
public final class InvalidBatchException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final BatchRule rule;

    public InvalidBatchException(String batch, String field, BatchRule rule, String detail) {
        super(batch + ": field '" + field + "': " + detail);
        this.field = field;
        this.rule = rule;
    }

    public String field() {
        return field;
    }

    /** The stable code of the broken rule, e.g. {@code label-mismatch}. */
    public String reason() {
        return rule.code();
    }
}
