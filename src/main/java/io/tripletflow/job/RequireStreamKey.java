package io.tripletflow.job;

import io.tripletflow.kafka.KafkaRecord;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Lets through the records that have a stream key (non-empty UTF-8), the one thing the job
 * needs before it can key by stream; the rest become dead letters ({@code missing-key},
 * {@code bad-key}).
 */
public final class RequireStreamKey extends ProcessFunction<KafkaRecord, KafkaRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(KafkaRecord record, Context ctx, Collector<KafkaRecord> out) {
        if (record.key == null || record.key.length == 0) {
            ctx.output(MiningFunction.DEAD_LETTERS, new DeadLetter(record, "missing-key",
                    describe(record) + ": field 'stream key' is missing (the Kafka record key must be the stream key)"));
            return;
        }
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(record.key));
        } catch (CharacterCodingException e) {
            ctx.output(MiningFunction.DEAD_LETTERS, new DeadLetter(record, "bad-key",
                    describe(record) + ": field 'stream key' is not valid UTF-8"));
            return;
        }
        out.collect(record);
    }

    private static String describe(KafkaRecord r) {
        return "record " + r.topic + "/" + r.partition + "@" + r.offset;
    }
}
