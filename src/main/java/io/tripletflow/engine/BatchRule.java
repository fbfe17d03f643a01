package io.tripletflow.engine;

import java.util.Locale;

/**
 * The rules of the mining step that a well-formed batch can still break; their codes are the
 * dead-letter reasons of the engine, beside the wire format's ({@code InvalidRecordReason}).
 */
public enum BatchRule {
    /** An embedding is NaN or infinite. */
    NON_FINITE_VALUE,
    /** {@code on-label-mismatch = reject} and a positive's label differs from its anchor's. */
    LABEL_MISMATCH,
    /** {@code reduction = seed} and the seed's count of terms is 0 (the Caffe layer divides by it). */
    EMPTY_SEED_COUNT;

    /** The stable code, e.g. {@code label-mismatch}, as in dead-letter headers and metrics. */
    public String code() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
