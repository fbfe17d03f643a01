package io.tripletflow.wire;

import static io.tripletflow.wire.InvalidRecordReason.BAD_CRC;
import static io.tripletflow.wire.InvalidRecordReason.BAD_FLAGS;
import static io.tripletflow.wire.InvalidRecordReason.BAD_KEY;
import static io.tripletflow.wire.InvalidRecordReason.BAD_MAGIC;
import static io.tripletflow.wire.InvalidRecordReason.DIMENSION_OUT_OF_BOUNDS;
import static io.tripletflow.wire.InvalidRecordReason.MISSING_KEY;
import static io.tripletflow.wire.InvalidRecordReason.NON_FINITE_VALUE;
import static io.tripletflow.wire.InvalidRecordReason.RECORD_TOO_LARGE;
import static io.tripletflow.wire.InvalidRecordReason.ROWS_OUT_OF_BOUNDS;
import static io.tripletflow.wire.InvalidRecordReason.SIZE_MISMATCH;
import static io.tripletflow.wire.InvalidRecordReason.TRUNCATED;
import static io.tripletflow.wire.InvalidRecordReason.UNKNOWN_VERSION;
import static io.tripletflow.wire.Rejections.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The checks both record kinds share, in the order docs/wire-format.md lists them. */
class RecordChecksTest {
    private static final String KEY = RecordKindFixture.STREAM_KEY;
    private static final WireBounds BOUNDS = WireBounds.DEFAULT;

