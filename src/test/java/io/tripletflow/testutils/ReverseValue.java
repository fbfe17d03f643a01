package io.tripletflow.testutils;

import io.tripletflow.job.KafkaRecord;
import org.apache.flink.api.common.functions.MapFunction;

/** A visible transformation for pipeline tests: the record with its value bytes reversed. */
public final class ReverseValue implements MapFunction<KafkaRecord, KafkaRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public KafkaRecord map(KafkaRecord r) {
        return new KafkaRecord(r.key, reverse(r.value), r.topic, r.partition, r.offset, r.timestamp);
    }

    public static byte[] reverse(byte[] b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[b.length - 1 - i];
        }
        return out;
    }
}
