package io.tripletflow.job;

/** What happens to a stale batch ({@code tripletflow.on-stale}); either way it is counted. */
public enum OnStale {
    ANSWER("answer"),
    DROP("drop");

    private final String text;

    OnStale(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }
}