    private static byte[] valid(RecordKindFixture kind) {
        return kind.validRecord(new Random(7), 3, 4);
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsMissingAndShortValues(RecordKindFixture kind) {
        String minimum = "min-record-bytes = " + kind.minimumRecordBytes();
        byte[] shortest = RecordBytes.withLength(valid(kind), kind.minimumRecordBytes() - 1);

        assertRejected(() -> kind.decode(BOUNDS, KEY, null), TRUNCATED, "record size", minimum);
        assertRejected(() -> kind.decode(BOUNDS, KEY, new byte[0]), TRUNCATED, "record size", minimum);
        InvalidRecordException e = assertRejected(() -> kind.decode(BOUNDS, KEY, shortest), TRUNCATED,
                "record size", minimum);
        assertThat(e.getMessage()).startsWith(kind.label + " (" + shortest.length + " bytes): ");
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsRecordsAboveMaxRecordBytesBeforeLookingInside(RecordKindFixture kind) {
        byte[] record = valid(kind);
        WireBounds tight = BOUNDS.withMaxRecordBytes(record.length - 1);
        record[0] = 'X';

        InvalidRecordException e = assertRejected(() -> kind.decode(tight, KEY, record), RECORD_TOO_LARGE,
                "record size", "max-record-bytes = " + (record.length - 1));
        assertThat(e.value()).isEqualTo(record.length + " bytes");
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsMissingOrMalformedKeys(RecordKindFixture kind) {
        byte[] record = valid(kind);
        String required = "non-empty UTF-8 stream key";

        assertRejected(() -> kind.decode(BOUNDS, (String) null, record), MISSING_KEY, "stream key", required);
        assertRejected(() -> kind.decode(BOUNDS, "", record), MISSING_KEY, "stream key", required);
        assertRejected(() -> kind.decode(BOUNDS, (byte[]) null, record), MISSING_KEY, "stream key", required);
        assertRejected(() -> kind.decode(BOUNDS, new byte[0], record), MISSING_KEY, "stream key", required);
        assertRejected(() -> kind.decode(BOUNDS, new byte[] {(byte) 0xC3, 0x28}, record), BAD_KEY, "stream key",
                required);
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void acceptsTheKeyAsUtf8Bytes(RecordKindFixture kind) throws InvalidRecordException {
        String key = "trainer-\u00fc-\u6a21\u578b";

        Object batch = kind.decode(BOUNDS, key.getBytes(StandardCharsets.UTF_8), valid(kind));

        assertThat(batch).extracting("streamKey").isEqualTo(key);
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsTheOtherKindsMagic(RecordKindFixture kind) {
        byte[] other = kind.other().validRecord(new Random(7), 3, 4);

        InvalidRecordException e = assertRejected(() -> kind.decode(BOUNDS, KEY, other), BAD_MAGIC, "magic",
                "magic = '" + kind.magic + "'");
        assertThat(e.value()).startsWith("'" + kind.other().magic + "'");
        assertThat(e.record()).as("no batch id before the magic is known")
                .isEqualTo(kind.label + " of stream '" + KEY + "' (" + other.length + " bytes)");
    }

    @ParameterizedTest
    @MethodSource("kindsAndUnknownVersions")
    void rejectsUnknownVersions(RecordKindFixture kind, int version) {
        byte[] record = valid(kind);
        RecordBytes.putU16(record, 4, version);

        InvalidRecordException e = assertRejected(() -> kind.decode(BOUNDS, KEY, record), UNKNOWN_VERSION,
                "version", "supported version = 1");
        assertThat(e.value()).isEqualTo(Integer.toString(version));
    }

    static Stream<Arguments> kindsAndUnknownVersions() {
        return Stream.of(RecordKindFixture.values())
                .flatMap(kind -> Stream.of(0, 2, 0x0100, 0xFFFF).map(v -> Arguments.of(kind, v)));
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsUndefinedFlags(RecordKindFixture kind) {
        byte[] record = valid(kind);
        RecordBytes.putU16(record, 6, RecordBytes.u16(record, 6) | kind.undefinedFlag | 0x8000);
        String allowed = kind == RecordKindFixture.EMBEDDING_BATCH ? "0x0000" : "0x0001";

        assertRejected(() -> kind.decode(BOUNDS, KEY, record), BAD_FLAGS, "flags", "allowed-flags = " + allowed);
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsRowsOutsideTheBounds(RecordKindFixture kind) {
        byte[] record = valid(kind);
        long batchId = RecordBytes.i64(record, 8);

        RecordBytes.putI32(record, kind.rowsOffset, BOUNDS.maxRows() + 1);
        InvalidRecordException above = assertRejected(() -> kind.decode(BOUNDS, KEY, record), ROWS_OUT_OF_BOUNDS,
                "rows", "max-rows = " + BOUNDS.maxRows());
        RecordBytes.putI32(record, kind.rowsOffset, -1);
        assertRejected(() -> kind.decode(BOUNDS, KEY, record), ROWS_OUT_OF_BOUNDS, "rows", "min-rows = 0");
        RecordBytes.putI32(record, kind.rowsOffset, Integer.MIN_VALUE);
        assertRejected(() -> kind.decode(BOUNDS, KEY, record), ROWS_OUT_OF_BOUNDS, "rows", "min-rows = 0");

        assertThat(above.getMessage()).isEqualTo(kind.label + " " + batchId + " of stream '" + KEY + "' ("
                + record.length + " bytes): field 'rows' = " + (BOUNDS.maxRows() + 1)
                + " exceeds the bound max-rows = " + BOUNDS.maxRows());
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsDimensionsOutsideTheBounds(RecordKindFixture kind) {
        byte[] record = valid(kind);

        RecordBytes.putI32(record, kind.dimensionOffset, Integer.MAX_VALUE);
        assertRejected(() -> kind.decode(BOUNDS, KEY, record), DIMENSION_OUT_OF_BOUNDS, "dimension",
                "max-dimension = " + BOUNDS.maxDimension());
        RecordBytes.putI32(record, kind.dimensionOffset, -7);
        assertRejected(() -> kind.decode(BOUNDS, KEY, record), DIMENSION_OUT_OF_BOUNDS, "dimension",
                "min-dimension = 0");
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsLengthsOtherThanTheExactSize(RecordKindFixture kind) {
        byte[] record = valid(kind);
        byte[] longer = RecordBytes.withLength(record, record.length + 1);
        byte[] shorter = RecordBytes.withLength(record, record.length - 1);
        byte[] moreRows = record.clone();
        RecordBytes.putI32(moreRows, kind.rowsOffset, 4);

        InvalidRecordException e = assertRejected(() -> kind.decode(BOUNDS, KEY, longer), SIZE_MISMATCH,
                "record size", " = " + record.length + " bytes for N = 3, D = 4");
        assertThat(e.value()).isEqualTo(longer.length + " bytes");
        assertRejected(() -> kind.decode(BOUNDS, KEY, shorter), SIZE_MISMATCH, "record size", "for N = 3, D = 4");
        assertRejected(() -> kind.decode(BOUNDS, KEY, moreRows), SIZE_MISMATCH, "record size", "for N = 4, D = 4");
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void rejectsCorruptedBytesByCrc(RecordKindFixture kind) {
        byte[] record = valid(kind);
        int crc = RecordBytes.storedCrc(record);
        byte[] body = record.clone();
        body[record.length / 2] ^= 0x10;
        byte[] trailer = record.clone();
        trailer[record.length - 1] ^= 0x01;

        InvalidRecordException e = assertRejected(() -> kind.decode(BOUNDS, KEY, body), BAD_CRC, "crc",
                "CRC-32C of bytes 0.." + (record.length - 5) + " = 0x");
        assertThat(e.value()).isEqualTo(String.format("0x%08x", crc));
        assertRejected(() -> kind.decode(BOUNDS, KEY, trailer), BAD_CRC, "crc",
                String.format("= 0x%08x", crc));
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void abbreviatesLongKeysInMessages(RecordKindFixture kind) {
        byte[] record = valid(kind);
        record[0] = 'X';
        String key = "k".repeat(500);

        InvalidRecordException e = assertRejected(() -> kind.decode(BOUNDS, key, record), BAD_MAGIC, "magic",
                "magic = ");
        assertThat(e.record()).contains("'" + "k".repeat(61) + "...'").hasSizeLessThan(120);
    }

    /** One way to break a record per check, listed in the documented order of the checks. */
    private record Breakage(InvalidRecordReason reason, Consumer<Attempt> breakIt) {
    }

    private static final class Attempt {
        WireBounds bounds = BOUNDS;
        String key = KEY;
        byte[] value;
    }

    private static List<Breakage> breakagesInCheckOrder(RecordKindFixture kind) {
        List<Breakage> all = new ArrayList<>();
        all.add(new Breakage(RECORD_TOO_LARGE,
                a -> a.bounds = a.bounds.withMaxRecordBytes(Math.max(a.value.length - 1, 64))));
        all.add(new Breakage(MISSING_KEY, a -> a.key = null));
        all.add(new Breakage(BAD_MAGIC, a -> a.value[1] = '?'));
        all.add(new Breakage(UNKNOWN_VERSION, a -> RecordBytes.putU16(a.value, 4, 2)));
        all.add(new Breakage(BAD_FLAGS, a -> RecordBytes.putU16(a.value, 6, kind.undefinedFlag)));
        all.add(new Breakage(ROWS_OUT_OF_BOUNDS, a -> RecordBytes.putI32(a.value, kind.rowsOffset, -1)));
        all.add(new Breakage(DIMENSION_OUT_OF_BOUNDS, a -> RecordBytes.putI32(a.value, kind.dimensionOffset, -1)));
        all.add(new Breakage(SIZE_MISMATCH, a -> a.value = RecordBytes.withLength(a.value, a.value.length + 1)));
        all.add(new Breakage(BAD_CRC, a -> a.value[a.value.length - 1] ^= 0x40));
        all.add(new Breakage(NON_FINITE_VALUE, a -> {
            int[] floats = kind.floatOffsets(a.value);
            RecordBytes.putF32(a.value, floats[floats.length - 1], Float.NaN);
            RecordBytes.reseal(a.value);
        }));
        return all;
    }

    static Stream<Arguments> kindsAndAdjacentChecks() {
        return Stream.of(RecordKindFixture.values())
                .flatMap(kind -> Stream.iterate(0, i -> i < breakagesInCheckOrder(kind).size() - 1, i -> i + 1)
                        .map(i -> Arguments.of(kind, i)));
    }

    @ParameterizedTest
    @MethodSource("kindsAndAdjacentChecks")
    void reportsTheEarlierOfTwoFailingChecks(RecordKindFixture kind, int earlier) {
        List<Breakage> breakages = breakagesInCheckOrder(kind);
        Attempt attempt = new Attempt();
        attempt.value = valid(kind);
        breakages.get(earlier + 1).breakIt().accept(attempt);
        breakages.get(earlier).breakIt().accept(attempt);

        assertThat(reasonOf(kind, attempt)).isEqualTo(breakages.get(earlier).reason());
    }

    @ParameterizedTest
    @EnumSource(RecordKindFixture.class)
    void eachBreakageAloneIsReportedAsItsReason(RecordKindFixture kind) {
        for (Breakage breakage : breakagesInCheckOrder(kind)) {
            Attempt attempt = new Attempt();
            attempt.value = valid(kind);
            breakage.breakIt().accept(attempt);

            assertThat(reasonOf(kind, attempt)).isEqualTo(breakage.reason());
        }
    }

    private static InvalidRecordReason reasonOf(RecordKindFixture kind, Attempt attempt) {
        try {
            kind.decode(attempt.bounds, attempt.key, attempt.value);
            return null;
        } catch (InvalidRecordException e) {
            return e.reason();
        }
    }

    @ParameterizedTest
    @EnumSource(InvalidRecordReason.class)
    void reasonCodesAreDashedLowerCase(InvalidRecordReason reason) {
        assertThat(reason.code()).matches("[a-z]+(-[a-z0-9]+)*")
                .isEqualTo(reason.name().toLowerCase().replace('_', '-'));
    }
}
