package io.tripletflow.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Asserts that a decode was rejected for one reason, with a message naming field and bound. */
final class Rejections {
    private Rejections() {
    }

    static InvalidRecordException assertRejected(
            ThrowingCallable decode, InvalidRecordReason reason, String field, String bound) {
        Throwable thrown = catchThrowable(decode);
        assertThat(thrown).isInstanceOf(InvalidRecordException.class);
        InvalidRecordException e = (InvalidRecordException) thrown;
        assertThat(e.reason()).as("reason of: %s", e.getMessage()).isEqualTo(reason);
        assertThat(e.field()).isEqualTo(field);
        assertThat(e.bound()).contains(bound);
        assertThat(e.getMessage())
                .startsWith(e.record() + ": field '" + field + "' = " + e.value() + " ")
                .endsWith(" the bound " + e.bound());
        return e;
    }
}
