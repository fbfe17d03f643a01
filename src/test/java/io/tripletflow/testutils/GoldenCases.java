package io.tripletflow.testutils;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/** The golden cases of {@code ../shared/golden}, read at test time (never copied into the project). */
public final class GoldenCases {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GoldenCases() {}

    /** {@code ../shared}, from the system property surefire sets, or relative to the working directory. */
    public static Path shared() {
        String configured = System.getProperty("tripletflow.shared");
        return configured != null ? Paths.get(configured) : Paths.get("..", "shared");
    }

    /** Every case listed in {@code golden/index.json}. */
    public static List<GoldenCase> all() {
        Path dir = shared().resolve("golden");
        try {
            JsonNode index = JSON.readTree(dir.resolve("index.json").toFile());
            List<GoldenCase> cases = new ArrayList<>();
            for (JsonNode entry : index.get("cases")) {
                String file = entry.get("files").get(0).asText();
                cases.add(load(dir, dir.resolve(file)));
            }
            try (var rng = Files.list(dir.resolve("rng"))) {
                for (Path p : (Iterable<Path>) rng.sorted()::iterator) {
                    if (p.toString().endsWith(".json")) {
                        cases.add(load(dir.resolve("rng"), p));
                    }
                }
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GoldenCase load(Path dir, Path file) throws IOException {
        JsonNode c = JSON.readTree(file.toFile());
        GoldenCase g = new GoldenCase();
        g.name = c.get("name").asText();
        JsonNode p = c.get("params");
        g.negNum = p.get("neg_num").asInt();
        g.pairSize = p.get("pair_size").asInt();
        g.hardRatio = (float) p.get("hard_ratio").asDouble();
        g.randRatio = (float) p.get("rand_ratio").asDouble();
        g.margin = (float) p.get("margin").asDouble();
        g.rngSeed = p.get("rng_seed").asLong();
        g.rngMatters = c.path("rng_matters").asBoolean(false) || "seed-compat".equals(p.path("rng").asText());
        JsonNode ref = c.path("reference_float64");
        g.lossScale = ref.hasNonNull("loss_scale") ? ref.get("loss_scale").asDouble() : Double.NaN;
        if ("bin".equals(c.path("format").asText())) {
            loadBinary(g, dir.resolve(g.name + ".in.bin"), dir.resolve(g.name + ".out.bin"));
        } else {
            g.rows = c.get("N").asInt();
            g.dimension = c.get("D").asInt();
            g.labels = new int[g.rows];
            g.embeddings = new float[g.rows * g.dimension];
            for (int i = 0; i < g.rows; i++) {
                g.labels[i] = c.get("labels").get(i).asInt();
                for (int k = 0; k < g.dimension; k++) {
                    g.embeddings[i * g.dimension + k] = number(c.get("emb").get(i).get(k));
                }
            }
            JsonNode e = c.get("expected");
            g.loss = number(e.get("loss"));
            g.mask = new boolean[g.rows][g.rows];
            for (JsonNode pair : e.get("mask_pairs")) {
                g.mask[pair.get(0).asInt()][pair.get(1).asInt()] = true;
            }
            g.gradients = new float[g.rows * g.dimension];
            for (int i = 0; i < g.rows; i++) {
                for (int k = 0; k < g.dimension; k++) {
                    g.gradients[i * g.dimension + k] = number(e.get("grad").get(i).get(k));
                }
            }
        }
        return g;
    }

    private static void loadBinary(GoldenCase g, Path in, Path out) throws IOException {
        ByteBuffer a = ByteBuffer.wrap(Files.readAllBytes(in)).order(ByteOrder.LITTLE_ENDIAN);
        g.rows = a.getInt();
        g.dimension = a.getInt();
        g.labels = new int[g.rows];
        a.asIntBuffer().get(g.labels);
        a.position(a.position() + 4 * g.rows);
        g.embeddings = new float[g.rows * g.dimension];
        a.asFloatBuffer().get(g.embeddings);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        b.getInt();
        b.getInt();
        g.loss = b.getFloat();
        g.mask = new boolean[g.rows][g.rows];
        for (int i = 0; i < g.rows; i++) {
            for (int j = 0; j < g.rows; j++) {
                g.mask[i][j] = b.get() != 0;
            }
        }
        g.gradients = new float[g.rows * g.dimension];
        b.asFloatBuffer().get(g.gradients);
    }

    private static float number(JsonNode v) {
        if (v.isTextual()) {
            switch (v.asText()) {
                case "NaN": return Float.NaN;
                case "Infinity": return Float.POSITIVE_INFINITY;
                case "-Infinity": return Float.NEGATIVE_INFINITY;
                default: throw new IllegalArgumentException("not a number: " + v);
            }
        }
        return (float) v.asDouble();
    }

    /** One case: the batch, the seed's parameters and the seed's outputs. */
    public static final class GoldenCase {
        public String name;
        public int negNum;
        public int pairSize;
        public float hardRatio;
        public float randRatio;
        public float margin;
        public long rngSeed;
        public boolean rngMatters;
        public double lossScale;
        public int rows;
        public int dimension;
        public int[] labels;
        public float[] embeddings;
        public float loss;
        public boolean[][] mask;
        public float[] gradients;

        /** The seed's layer with this case's parameters (seed-compatible everything). */
        public MiningOptions.Builder options() {
            return MiningOptions.seedCompatible().toBuilder().negNum(negNum).pairSize(pairSize)
                    .hardRatio(hardRatio).randRatio(randRatio).margin(margin).rngSeed(rngSeed);
        }

        public EmbeddingBatch batch() {
            return new EmbeddingBatch("golden-" + name, 1, 0, 0, rows, dimension, labels.clone(), embeddings.clone());
        }

        /** Whether the seed's output is finite (the NaN/inf cases are rejected by the project). */
        public boolean finite() {
            return Float.isFinite(loss);
        }

        public int maskCount() {
            int c = 0;
            for (boolean[] row : mask) for (boolean b : row) if (b) c++;
            return c;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
