package io.tripletflow.wire;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The stream key, in its one home: the Kafka record key, non-empty UTF-8 (decoded strictly:
 * malformed bytes are a {@code bad-key} dead letter, never replaced), and its <em>keyed form</em>,
 * the key's bytes one char per byte (ISO-8859-1), which is what the job keys its state by. The
 * keyed form is lossless and needs no decoding; it is also what the job's savepoints are
 * partitioned by, so changing it would move the state of every non-ASCII key to another key
 * group. Records, answers, statistics and logs show the decoded key.
 */
public final class StreamKey {
    private static final String REQUIRED = "non-empty UTF-8 stream key";

    private final String text;
    private final byte[] utf8;

    private StreamKey(String text, byte[] utf8) {
        this.text = text;
        this.utf8 = utf8;
    }

    static StreamKey of(String text) {
        return new StreamKey(text, null);
    }

    static StreamKey ofUtf8(byte[] utf8) {
        return new StreamKey(null, utf8);
    }

    /** The key, or why the record has none; decoding waits until the value's length was checked. */
    String require(String record) throws InvalidRecordException {
        String key = utf8 == null ? text : decode(record);
        if (key == null || key.isEmpty()) {
            throw new InvalidRecordException(InvalidRecordReason.MISSING_KEY, record, "stream key",
                    key == null ? "(none)" : "''", "violates", REQUIRED);
        }
        return key;
    }

    private String decode(String record) throws InvalidRecordException {
        String key = decode(utf8);
        if (key == null) {
            throw new InvalidRecordException(InvalidRecordReason.BAD_KEY, record, "stream key",
                    utf8.length + " bytes of malformed UTF-8", "violates", REQUIRED);
        }
        return key;
    }

    /** The key's bytes decoded as UTF-8, strictly; null when they are not UTF-8. */
    public static String decode(byte[] utf8) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The keyed form of a record key (no key: ""). */
    public static String keyedForm(byte[] key) {
        return key == null ? "" : new String(key, StandardCharsets.ISO_8859_1);
    }

    /** The stream key of a keyed form (a valid key's: it passed {@link #decode} before it was keyed). */
    public static String ofKeyedForm(String keyedForm) {
        return new String(keyedForm.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /** Keys are chosen by trainers; a long one must not swamp the message. */
    static String abbreviate(String key) {
        return key.length() <= 64 ? key : key.substring(0, 61) + "...";
    }
}
