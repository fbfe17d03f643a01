package io.tripletflow.wire;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** The Kafka key of a record as it arrived: a string, or UTF-8 bytes not yet decoded. */
final class StreamKey {
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
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new InvalidRecordException(InvalidRecordReason.BAD_KEY, record, "stream key",
                    utf8.length + " bytes of malformed UTF-8", "violates", REQUIRED);
        }
    }

    /** Keys are chosen by trainers; a long one must not swamp the message. */
    static String abbreviate(String key) {
        return key.length() <= 64 ? key : key.substring(0, 61) + "...";
    }
}
