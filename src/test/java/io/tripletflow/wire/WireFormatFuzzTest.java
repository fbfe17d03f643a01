package io.tripletflow.wire;

import static io.tripletflow.wire.InvalidRecordReason.DIMENSION_OUT_OF_BOUNDS;
import static io.tripletflow.wire.InvalidRecordReason.ROWS_OUT_OF_BOUNDS;
import static io.tripletflow.wire.InvalidRecordReason.SIZE_MISMATCH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random damage to valid records of both kinds: a decode either returns a batch that encodes back
 * to exactly the damaged bytes, or throws {@link InvalidRecordException}; nothing else, ever.
 */
@Timeout(30)
class WireFormatFuzzTest {
    private static final long SEED = 0x7F1E_2024_0001L;
    private static final int ROUNDS = 20_000;
    private static final int[] INTERESTING_INTS = {
        0, 1, 2, -1, 7, 255, 65535, 65536, 65537, 1 << 20, 1 << 30, Integer.MAX_VALUE, Integer.MIN_VALUE,
    };
    private static final float[] NON_FINITE = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    private record Mutation(String name, BiFunction<Random, byte[], byte[]> apply) {
    }

    private static List<Mutation> mutations(RecordKindFixture kind) {
        List<Mutation> all = new ArrayList<>();
        all.add(new Mutation("bit flips", (r, b) -> {
            for (int i = 1 + r.nextInt(4); i > 0; i--) {
                b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            }
            return b;
        }));
        all.add(new Mutation("byte overwrite", (r, b) -> {
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            return b;
        }));
        all.add(new Mutation("truncation", (r, b) -> Arrays.copyOf(b, r.nextInt(b.length))));
        all.add(new Mutation("extension", (r, b) -> {
            byte[] longer = Arrays.copyOf(b, b.length + 1 + r.nextInt(16));
            for (int i = b.length; i < longer.length; i++) {
                longer[i] = (byte) r.nextInt(256);
            }
            return longer;
        }));
        all.add(new Mutation("header int overwrite", (r, b) -> {
            RecordBytes.putI32(b, 4 * r.nextInt(kind.headerBytes / 4), anyInt(r));
            return b;
        }));
        all.add(new Mutation("rows or dimension overwrite, resealed", (r, b) -> {
            RecordBytes.putI32(b, r.nextBoolean() ? kind.rowsOffset : kind.dimensionOffset, anyInt(r));
            return RecordBytes.reseal(b);
        }));
        all.add(new Mutation("byte overwrite, resealed", (r, b) -> {
            b[r.nextInt(b.length - 4)] = (byte) r.nextInt(256);
            return RecordBytes.reseal(b);
        }));
        all.add(new Mutation("non-finite float, resealed", (r, b) -> {
            int[] floats = kind.floatOffsets(b);
            if (floats.length == 0) {
                return b;
            }
            RecordBytes.putF32(b, floats[r.nextInt(floats.length)], NON_FINITE[r.nextInt(NON_FINITE.length)]);
            return RecordBytes.reseal(b);
        }));
        all.add(new Mutation("truncation, resealed", (r, b) -> {
            byte[] shorter = Arrays.copyOf(b, 4 + r.nextInt(b.length - 4));
            return RecordBytes.reseal(shorter);
        }));
        all.add(new Mutation("other kind's magic, resealed", (r, b) -> {
            System.arraycopy(kind.other().magic.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, b, 0, 4);
            return RecordBytes.reseal(b);
        }));
        return all;
    }

