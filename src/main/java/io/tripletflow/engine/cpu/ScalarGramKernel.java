package io.tripletflow.engine.cpu;

/**
 * The Gram matrix in plain Java loops, for JVMs started without {@code jdk.incubator.vector}.
 * Same arithmetic and order as {@link VectorGramKernel} (HotSpot vectorises the inner loop
 * across {@code j} by itself), so the same bits.
 */
final class ScalarGramKernel implements GramKernel {
    private static final int COLUMNS = 64;

    @Override
    public int columnBlock() {
        return COLUMNS;
    }

    @Override
    public String describe() {
        return "scalar loops";
    }

    @Override
    public void gram(float[] f, float[] t, int rows, int d, int stride, float[] g, WorkerPool pool) {
        // Every row against every column: the cross product of the batch with itself.
        cross(f, rows, d, t, stride, g, stride, 0, pool);
    }

    @Override
    public void cross(float[] f, int rows, int d, float[] t, int columnStride, float[] g, int gStride, int offset,
                      WorkerPool pool) {
        pool.run(rows, 16, (worker, from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i * gStride + offset;
                for (int j = 0; j < columnStride; j++) {
                    g[row + j] = 0f;
                }
                int fi = i * d;
                for (int k = 0; k < d; k++) {
                    float a = f[fi + k];
                    int tk = k * columnStride;
                    for (int j = 0; j < columnStride; j++) {
                        g[row + j] += a * t[tk + j];
                    }
                }
            }
        });
    }
}
