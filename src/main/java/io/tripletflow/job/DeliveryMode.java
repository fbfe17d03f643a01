package io.tripletflow.job;

import io.tripletflow.engine.MiningOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * How answers reach the parameter servers ({@code tripletflow.delivery-guarantee}). Every mode
 * keeps the job's own state exactly-once (checkpoints restored with the source offsets); they
 * differ in what the output topics hold and when. The trade-off is written out under "Delivery
 * modes" in {@code docs/configuration.md}.
 */
public enum DeliveryMode {
    /**
     * Answers are written as soon as they are computed; after a failure the batches since the last
     * checkpoint are mined again and their answers written again, byte for byte the same but for
     * {@code computed} (the answer is a pure function of the batch, the options and the restored
     * state). A consumer that applies each (stream key, batch id) once sees every batch exactly once.
     */
    IDEMPOTENT("idempotent", DeliveryGuarantee.AT_LEAST_ONCE),
    /** Kafka transactions committed at each checkpoint: no duplicates, answers wait for the checkpoint. */
    EXACTLY_ONCE("exactly-once", DeliveryGuarantee.EXACTLY_ONCE),
    /** As {@link #IDEMPOTENT}, without requiring that a replayed answer equals the first. */
    AT_LEAST_ONCE("at-least-once", DeliveryGuarantee.AT_LEAST_ONCE);

    private final String text;
    private final DeliveryGuarantee sinks;

    DeliveryMode(String text, DeliveryGuarantee sinks) {
        this.text = text;
        this.sinks = sinks;
    }

    /** The guarantee of the job's Kafka sinks in this mode. */
    public DeliveryGuarantee sinkGuarantee() {
        return sinks;
    }

    /**
     * Refuses mining options under which a replayed batch could be answered differently:
     * {@code rng = seed-compat} draws from one MT19937 stream per operator, so a replay gets the
     * draws of whatever came before it.
     *
     * @throws IllegalArgumentException naming the option and what to choose instead
     */
    public void checkReplayable(MiningOptions options) {
        if (this == IDEMPOTENT && options.rng() == MiningOptions.RngKind.SEED_COMPAT) {
            throw new IllegalArgumentException("delivery-guarantee idempotent needs rng counter: with rng seed-compat "
                    + "a batch replayed after a failure draws other random negatives, so its second answer would "
                    + "differ from the first; use --rng counter, or --delivery-guarantee exactly-once (or at-least-once)");
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
