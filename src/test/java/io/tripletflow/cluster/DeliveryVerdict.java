package io.tripletflow.cluster;

import io.tripletflow.cluster.TrainerLoad.Batch;
import io.tripletflow.cluster.TrainerLoad.Sent;
import io.tripletflow.delivery.Deduplicator;
import io.tripletflow.testutils.OfflineEngine;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What the parameter servers got, per (stream key, batch id): each batch sent must be applied
 * exactly once, and every copy of its answer on the topic must be the offline engine's answer byte
 * for byte (with the job's {@code computed} timestamp). In the {@code idempotent} mode the
 * consumer applies through a {@link Deduplicator}; in {@code exactly-once} it applies every record
 * it reads with read_committed.
 */
final class DeliveryVerdict {
    /** Counts of one phase of a test (or all of it). */
    record Counts(String phase, int sent, int answered, int copies, int appliedTwice) {
        int lost() {
            return sent - answered;
        }

        int duplicates() {
            return copies - answered;
        }

        @Override
        public String toString() {
            return String.format("%-28s sent %5d  answered %5d  lost %3d  copies on the topic %5d  duplicates %4d"
                    + "  applied twice %d", phase, sent, answered, lost(), copies, duplicates(), appliedTwice);
        }
    }

    private final Map<Batch, Integer> copies = new HashMap<>();
    private final Map<Batch, Integer> applied = new HashMap<>();
    private final List<String> unknown = new ArrayList<>();
    private final List<String> wrongBytes = new ArrayList<>();
    private final Deduplicator deduplicator;
    private final int records;

    private DeliveryVerdict(List<Sent> sent, List<ConsumerRecord<byte[], byte[]>> topic, boolean deduplicate,
                            OfflineEngine engine) throws Exception {
        Map<Batch, Sent> byBatch = new HashMap<>();
        for (Sent s : sent) {
            byBatch.put(s.batch(), s);
        }
        this.deduplicator = deduplicate ? new Deduplicator() : null;
        this.records = topic.size();
        for (ConsumerRecord<byte[], byte[]> r : topic) {
            Batch b = AnswerCollector.batchOf(r);
            copies.merge(b, 1, Integer::sum);
            if (deduplicator == null || deduplicator.firstTime(b.key(), b.batchId())) {
                applied.merge(b, 1, Integer::sum);
            }
            Sent s = byBatch.get(b);
            if (s == null) {
                unknown.add(b + " at " + r.partition() + "/" + r.offset());
                continue;
            }
            byte[] expected = engine.answer(s.key().getBytes(StandardCharsets.UTF_8), s.value(), computedMillis(r.value()));
            if (!Arrays.equals(expected, r.value())) {
                wrongBytes.add(b + " at " + r.partition() + "/" + r.offset());
            }
        }
    }

    /**
     * Judges the records of a gradients topic ({@code topic}, per partition in offset order) against
     * the batches sent; {@code deduplicate} for the idempotent mode.
     */
    static DeliveryVerdict of(List<Sent> sent, List<ConsumerRecord<byte[], byte[]>> topic, boolean deduplicate,
                              OfflineEngine engine) throws Exception {
        return new DeliveryVerdict(sent, topic, deduplicate, engine);
    }

    /** The {@code computed} field (offset 32) of a gradient record. */
    static long computedMillis(byte[] gradientRecord) {
        return ByteBuffer.wrap(gradientRecord).order(ByteOrder.LITTLE_ENDIAN).getLong(32);
    }

    /** Counts over the batches of {@code sent}. */
    Counts counts(String phase, List<Sent> sent) {
        int answered = 0;
        int copiesOf = 0;
        int twice = 0;
        for (Sent s : sent) {
            int c = copies.getOrDefault(s.batch(), 0);
            answered += applied.getOrDefault(s.batch(), 0) > 0 ? 1 : 0;
            copiesOf += c;
            twice += applied.getOrDefault(s.batch(), 0) > 1 ? 1 : 0;
        }
        return new Counts(phase, sent.size(), answered, copiesOf, twice);
    }

    /**
     * Counts per phase: a batch belongs to the phase in which the broker acknowledged it;
     * {@code phaseStarts} maps each phase's name to its start ({@code System.nanoTime()}), in order.
     */
    List<Counts> perPhase(List<Sent> sent, LinkedHashMap<String, Long> phaseStarts) {
        List<String> names = new ArrayList<>(phaseStarts.keySet());
        List<Counts> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            long from = phaseStarts.get(names.get(i));
            long to = i + 1 < names.size() ? phaseStarts.get(names.get(i + 1)) : Long.MAX_VALUE;
            out.add(counts(names.get(i), sent.stream().filter(s -> s.ackNanos() >= from && s.ackNanos() < to).toList()));
        }
        return out;
    }

    /** Answers on the topic to batches that were never sent. */
    List<String> unknownAnswers() {
        return unknown;
    }

    /** Copies whose bytes differ from the offline engine's answer. */
    List<String> wrongBytes() {
        return wrongBytes;
    }

    /** Records on the topic. */
    int records() {
        return records;
    }

    /** Answers the deduplicator dropped (idempotent mode), or 0. */
    long dropped() {
        return deduplicator == null ? 0 : deduplicator.duplicates() + deduplicator.tooOld();
    }
}
