package io.tripletflow.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import io.tripletflow.stats.Json;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.GradientBatchCodec;
import io.tripletflow.wire.InvalidRecordException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code python/tripletflow/wire.py} against the Java codecs, byte for byte: embedding
 * batches that Python encodes are the bytes Java encodes and decode in Java; gradient batches that
 * Java encodes decode in Python to the same fields and re-encode to the same bytes; and a corrupted
 * record is rejected by both for the same reason (the checks run in the same order).
 */
class PythonWireInteropTest {
    private static final String SCRIPT = """
            import json, os, sys
            import numpy as np
            sys.path.insert(0, sys.argv[1])
            from tripletflow import wire as tw
            d = sys.argv[2]
            def bits(a):
                return np.ascontiguousarray(a, "<f4").view("<u4").reshape(-1).tolist()
            assert tw.crc32c_table(b"123456789") == 0xE3069283
            for name in sorted(os.listdir(d)):
                path = os.path.join(d, name)
                if name.startswith("emb-") and name.endswith(".json"):
                    c = json.load(open(path))
                    emb = np.array(c["bits"], "<u4").view("<f4").reshape(c["n"], c["d"])
                    b = tw.EmbeddingBatch(c["batch_id"], c["model_step"], c["created_ms"], np.array(c["labels"], "<i4"), emb)
                    open(path[:-5] + ".py.tfeb", "wb").write(tw.encode_embedding_batch(b))
                    back = tw.decode_embedding_batch(tw.encode_embedding_batch(b))
                    assert back.labels.tolist() == c["labels"] and bits(back.embeddings) == c["bits"]
                elif name.startswith("grad-") and name.endswith(".tfgb"):
                    rec = open(path, "rb").read()
                    g = tw.decode_gradient_batch(rec)
                    out = {"batch_id": g.batch_id, "model_step": g.model_step, "created_ms": g.created_ms,
                           "computed_ms": g.computed_ms, "n": g.rows, "d": g.dimension,
                           "loss_bits": int(np.array([g.loss], "<f4").view("<u4")[0]),
                           "selected": g.selected_triplets, "nonzero": g.nonzero_hinges, "bits": bits(g.gradients),
                           "mask": None if g.mask is None else g.mask.astype(int).reshape(-1).tolist()}
                    json.dump(out, open(path[:-5] + ".py.json", "w"))
                    open(path[:-5] + ".py.tfgb", "wb").write(tw.encode_gradient_batch(g))
                elif name.startswith("bad-"):
                    rec = open(path, "rb").read()
                    try:
                        (tw.decode_embedding_batch if name.startswith("bad-emb") else tw.decode_gradient_batch)(rec)
                        reason = "ACCEPTED"
                    except tw.InvalidRecord as e:
                        reason = e.reason
                    open(path + ".reason", "w").write(reason)
            print("ok", tw.CRC32C_IMPLEMENTATION)
            """;

    @TempDir
    static Path dir;

    private static final List<EmbeddingBatch> EMBEDDINGS = new ArrayList<>();
    private static final List<GradientBatch> GRADIENTS = new ArrayList<>();
    private static final EmbeddingBatchCodec EMB = new EmbeddingBatchCodec();
    private static final GradientBatchCodec GRAD = new GradientBatchCodec();
    private static final List<String> JAVA_REASONS = new ArrayList<>();

