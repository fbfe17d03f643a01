package io.tripletflow.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.testutils.KafkaRecordSerializer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class KafkaRecordTest {

    @Test
    void isAFlinkPojo() {
        assertThat(TypeInformation.of(KafkaRecord.class)).isInstanceOf(PojoTypeInfo.class);
        assertThat(new KafkaRecordDeserializer().getProducedType()).isInstanceOf(PojoTypeInfo.class);
    }

    @Test
    void deserializerKeepsCoordinatesAndSerializerWritesKeyAndValue() {
        byte[] key = {(byte) 0xff, 0, 1};
        byte[] value = "v".getBytes(StandardCharsets.UTF_8);
        List<KafkaRecord> out = new ArrayList<>();
        new KafkaRecordDeserializer().deserialize(new ConsumerRecord<>("t", 3, 42L, key, value), new Collector<>() {
            @Override
            public void collect(KafkaRecord r) {
                out.add(r);
            }

            @Override
            public void close() {
            }
        });
        assertThat(out).hasSize(1);
        KafkaRecord r = out.get(0);
        assertThat(r.topic).isEqualTo("t");
        assertThat(r.partition).isEqualTo(3);
        assertThat(r.offset).isEqualTo(42L);
        assertThat(r.key).isEqualTo(key);
        assertThat(r.value).isEqualTo(value);
        // ISO-8859-1: one char per byte, lossless
        assertThat(r.keyAsString().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(key);

        ProducerRecord<byte[], byte[]> pr = new KafkaRecordSerializer("out").serialize(r, null, 7L);
        assertThat(pr.topic()).isEqualTo("out");
        assertThat(pr.partition()).isNull();
        assertThat(pr.timestamp()).isEqualTo(7L);
        assertThat(pr.key()).isEqualTo(key);
        assertThat(pr.value()).isEqualTo(value);
    }
}
