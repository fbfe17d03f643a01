package io.tripletflow.testutils;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

/**
 * The ways a valid embedding batch record (wire format v1, written by {@link EmbeddingRecords})
 * can arrive broken, each with the dead-letter reason the job must give the result. The reason is
 * worked out here from {@code docs/wire-format.md} ("Checks, in order") and the mining rules, not
 * from the job's code.
 *
 * <pre>{@code
 * RecordMutation.Bounds bounds = new RecordMutation.Bounds(8192, 4096, 4096);
 * RecordMutation.Mutated bad = RecordMutation.BODY_FLIP.apply(key, validValue, random, bounds);
 * send(bad.key(), bad.value());          // expect a dead letter with reason bad.reason()
 * }</pre>
 *
 * <p>The valid record must have an even N >= 4 in label pairs (rows {@code 2i, 2i+1} share a
 * label), D >= 1, a non-empty UTF-8 key, and be at most {@code maxRecordBytes} long; the job must
 * run with {@code on-label-mismatch = reject} and {@code reduction = seed} (the defaults).
 */
public enum RecordMutation {
    /** Cut to fewer bytes than header and CRC, possibly to nothing. */
    CUT_INTO_HEADER {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, Arrays.copyOf(value, r.nextInt(MIN_BYTES)), "truncated");
        }
    },
    /** No value at all (a Kafka tombstone). */
    NO_VALUE {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, null, "truncated");
        }
    },
    /** Cut inside labels, embeddings or CRC: the header is intact but promises more. */
    CUT_INTO_BODY {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, Arrays.copyOf(value, MIN_BYTES + r.nextInt(value.length - MIN_BYTES)),
                    "size-mismatch");
        }
    },
    /** Trailing bytes after the CRC. */
    EXTRA_BYTES {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] longer = Arrays.copyOf(value, value.length + 1 + r.nextInt(64));
            return new Mutated(key, longer, longer.length > b.maxRecordBytes() ? "record-too-large" : "size-mismatch");
        }
    },
    /** A bit of the stored CRC flipped. */
    CRC_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, flip(value, value.length - 4 + r.nextInt(4), r), "bad-crc");
        }
    },
    /** A bit of the labels or embeddings flipped: only the CRC can tell. */
    BODY_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, flip(value, HEADER + r.nextInt(value.length - HEADER - 4), r), "bad-crc");
        }
    },
    /** A bit of batch id, model step or created flipped: header fields no check but the CRC reads. */
    IDENTITY_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, flip(value, 8 + r.nextInt(24), r), "bad-crc");
        }
    },
    /** A bit of the magic flipped. */
    MAGIC_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, flip(value, r.nextInt(4), r), "bad-magic");
        }
    },
    /** A bit of the version flipped. */
    VERSION_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, flip(value, 4 + r.nextInt(2), r), "unknown-version");
        }
    },
    /** A bit of the reserved flags set. */
    FLAGS_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, flip(value, 6 + r.nextInt(2), r), "bad-flags");
        }
    },
    /** A bit of N flipped: out of bounds, or in bounds and then the length is wrong. */
    ROWS_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] v = flip(value, ROWS + r.nextInt(4), r);
            int n = intAt(v, ROWS);
            return new Mutated(key, v, n < 0 || n > b.maxRows() ? "rows-out-of-bounds" : "size-mismatch");
        }
    },
    /** A bit of D flipped: out of bounds, or in bounds and then the length is wrong (N > 0). */
    DIMENSION_FLIP {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] v = flip(value, DIMENSION + r.nextInt(4), r);
            int d = intAt(v, DIMENSION);
            return new Mutated(key, v, d < 0 || d > b.maxDimension() ? "dimension-out-of-bounds" : "size-mismatch");
        }
    },
    /** One embedding NaN, CRC right: the record passes every structural check. */
    NAN_EMBEDDING {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(key, withEmbedding(value, r, Float.NaN), "non-finite-value");
        }
    },
    /** One embedding infinite, CRC right. */
    INFINITE_EMBEDDING {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            float inf = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            return new Mutated(key, withEmbedding(value, r, inf), "non-finite-value");
        }
    },
    /** N far beyond max-rows or negative, CRC right: must be refused from the header alone. */
    HUGE_ROWS {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            int n = pick(r, b.maxRows() + 1, 1 << 20, 1 << 30, Integer.MAX_VALUE, -1, Integer.MIN_VALUE);
            return new Mutated(key, withInt(value, ROWS, n), "rows-out-of-bounds");
        }
    },
    /** D far beyond max-dimension or negative, CRC right. */
    HUGE_DIMENSION {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            int d = pick(r, b.maxDimension() + 1, 1 << 20, 1 << 30, Integer.MAX_VALUE, -1, Integer.MIN_VALUE);
            return new Mutated(key, withInt(value, DIMENSION, d), "dimension-out-of-bounds");
        }
    },
    /**
     * N and D at their bounds (8192 x 4096: 128 MiB of embeddings claimed) in a short record, CRC
     * right: within bounds, so only the length check refuses it, before anything is allocated.
     */
    HUGE_CLAIM {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] v = withInt(withInt(value, ROWS, b.maxRows()), DIMENSION, b.maxDimension());
            return new Mutated(key, v, "size-mismatch");
        }
    },
    /** More bytes than max-record-bytes (up to four times as many): refused on its length alone. */
    TOO_LARGE {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            int size = b.maxRecordBytes() + 1 + r.nextInt(3 * b.maxRecordBytes());
            byte[] v = Arrays.copyOf(value, size);
            r.nextBytes(v);
            return new Mutated(key, v, "record-too-large");
        }
    },
    /** A positive's label changed, CRC right (on-label-mismatch = reject). */
    LABEL_MISMATCH {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            int pairs = intAt(value, ROWS) / 2;
            int positive = 2 * r.nextInt(pairs) + 1;
            int label = intAt(value, HEADER + 4 * (positive - 1));
            return new Mutated(key, withInt(value, HEADER + 4 * positive, label + 1 + r.nextInt(1000)),
                    "label-mismatch");
        }
    },
    /** N = 0, CRC right: well formed, but the seed's reduction divides by 0 terms. */
    EMPTY_BATCH {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] v = withInt(Arrays.copyOf(value, MIN_BYTES), ROWS, 0);
            return new Mutated(key, EmbeddingRecords.withCrc(v), "empty-seed-count");
        }
    },
    /** The magic of another record kind (a gradient batch on the embeddings topic). */
    GRADIENT_MAGIC {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] v = value.clone();
            v[2] = 'G';
            return new Mutated(key, EmbeddingRecords.withCrc(v), "bad-magic");
        }
    },
    /** A version other than 1, CRC right. */
    OTHER_VERSION {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] v = value.clone();
            ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putShort(4, (short) pick(r, 0, 2, 0xFFFF));
            return new Mutated(key, EmbeddingRecords.withCrc(v), "unknown-version");
        }
    },
    /** No Kafka key. */
    NO_KEY {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(null, value, "missing-key");
        }
    },
    /** An empty Kafka key. */
    EMPTY_KEY {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            return new Mutated(new byte[0], value, "missing-key");
        }
    },
    /** A key that is not UTF-8 (a lone continuation byte or a cut sequence). */
    NOT_UTF8_KEY {
        @Override
        Mutated mutate(byte[] key, byte[] value, Random r, Bounds b) {
            byte[] k = Arrays.copyOf(key, key.length + 1);
            k[key.length] = (byte) pick(r, 0x80, 0xBF, 0xC3, 0xE2, 0xFF);
            return new Mutated(k, value, "bad-key");
        }
    };

    /** Header (40) plus CRC (4): the shortest embedding record. */
    public static final int MIN_BYTES = EmbeddingRecords.HEADER_BYTES + EmbeddingRecords.CRC_BYTES;
    private static final int HEADER = EmbeddingRecords.HEADER_BYTES;
    private static final int ROWS = 32;
    private static final int DIMENSION = 36;

    /** A broken record: key and value as sent, and the reason the job must give. */
    public record Mutated(byte[] key, byte[] value, String reason) {}

    /** The job's input bounds ({@code max-rows}, {@code max-dimension}, {@code max-record-bytes}). */
    public record Bounds(int maxRows, int maxDimension, int maxRecordBytes) {}

    /** Whether the result keeps the valid record's stream key (so it reaches the mining operator). */
    public boolean keepsKey() {
        return this != NO_KEY && this != EMPTY_KEY && this != NOT_UTF8_KEY;
    }

    /** A broken copy of {@code value} (keyed {@code key}); the arguments are not changed. */
    public Mutated apply(byte[] key, byte[] value, Random random, Bounds bounds) {
        return mutate(key, value, random, bounds);
    }

    abstract Mutated mutate(byte[] key, byte[] value, Random r, Bounds b);

    private static byte[] flip(byte[] value, int offset, Random r) {
        byte[] v = value.clone();
        v[offset] ^= (byte) (1 << r.nextInt(8));
        return v;
    }

    private static int intAt(byte[] value, int offset) {
        return ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
    }

    /** The i32 at {@code offset} replaced, CRC recomputed. */
    private static byte[] withInt(byte[] value, int offset, int x) {
        byte[] v = value.clone();
        ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, x);
        return EmbeddingRecords.withCrc(v);
    }

    private static byte[] withEmbedding(byte[] value, Random r, float x) {
        int n = intAt(value, ROWS);
        int d = intAt(value, DIMENSION);
        return EmbeddingRecords.withEmbedding(value, r.nextInt(n), r.nextInt(d), x);
    }

    private static int pick(Random r, int... values) {
        return values[r.nextInt(values.length)];
    }
}
