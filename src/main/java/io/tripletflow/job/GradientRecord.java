package io.tripletflow.job;

/** An encoded gradient batch on its way to a parameter-server topic (a Flink POJO). */
public class GradientRecord {
    public String streamKey;
    public long batchId;
    public long modelStep;
    /** Wire format v1 gradient batch. */
    public byte[] value;

    public GradientRecord() {}

    public GradientRecord(String streamKey, long batchId, long modelStep, byte[] value) {
        this.streamKey = streamKey;
        this.batchId = batchId;
        this.modelStep = modelStep;
        this.value = value;
    }
}
