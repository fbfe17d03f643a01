package io.tripletflow.job;

import io.tripletflow.wire.StreamKey;

import java.util.Arrays;

/**
 * A raw Kafka record as it travels through Flink: key and value bytes plus where it came from.
 *
 * <p>A Flink POJO (public fields, public no-arg constructor), so Flink serializes it with its
 * {@code PojoSerializer} rather than Kryo.
 *
 * <p>Do not {@code keyBy} the {@code byte[]} key itself: arrays have identity hash codes and Flink
 * rejects them as keys. Use {@link #keyAsString()} (lossless, ISO-8859-1) or a hash of it.
 */
public class KafkaRecord {

    public byte[] key;
    public byte[] value;
    public String topic;
    public int partition;
    public long offset;
    public long timestamp;

    public KafkaRecord() {
    }

    public KafkaRecord(byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {
        this.key = key;
        this.value = value;
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
    }

    /** The key in the form the job keys by ({@link StreamKey#keyedForm}). */
    public String keyAsString() {
        return StreamKey.keyedForm(key);
    }

    /** The stream key of a {@link #keyAsString()} value ({@link StreamKey#ofKeyedForm}). */
    public static String streamKeyOf(String keyAsString) {
        return StreamKey.ofKeyedForm(keyAsString);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof KafkaRecord r)) {
            return false;
        }
        return partition == r.partition && offset == r.offset && timestamp == r.timestamp
                && Arrays.equals(key, r.key) && Arrays.equals(value, r.value)
                && java.util.Objects.equals(topic, r.topic);
    }

    @Override
    public int hashCode() {
        int h = java.util.Objects.hash(topic, partition, offset, timestamp);
        h = 31 * h + Arrays.hashCode(key);
        return 31 * h + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "KafkaRecord{" + topic + "-" + partition + "@" + offset
                + ", key=" + (key == null ? "null" : key.length + "B")
                + ", value=" + (value == null ? "null" : value.length + "B") + "}";
    }
}
