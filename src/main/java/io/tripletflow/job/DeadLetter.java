package io.tripletflow.job;


/**
 * An invalid input record, key and value unchanged, with why it was refused and where it came
 * from (a Flink POJO).
 */
public class DeadLetter {
    public byte[] key;
    public byte[] value;
    /** A stable code such as {@code bad-crc} or {@code label-mismatch}. */
    public String reason;
    /** The full message: record, field and bound. */
    public String detail;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;

    public DeadLetter() {}

    public DeadLetter(KafkaRecord record, String reason, String detail) {
        this.key = record.key;
        this.value = record.value;
        this.reason = reason;
        this.detail = detail;
        this.sourceTopic = record.topic;
        this.sourcePartition = record.partition;
        this.sourceOffset = record.offset;
    }
}
