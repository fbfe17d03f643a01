package io.tripletflow.job;

import io.tripletflow.wire.GradientsTopic;
import io.tripletflow.wire.InvalidRecordReason;
import io.tripletflow.wire.StreamKey;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Lets through the records that have a stream key (non-empty UTF-8), the one thing the job
 * needs before it can key by stream; the rest become dead letters ({@code missing-key},
 * {@code bad-key}), counted in {@code tripletflow.deadLetters} of this operator. With a gradients
 * topic template ({@code gradients.{key}}) a key that cannot be part of a Kafka topic name is a
 * {@code bad-key} dead letter too: its answer could never be written, and the failing write would
 * fail the job over and over.
 */
public final class RequireStreamKey extends ProcessFunction<KafkaRecord, KafkaRecord> {
    private static final long serialVersionUID = 1L;

    private final GradientsTopic gradients;
    private transient Counter deadLetters;

    /** @param gradientsTopic the gradients topic (template); keys are checked against it if it contains {@code {key}} */
    public RequireStreamKey(GradientsTopic gradientsTopic) {
        this.gradients = gradientsTopic;
    }

    @Override
    public void open(OpenContext context) {
        deadLetters = getRuntimeContext().getMetricGroup().addGroup(MiningMetrics.GROUP).counter("deadLetters");
    }

    @Override
    public void processElement(KafkaRecord record, Context ctx, Collector<KafkaRecord> out) {
        if (record.key == null || record.key.length == 0) {
            ctx.output(MiningFunction.DEAD_LETTERS, new DeadLetter(record, InvalidRecordReason.MISSING_KEY.code(),
                    describe(record) + ": field 'stream key' is missing (the Kafka record key must be the stream key)"));
            deadLetters.inc();
            return;
        }
        String streamKey = StreamKey.decode(record.key);
        if (streamKey == null) {
            ctx.output(MiningFunction.DEAD_LETTERS, new DeadLetter(record, InvalidRecordReason.BAD_KEY.code(),
                    describe(record) + ": field 'stream key' is not valid UTF-8"));
            deadLetters.inc();
            return;
        }
        String illegal = gradients.illegalFor(streamKey);
        if (illegal != null) {
            ctx.output(MiningFunction.DEAD_LETTERS, new DeadLetter(record, InvalidRecordReason.BAD_KEY.code(),
                    describe(record) + ": field 'stream key' " + illegal));
            deadLetters.inc();
            return;
        }
        out.collect(record);
    }

    private static String describe(KafkaRecord r) {
        return "record " + r.topic + "/" + r.partition + "@" + r.offset;
    }
}