    private static int anyInt(Random random) {
        return random.nextBoolean() ? INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)] : random.nextInt();
    }

    @Test
    void damagedRecordsDecodeFaithfullyOrFailAsInvalid() {
        Random random = new Random(SEED);
        Map<InvalidRecordReason, Integer> reasons = new EnumMap<>(InvalidRecordReason.class);
        int decoded = 0;
        for (int round = 0; round < ROUNDS; round++) {
            RecordKindFixture kind = RecordKindFixture.values()[random.nextInt(2)];
            byte[] valid = kind.validRecord(random, random.nextInt(9), 1 + random.nextInt(12));
            List<Mutation> mutations = mutations(kind);
            Mutation mutation = mutations.get(random.nextInt(mutations.size()));
            byte[] damaged = mutation.apply().apply(random, valid.clone());
            try {
                Object batch = kind.decode(WireBounds.DEFAULT, RecordKindFixture.STREAM_KEY, damaged);
                assertThat(kind.encode(batch)).as("round %d, %s: a decoded record re-encodes to its bytes",
                        round, mutation.name()).isEqualTo(damaged);
                decoded++;
            } catch (InvalidRecordException e) {
                assertThat(e.getMessage()).contains("field '" + e.field() + "'").endsWith(e.bound());
                reasons.merge(e.reason(), 1, Integer::sum);
            } catch (Throwable t) {
                fail("round %d of seed %d, %s, %s: %s instead of InvalidRecordException for %s", round, SEED,
                        kind, mutation.name(), t, HexFormat.of().formatHex(damaged, 0, Math.min(80, damaged.length)));
            }
        }

        assertThat(decoded).as("some damage is harmless, e.g. a resealed label").isPositive();
        assertThat(reasons).as("the fuzzer reaches every check of the value")
                .containsKeys(InvalidRecordReason.TRUNCATED, InvalidRecordReason.BAD_MAGIC,
                        InvalidRecordReason.UNKNOWN_VERSION, InvalidRecordReason.BAD_FLAGS, ROWS_OUT_OF_BOUNDS,
                        DIMENSION_OUT_OF_BOUNDS, SIZE_MISMATCH, InvalidRecordReason.BAD_CRC,
                        InvalidRecordReason.NON_FINITE_VALUE);
    }

    @Test
    void randomKeysDecodeOrFailAsInvalid() {
        Random random = new Random(SEED + 1);
        int badKeys = 0;
        for (int round = 0; round < 2_000; round++) {
            RecordKindFixture kind = RecordKindFixture.values()[random.nextInt(2)];
            byte[] key = new byte[random.nextInt(6)];
            random.nextBytes(key);
            try {
                Object batch = kind.decode(WireBounds.DEFAULT, key, kind.validRecord(random, 2, 2));
                assertThat(batch).extracting("streamKey").asString().isNotEmpty();
            } catch (InvalidRecordException e) {
                assertThat(e.reason()).isIn(InvalidRecordReason.MISSING_KEY, InvalidRecordReason.BAD_KEY);
                badKeys++;
            }
        }
        assertThat(badKeys).isPositive();
    }

    /**
     * Headers that claim gigabytes must fail on sizes before any array is made. With -Xmx3g a single
     * premature {@code new float[N*D]} would already throw OutOfMemoryError; the allocation counter
     * shows the decoder stays within a few kilobytes per record instead.
     */
    @Test
    void hugeClaimsFailOnSizeBeforeAnythingIsAllocated() {
        int[][] claims = {
            {1 << 30, 1 << 30}, {65536, 65536}, {1 << 30, 1}, {1, 1 << 30}, {65536, 1}, {1 << 20, 1 << 10},
            {Integer.MAX_VALUE, Integer.MAX_VALUE}, {-1, 1 << 30}, {1 << 30, Integer.MIN_VALUE},
        };
        WireBounds widest = new WireBounds(1 << 30, 1 << 30, WireBounds.MAX_RECORD_BYTES_LIMIT);
        Random random = new Random(SEED + 2);
        List<byte[]> records = new ArrayList<>();
        List<RecordKindFixture> kinds = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            RecordKindFixture kind = RecordKindFixture.values()[i % 2];
            byte[] record = kind.validRecord(random, random.nextInt(6), 1 + random.nextInt(6));
            int[] claim = claims[i % claims.length];
            RecordBytes.putI32(record, kind.rowsOffset, claim[0]);
            RecordBytes.putI32(record, kind.dimensionOffset, claim[1]);
            records.add(random.nextBoolean() ? RecordBytes.reseal(record) : record);
            kinds.add(kind);
        }
        AllocationMeter meter = AllocationMeter.forThisThread();

        long most = 0;
        for (int i = 0; i < records.size(); i++) {
            for (WireBounds bounds : new WireBounds[] {WireBounds.DEFAULT, widest}) {
                long before = meter.allocatedBytes();
                InvalidRecordReason reason = reasonOf(kinds.get(i), bounds, records.get(i));
                most = Math.max(most, meter.allocatedBytes() - before);
                assertThat(reason).as("record %d, N = %d, D = %d", i, kinds.get(i).rows(records.get(i)),
                        kinds.get(i).dimension(records.get(i)))
                        .isIn(ROWS_OUT_OF_BOUNDS, DIMENSION_OUT_OF_BOUNDS, SIZE_MISMATCH);
            }
        }

        if (meter.works()) {
            assertThat(most).as("bytes allocated by the worst single decode").isLessThan(64 * 1024);
        }
    }

    private static InvalidRecordReason reasonOf(RecordKindFixture kind, WireBounds bounds, byte[] record) {
        try {
            kind.decode(bounds, RecordKindFixture.STREAM_KEY, record);
            return null;
        } catch (InvalidRecordException e) {
            return e.reason();
        }
    }

    /** HotSpot's per-thread allocation counter, where the JVM offers it. */
    private static final class AllocationMeter {
        private final com.sun.management.ThreadMXBean threads;

        private AllocationMeter(com.sun.management.ThreadMXBean threads) {
            this.threads = threads;
        }

        static AllocationMeter forThisThread() {
            if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean hotspot
                    && hotspot.isThreadAllocatedMemorySupported()) {
                hotspot.setThreadAllocatedMemoryEnabled(true);
                return new AllocationMeter(hotspot);
            }
            return new AllocationMeter(null);
        }

        boolean works() {
            return threads != null;
        }

        long allocatedBytes() {
            return threads == null ? 0 : threads.getThreadAllocatedBytes(Thread.currentThread().getId());
        }
    }
}
