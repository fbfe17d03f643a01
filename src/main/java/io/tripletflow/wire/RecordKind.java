package io.tripletflow.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** What differs between the two record kinds in the checks they share. */
enum RecordKind {
    EMBEDDING_BATCH("embedding batch", WireFormat.EMBEDDING_MAGIC, WireFormat.EMBEDDING_HEADER_BYTES, 0, 32, 36,
            "44 + 4N + 4ND") {
        @Override
        long recordBytes(long rows, long dimension, int flags) {
            return WireFormat.embeddingRecordBytes(rows, dimension);
        }
    },
    GRADIENT_BATCH("gradient batch", WireFormat.GRADIENT_MAGIC, WireFormat.GRADIENT_HEADER_BYTES,
            WireFormat.GRADIENT_FLAG_MASK, 40, 44, "64 + 4ND") {
        @Override
        long recordBytes(long rows, long dimension, int flags) {
            return WireFormat.gradientRecordBytes(rows, dimension, (flags & WireFormat.GRADIENT_FLAG_MASK) != 0);
        }

        @Override
        String sizeFormula(int flags) {
            return (flags & WireFormat.GRADIENT_FLAG_MASK) != 0 ? "64 + 4ND + ceil(N*N/8)" : "64 + 4ND";
        }
    };

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int FLAGS_OFFSET = 6;
    static final int BATCH_ID_OFFSET = 8;

    private final String label;
    private final byte[] magic;
    private final int headerBytes;
    private final int allowedFlags;
    private final int rowsOffset;
    private final int dimensionOffset;
    private final String sizeFormula;

    RecordKind(String label, String magic, int headerBytes, int allowedFlags, int rowsOffset, int dimensionOffset,
            String sizeFormula) {
        this.label = label;
        this.magic = magic.getBytes(StandardCharsets.US_ASCII);
        this.headerBytes = headerBytes;
        this.allowedFlags = allowedFlags;
        this.rowsOffset = rowsOffset;
        this.dimensionOffset = dimensionOffset;
        this.sizeFormula = sizeFormula;
    }

    abstract long recordBytes(long rows, long dimension, int flags);

    String sizeFormula(int flags) {
        return sizeFormula;
    }

    String label() { return label; }
    byte[] magic() { return magic.clone(); }
    int minimumRecordBytes() { return headerBytes + WireFormat.CRC_BYTES; }
    int allowedFlags() { return allowedFlags; }
    int rowsOffset() { return rowsOffset; }
    int dimensionOffset() { return dimensionOffset; }

    boolean magicMatches(ByteBuffer record) {
        for (int i = 0; i < magic.length; i++) {
            if (record.get(MAGIC_OFFSET + i) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** Magic, version and flags: the first eight bytes of either record. */
    void writePreamble(ByteBuffer record, int flags) {
        record.put(MAGIC_OFFSET, magic[0]).put(1, magic[1]).put(2, magic[2]).put(3, magic[3]);
        record.putShort(VERSION_OFFSET, (short) WireFormat.VERSION);
        record.putShort(FLAGS_OFFSET, (short) flags);
    }

    /**
     * The size of the record a batch encodes to, refusing what a decoder with the same bounds would
     * reject, so a producer finds out before the consumer does.
     */
    int checkedRecordBytes(WireBounds bounds, String batch, int rows, int dimension, int flags) {
        if (rows > bounds.maxRows()) {
            throw new IllegalArgumentException(label + " " + batch + ": field 'rows' = " + rows
                    + " exceeds the bound max-rows = " + bounds.maxRows());
        }
        if (dimension > bounds.maxDimension()) {
            throw new IllegalArgumentException(label + " " + batch + ": field 'dimension' = " + dimension
                    + " exceeds the bound max-dimension = " + bounds.maxDimension());
        }
        long bytes = recordBytes(rows, dimension, flags);
        if (bytes > bounds.maxRecordBytes()) {
            throw new IllegalArgumentException(label + " " + batch + ": field 'record size' = " + bytes
                    + " bytes exceeds the bound max-record-bytes = " + bounds.maxRecordBytes());
        }
        return (int) bytes;
    }
}