    @BeforeAll
    static void exchange() throws Exception {
        Python.assumeModules("numpy");
        Random random = new Random(42);
        int[][] shapes = {{0, 0}, {3, 0}, {0, 5}, {2, 1}, {6, 4}, {17, 9}};
        long[] ids = {0, 1, Long.MAX_VALUE, Long.MIN_VALUE, -7, 123456789012345L};
        for (int i = 0; i < shapes.length; i++) {
            int n = shapes[i][0];
            int d = shapes[i][1];
            int[] labels = new int[n];
            float[] emb = new float[n * d];
            for (int r = 0; r < n; r++) {
                labels[r] = random.nextInt() >> random.nextInt(31);
            }
            for (int k = 0; k < emb.length; k++) {
                emb[k] = switch (k % 7) {
                    case 0 -> -0.0f;
                    case 1 -> Float.MIN_VALUE;             // subnormal
                    case 2 -> -Float.MAX_VALUE;
                    default -> (float) random.nextGaussian();
                };
            }
            EmbeddingBatch e = new EmbeddingBatch("k", ids[i], ids[(i + 1) % ids.length], ids[(i + 2) % ids.length],
                    n, d, labels, emb);
            EMBEDDINGS.add(e);
            Files.writeString(dir.resolve("emb-" + i + ".json"), embeddingSpec(e));

            float[] g = new float[n * d];
            for (int k = 0; k < g.length; k++) {
                g[k] = (float) random.nextGaussian() * 1e-3f;
            }
            byte[] mask = null;
            if (i % 2 == 1) {
                mask = new byte[GradientBatch.maskBytes(n)];
                for (int b = 0; b < n * n; b++) {
                    if (random.nextBoolean()) {
                        mask[b / 8] |= (byte) (1 << (b % 8));
                    }
                }
            }
            GradientBatch gb = new GradientBatch("k", ids[i], i, ids[(i + 3) % ids.length], 1_700_000_000_000L + i, n, d,
                    (float) random.nextGaussian(), random.nextInt(1000), random.nextInt(1000), g, mask);
            GRADIENTS.add(gb);
            Files.write(dir.resolve("grad-" + i + ".tfgb"), GRAD.encode(gb));
        }
        // Corrupted records: Python must reject each for the reason Java does.
        byte[] e = EMB.encode(EMBEDDINGS.get(4));
        byte[] g = GRAD.encode(GRADIENTS.get(3));
        List<byte[]> bad = List.of(
                Arrays.copyOf(e, 30),                                         // TRUNCATED
                set(e.clone(), 0, (byte) 'X'),                                // BAD_MAGIC
                set(e.clone(), 4, (byte) 2),                                  // UNKNOWN_VERSION
                set(e.clone(), 6, (byte) 1),                                  // BAD_FLAGS
                putInt(e.clone(), 32, 70_000),                                // ROWS_OUT_OF_BOUNDS
                putInt(e.clone(), 36, -1),                                    // DIMENSION_OUT_OF_BOUNDS
                Arrays.copyOf(e, e.length + 4),                               // SIZE_MISMATCH
                set(e.clone(), 50, (byte) (e[50] ^ 1)),                       // BAD_CRC
                reseal(putFloat(e.clone(), 40 + 4 * 6 + 8, Float.NaN)),       // NON_FINITE_VALUE (embedding)
                GRAD.encode(GRADIENTS.get(4)).clone(),                        // (a gradient batch on the embeddings topic) BAD_MAGIC
                set(g.clone(), 6, (byte) 2),                                  // gradient: BAD_FLAGS
                reseal(putFloat(g.clone(), 48, Float.POSITIVE_INFINITY)),     // gradient: NON_FINITE_VALUE (loss)
                Arrays.copyOf(g, g.length - 1));                              // gradient: SIZE_MISMATCH
        for (int i = 0; i < bad.size(); i++) {
            boolean embedding = i < 10;
            Files.write(dir.resolve((embedding ? "bad-emb-" : "bad-grad-") + i), bad.get(i));
            try {
                if (embedding) {
                    EMB.decode("k", bad.get(i));
                } else {
                    GRAD.decode("k", bad.get(i));
                }
                JAVA_REASONS.add("ACCEPTED");
            } catch (InvalidRecordException ex) {
                JAVA_REASONS.add(ex.reason().name());
            }
        }
        Python.Result r = Python.run(List.of(Python.PYTHON.toString(), "-c", SCRIPT,
                root().resolve("python").toString(), dir.toString()), Map.of(), 120);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).startsWith("ok ");
    }

    static Path root() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    }

    @Test
    void pythonEncodesEmbeddingBatchesByteForByteLikeJava() throws Exception {
        for (int i = 0; i < EMBEDDINGS.size(); i++) {
            EmbeddingBatch expected = EMBEDDINGS.get(i);
            byte[] python = Files.readAllBytes(dir.resolve("emb-" + i + ".py.tfeb"));
            assertThat(python).as("case " + i).isEqualTo(EMB.encode(expected));
            EmbeddingBatch back = EMB.decode("k", python);
            assertThat(back.batchId()).isEqualTo(expected.batchId());
            assertThat(back.modelStep()).isEqualTo(expected.modelStep());
            assertThat(back.createdMillis()).isEqualTo(expected.createdMillis());
            assertThat(back.labels()).isEqualTo(expected.labels());
            assertThat(bits(back.embeddings())).isEqualTo(bits(expected.embeddings()));
        }
    }

    @Test
    void pythonDecodesJavasGradientBatchesAndReencodesThemExactly() throws Exception {
        for (int i = 0; i < GRADIENTS.size(); i++) {
            GradientBatch g = GRADIENTS.get(i);
            Map<String, Object> py = Json.parseObject(Files.readString(dir.resolve("grad-" + i + ".py.json")));
            assertThat(py.get("batch_id")).isEqualTo(g.batchId());
            assertThat(py.get("model_step")).isEqualTo(g.modelStep());
            assertThat(py.get("created_ms")).isEqualTo(g.createdMillis());
            assertThat(py.get("computed_ms")).isEqualTo(g.computedMillis());
            assertThat(py.get("n")).isEqualTo((long) g.rows());
            assertThat(py.get("d")).isEqualTo((long) g.dimension());
            assertThat(py.get("loss_bits")).isEqualTo((long) Float.floatToRawIntBits(g.loss()) & 0xFFFFFFFFL);
            assertThat(py.get("selected")).isEqualTo((long) g.selectedTriplets());
            assertThat(py.get("nonzero")).isEqualTo((long) g.nonZeroHinges());
            assertThat(py.get("bits")).isEqualTo(bits(g.gradients()));
            if (g.hasMask()) {
                List<Long> mask = new ArrayList<>();
                for (int a = 0; a < g.rows(); a++) {
                    for (int n = 0; n < g.rows(); n++) {
                        mask.add(g.maskBit(a, n) ? 1L : 0L);
                    }
                }
                assertThat(py.get("mask")).isEqualTo(mask);
            } else {
                assertThat(py.get("mask")).isNull();
            }
            assertThat(Files.readAllBytes(dir.resolve("grad-" + i + ".py.tfgb"))).as("case " + i)
                    .isEqualTo(Files.readAllBytes(dir.resolve("grad-" + i + ".tfgb")));
        }
    }

    @Test
    void pythonRejectsCorruptedRecordsForTheReasonJavaDoes() throws Exception {
        List<String> python = new ArrayList<>();
        for (int i = 0; i < JAVA_REASONS.size(); i++) {
            String name = (i < 10 ? "bad-emb-" : "bad-grad-") + i + ".reason";
            python.add(Files.readString(dir.resolve(name)));
        }
        assertThat(JAVA_REASONS).doesNotContain("ACCEPTED").contains("BAD_CRC", "NON_FINITE_VALUE", "SIZE_MISMATCH");
        assertThat(python).isEqualTo(JAVA_REASONS);
        assertThatThrownBy(() -> EMB.decode("k", Files.readAllBytes(dir.resolve("bad-emb-7"))))
                .isInstanceOf(InvalidRecordException.class);
    }

    private static String embeddingSpec(EmbeddingBatch e) {
        return "{\"batch_id\":" + e.batchId() + ",\"model_step\":" + e.modelStep() + ",\"created_ms\":" + e.createdMillis()
                + ",\"n\":" + e.rows() + ",\"d\":" + e.dimension() + ",\"labels\":" + Arrays.toString(e.labels())
                + ",\"bits\":" + bits(e.embeddings()) + "}";
    }

    private static List<Long> bits(float[] values) {
        List<Long> out = new ArrayList<>(values.length);
        for (float v : values) {
            out.add(Float.floatToRawIntBits(v) & 0xFFFFFFFFL);
        }
        return out;
    }

    private static byte[] set(byte[] b, int at, byte v) {
        b[at] = v;
        return b;
    }

    private static byte[] putInt(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        return b;
    }

    private static byte[] putFloat(byte[] b, int at, float v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(at, v);
        return b;
    }

    /** Recomputes the CRC so that only the later checks can fail. */
    private static byte[] reseal(byte[] b) {
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length - 4, (int) crc.getValue());
        return b;
    }
}
