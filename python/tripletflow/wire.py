"""tripletflow wire format v1 for Python trainers and parameter servers (numpy only).

Embedding batches (what a trainer publishes; magic ``TFEB``) and gradient batches (what the job
answers; magic ``TFGB``): little-endian headers, row-major float32 arrays, and the CRC-32C
(Castagnoli) of every preceding byte in the last four bytes. The stream key is the Kafka record
key (UTF-8), not part of the value. The layout and the order of the checks follow
docs/wire-format.md; the Java codecs (io.tripletflow.wire) produce and accept the same bytes.

    import numpy as np
    from tripletflow import wire as tw
    value = tw.encode_embedding_batch(tw.EmbeddingBatch(batch_id=7, model_step=3, created_ms=tw.now_ms(),
                                                        labels=labels, embeddings=emb))
    producer.produce("embeddings", key=b"trainer-1", value=value)
    ...
    g = tw.decode_gradient_batch(msg.value())      # raises tw.InvalidRecord on a bad record
    model.backward(g.gradients)

CRC-32C: Python's standard library has only CRC-32 (zlib) and librdkafka exposes none, so this
module carries a table-driven CRC-32C (slicing-by-8, some 20 MB/s in CPython); when the
``google_crc32c`` or ``crc32c`` package is installed it is used instead.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

VERSION = 1
EMBEDDING_MAGIC = b"TFEB"
GRADIENT_MAGIC = b"TFGB"
EMBEDDING_HEADER_BYTES = 40
GRADIENT_HEADER_BYTES = 60
CRC_BYTES = 4
MASK_FLAG = 1

# WireBounds.DEFAULT of the Java codecs; the job's own bounds (tripletflow.max-rows, ...) may be smaller.
DEFAULT_MAX_ROWS = 8192
DEFAULT_MAX_DIMENSION = 4096
DEFAULT_MAX_RECORD_BYTES = 64 << 20

_EMBEDDING_HEADER = struct.Struct("<4sHHqqqii")          # magic, version, flags, batch id, step, created, N, D
_GRADIENT_HEADER = struct.Struct("<4sHHqqqqiifii")       # ... computed, N, D, loss, selected, non-zero hinges


# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF)

def _make_tables():
    tables = [[0] * 256 for _ in range(8)]
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        tables[0][i] = c
    for i in range(256):
        c = tables[0][i]
        for t in range(1, 8):
            c = tables[0][c & 0xFF] ^ (c >> 8)
            tables[t][i] = c
    return tables


_T = _make_tables()


def crc32c_table(data, crc: int = 0) -> int:
    """CRC-32C of ``data`` (bytes-like), continuing from ``crc`` (0 to start). Pure Python."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _T
    mv = memoryview(data).cast("B")
    c = crc ^ 0xFFFFFFFF
    n = len(mv)
    whole = n - n % 8
    if whole:
        for (word,) in struct.iter_unpack("<Q", mv[:whole]):
            x = word ^ c
            c = (t7[x & 0xFF] ^ t6[(x >> 8) & 0xFF] ^ t5[(x >> 16) & 0xFF] ^ t4[(x >> 24) & 0xFF]
                 ^ t3[(x >> 32) & 0xFF] ^ t2[(x >> 40) & 0xFF] ^ t1[(x >> 48) & 0xFF] ^ t0[x >> 56])
    for b in mv[whole:]:
        c = t0[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


try:  # optional C implementations
    import google_crc32c as _google_crc32c  # type: ignore

    def crc32c(data) -> int:
        """CRC-32C of ``data`` (google_crc32c)."""
        return _google_crc32c.value(bytes(data))

    CRC32C_IMPLEMENTATION = "google_crc32c"
except ImportError:  # pragma: no cover - depends on the machine
    try:
        import crc32c as _crc32c  # type: ignore

        def crc32c(data) -> int:
            """CRC-32C of ``data`` (crc32c package)."""
            return _crc32c.crc32c(bytes(data))

        CRC32C_IMPLEMENTATION = "crc32c"
    except ImportError:
        crc32c = crc32c_table
        CRC32C_IMPLEMENTATION = "table"


# ---------------------------------------------------------------------------------------------
# Records

class InvalidRecord(ValueError):
    """A record that fails a wire check; ``reason`` as in InvalidRecordReason (e.g. ``BAD_CRC``)."""

    def __init__(self, reason: str, field: str, message: str):
        super().__init__(f"{reason}: field '{field}': {message}")
        self.reason = reason
        self.field = field

    @property
    def code(self) -> str:
        """The dead-letter header form, e.g. ``bad-crc``."""
        return self.reason.lower().replace("_", "-")


@dataclass
class EmbeddingBatch:
    batch_id: int
    model_step: int
    created_ms: int
    labels: np.ndarray       # int32 [N]
    embeddings: np.ndarray   # float32 [N, D]

    @property
    def rows(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.embeddings.shape[1])


@dataclass
class GradientBatch:
    batch_id: int
    model_step: int
    created_ms: int
    computed_ms: int
    loss: float
    selected_triplets: int
    nonzero_hinges: int
    gradients: np.ndarray              # float32 [N, D]
    mask: Optional[np.ndarray] = None  # bool [N, N]: mask[a, n] = negative n selected for anchor a

    @property
    def rows(self) -> int:
        return int(self.gradients.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.gradients.shape[1])


def now_ms() -> int:
    return int(time.time() * 1000)


def embedding_record_bytes(rows: int, dimension: int) -> int:
    return EMBEDDING_HEADER_BYTES + 4 * rows + 4 * rows * dimension + CRC_BYTES


def gradient_record_bytes(rows: int, dimension: int, mask: bool) -> int:
    return GRADIENT_HEADER_BYTES + 4 * rows * dimension + ((rows * rows + 7) // 8 if mask else 0) + CRC_BYTES


def _matrix(a, name: str, dtype) -> np.ndarray:
    m = np.ascontiguousarray(a, dtype=dtype)
    if m.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N x D), got shape {m.shape}")
    return m


def _seal(body: bytearray) -> bytes:
    struct.pack_into("<I", body, len(body) - CRC_BYTES, crc32c(memoryview(body)[:-CRC_BYTES]))
    return bytes(body)


def _check_size(kind: str, rows: int, dimension: int, size: int,
                max_rows: int, max_dimension: int, max_record_bytes: int) -> None:
    if rows > max_rows:
        raise ValueError(f"{kind}: {rows} rows exceed max-rows = {max_rows}")
    if dimension > max_dimension:
        raise ValueError(f"{kind}: dimension {dimension} exceeds max-dimension = {max_dimension}")
    if size > max_record_bytes:
        raise ValueError(f"{kind}: {size} bytes exceed max-record-bytes = {max_record_bytes}")


def encode_embedding_batch(batch: EmbeddingBatch, max_rows: int = DEFAULT_MAX_ROWS,
                           max_dimension: int = DEFAULT_MAX_DIMENSION,
                           max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> bytes:
    """The record value of an embedding batch (its stream key goes in the Kafka key)."""
    emb = _matrix(batch.embeddings, "embeddings", "<f4")
    labels = np.ascontiguousarray(batch.labels, dtype="<i4").reshape(-1)
    n, d = emb.shape
    if labels.shape[0] != n:
        raise ValueError(f"{labels.shape[0]} labels for {n} rows")
    size = embedding_record_bytes(n, d)
    _check_size("embedding batch", n, d, size, max_rows, max_dimension, max_record_bytes)
    out = bytearray(size)
    _EMBEDDING_HEADER.pack_into(out, 0, EMBEDDING_MAGIC, VERSION, 0, int(batch.batch_id), int(batch.model_step),
                                int(batch.created_ms), n, d)
    o = EMBEDDING_HEADER_BYTES
    out[o:o + 4 * n] = labels.tobytes()
    out[o + 4 * n:size - CRC_BYTES] = emb.tobytes()
    return _seal(out)


def encode_gradient_batch(batch: GradientBatch, max_rows: int = DEFAULT_MAX_ROWS,
                          max_dimension: int = DEFAULT_MAX_DIMENSION,
                          max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> bytes:
    """The record value of a gradient batch (what the job writes; for tests and replay tools)."""
    grad = _matrix(batch.gradients, "gradients", "<f4")
    n, d = grad.shape
    has_mask = batch.mask is not None
    size = gradient_record_bytes(n, d, has_mask)
    _check_size("gradient batch", n, d, size, max_rows, max_dimension, max_record_bytes)
    out = bytearray(size)
    _GRADIENT_HEADER.pack_into(out, 0, GRADIENT_MAGIC, VERSION, MASK_FLAG if has_mask else 0,
                               int(batch.batch_id), int(batch.model_step), int(batch.created_ms),
                               int(batch.computed_ms), n, d, float(batch.loss), int(batch.selected_triplets),
                               int(batch.nonzero_hinges))
    o = GRADIENT_HEADER_BYTES
    out[o:o + 4 * n * d] = grad.tobytes()
    if has_mask:
        mask = np.asarray(batch.mask, dtype=bool)
        if mask.shape != (n, n):
            raise ValueError(f"mask must be {n} x {n}, got {mask.shape}")
        bits = np.packbits(mask.reshape(-1), bitorder="little")
        out[o + 4 * n * d:size - CRC_BYTES] = bits.tobytes()
    return _seal(out)


def _preamble(value, magic: bytes, header: int, what: str, max_record_bytes: int, flag_mask: int):
    if value is None:
        value = b""
    mv = memoryview(value).cast("B")
    size = len(mv)
    if size > max_record_bytes:
        raise InvalidRecord("RECORD_TOO_LARGE", "record size",
                            f"{what} of {size} bytes exceeds max-record-bytes = {max_record_bytes}")
    if size < header + CRC_BYTES:
        raise InvalidRecord("TRUNCATED", "record size",
                            f"{what} of {size} bytes is below the header and CRC ({header + CRC_BYTES} bytes)")
    if bytes(mv[0:4]) != magic:
        raise InvalidRecord("BAD_MAGIC", "magic", f"{bytes(mv[0:4])!r} is not {magic!r}")
    version, flags = struct.unpack_from("<HH", mv, 4)
    if version != VERSION:
        raise InvalidRecord("UNKNOWN_VERSION", "version", f"{version} is not {VERSION}")
    if flags & ~flag_mask:
        raise InvalidRecord("BAD_FLAGS", "flags", f"0x{flags:04x} sets bits that v1 does not define")
    return mv, size, flags


def _bounds(n: int, d: int, max_rows: int, max_dimension: int):
    if n < 0 or n > max_rows:
        raise InvalidRecord("ROWS_OUT_OF_BOUNDS", "rows", f"{n} is outside 0 .. max-rows = {max_rows}")
    if d < 0 or d > max_dimension:
        raise InvalidRecord("DIMENSION_OUT_OF_BOUNDS", "dimension",
                            f"{d} is outside 0 .. max-dimension = {max_dimension}")


def _crc(mv, size: int):
    stored = struct.unpack_from("<I", mv, size - CRC_BYTES)[0]
    actual = crc32c(mv[:size - CRC_BYTES])
    if stored != actual:
        raise InvalidRecord("BAD_CRC", "crc", f"stored 0x{stored:08x}, computed 0x{actual:08x}")


def _finite(a: np.ndarray, field: str):
    if a.size and not np.isfinite(a).all():
        row, col = np.argwhere(~np.isfinite(a))[0]
        raise InvalidRecord("NON_FINITE_VALUE", field, f"{a[row, col]} at row {row}, column {col}")


def decode_embedding_batch(value, max_rows: int = DEFAULT_MAX_ROWS, max_dimension: int = DEFAULT_MAX_DIMENSION,
                           max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> EmbeddingBatch:
    """Decodes and checks an embedding batch (checks in the order of docs/wire-format.md)."""
    mv, size, _ = _preamble(value, EMBEDDING_MAGIC, EMBEDDING_HEADER_BYTES, "embedding batch",
                            max_record_bytes, 0)
    _, _, _, batch_id, step, created, n, d = _EMBEDDING_HEADER.unpack_from(mv, 0)
    _bounds(n, d, max_rows, max_dimension)
    expected = embedding_record_bytes(n, d)
    if size != expected:
        raise InvalidRecord("SIZE_MISMATCH", "record size", f"{size} bytes, expected {expected} for N={n}, D={d}")
    _crc(mv, size)
    labels = np.frombuffer(mv, "<i4", n, EMBEDDING_HEADER_BYTES).copy()
    emb = np.frombuffer(mv, "<f4", n * d, EMBEDDING_HEADER_BYTES + 4 * n).reshape(n, d).copy()
    _finite(emb, "embeddings")
    return EmbeddingBatch(batch_id, step, created, labels, emb)


def decode_gradient_batch(value, max_rows: int = DEFAULT_MAX_ROWS, max_dimension: int = DEFAULT_MAX_DIMENSION,
                          max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> GradientBatch:
    """Decodes and checks a gradient batch (checks in the order of docs/wire-format.md)."""
    mv, size, flags = _preamble(value, GRADIENT_MAGIC, GRADIENT_HEADER_BYTES, "gradient batch",
                                max_record_bytes, MASK_FLAG)
    (_, _, _, batch_id, step, created, computed, n, d, loss, selected,
     nonzero) = _GRADIENT_HEADER.unpack_from(mv, 0)
    _bounds(n, d, max_rows, max_dimension)
    has_mask = bool(flags & MASK_FLAG)
    expected = gradient_record_bytes(n, d, has_mask)
    if size != expected:
        raise InvalidRecord("SIZE_MISMATCH", "record size",
                            f"{size} bytes, expected {expected} for N={n}, D={d}, mask={has_mask}")
    _crc(mv, size)
    if not np.isfinite(np.float32(loss)):
        raise InvalidRecord("NON_FINITE_VALUE", "loss", f"{loss}")
    grad = np.frombuffer(mv, "<f4", n * d, GRADIENT_HEADER_BYTES).reshape(n, d).copy()
    _finite(grad, "gradients")
    mask = None
    if has_mask:
        bits = np.frombuffer(mv, np.uint8, (n * n + 7) // 8, GRADIENT_HEADER_BYTES + 4 * n * d)
        mask = np.unpackbits(bits, bitorder="little")[: n * n].reshape(n, n).astype(bool)
    return GradientBatch(batch_id, step, created, computed, float(loss), selected, nonzero, grad, mask)
