package io.tripletflow.bench;

import io.tripletflow.job.GradientRecord;
import io.tripletflow.job.KafkaRecord;
import io.tripletflow.wire.WireFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The ceiling of the pipeline: in place of mining, an answer of the size a gradient batch of the
 * same shape has ({@code 64 + 4ND} bytes), carrying the batch's id and model step, made without
 * decoding, mining or encoding. Same source, key-by, record types and sinks as the job.
 */
final class PassThroughAnswers extends KeyedProcessFunction<String, KafkaRecord, GradientRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(KafkaRecord record, Context ctx, Collector<GradientRecord> out) {
        ByteBuffer header = ByteBuffer.wrap(record.value).order(ByteOrder.LITTLE_ENDIAN);
        long batchId = header.getLong(8);
        long modelStep = header.getLong(16);
        long rows = header.getInt(32);
        long dimension = header.getInt(36);
        byte[] answer = Arrays.copyOf(record.value, (int) WireFormat.gradientRecordBytes(rows, dimension, false));
        out.collect(new GradientRecord(KafkaRecord.streamKeyOf(ctx.getCurrentKey()), batchId, modelStep, answer));
    }
}
