package io.tripletflow.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Gram matrix with the Java Vector API: tiles of {@value #ROWS} rows by two vectors of
 * columns, accumulated over {@code k} in order (see {@link GramKernel}). Only tiles on or above
 * the diagonal are computed; the rest is mirrored ({@code a*b == b*a} in IEEE arithmetic).
 */
final class VectorGramKernel implements GramKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int ROWS = 4;
    private static final int COLUMNS = 2 * LANES;

    @Override
    public int columnBlock() {
        return Math.max(COLUMNS, ROWS);
    }

    @Override
    public String describe() {
        return "vector API, " + (LANES * 32) + "-bit";
    }

    @Override
    public void gram(float[] padded, float[] t, int rows, int dimension, int stride, float[] g, WorkerPool pool) {
        int columnBlocks = (rows + COLUMNS - 1) / COLUMNS;
        // Later column blocks hold more tiles above the diagonal: hand them out first.
        pool.run(columnBlocks, 1, (worker, from, to) -> {
            for (int b = from; b < to; b++) {
                columnBlock(padded, t, dimension, stride, g, (columnBlocks - 1 - b) * COLUMNS);
            }
        });
        int rowBlocks = (rows + 63) / 64;
        pool.run(rowBlocks, 1, (worker, from, to) -> {
            for (int b = from; b < to; b++) {
                mirror(g, stride, rows, b * 64, Math.min(rows, b * 64 + 64));
            }
        });
    }

    @Override
    public void cross(float[] padded, int rows, int dimension, float[] t, int columnStride, float[] g, int gStride,
                      int offset, WorkerPool pool) {
        int columnBlocks = columnStride / COLUMNS;
        int rowLimit = (rows + ROWS - 1) / ROWS * ROWS;
        pool.run(columnBlocks, 1, (worker, from, to) -> {
            for (int b = from; b < to; b++) {
                tile(padded, t, dimension, columnStride, g, gStride, offset, b * COLUMNS, rowLimit);
            }
        });
    }

    private static void columnBlock(float[] f, float[] t, int d, int stride, float[] g, int j0) {
        tile(f, t, d, stride, g, stride, 0, j0, j0 + COLUMNS);
    }

    /** Rows {@code [0, rowLimit)} by columns {@code [j0, j0 + COLUMNS)}, written at {@code g[i * gStride + offset + j]}. */
    private static void tile(float[] f, float[] t, int d, int stride, float[] g, int gStride, int offset, int j0,
                             int rowLimit) {
        for (int i0 = 0; i0 < rowLimit; i0 += ROWS) {
            FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
            FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
            FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
            FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
            int r0 = i0 * d;
            int r1 = r0 + d;
            int r2 = r1 + d;
            int r3 = r2 + d;
            for (int k = 0; k < d; k++) {
                int tk = k * stride + j0;
                FloatVector b0 = FloatVector.fromArray(SPECIES, t, tk);
                FloatVector b1 = FloatVector.fromArray(SPECIES, t, tk + LANES);
                FloatVector a0 = FloatVector.broadcast(SPECIES, f[r0 + k]);
                FloatVector a1 = FloatVector.broadcast(SPECIES, f[r1 + k]);
                FloatVector a2 = FloatVector.broadcast(SPECIES, f[r2 + k]);
                FloatVector a3 = FloatVector.broadcast(SPECIES, f[r3 + k]);
                c00 = c00.add(a0.mul(b0));
                c01 = c01.add(a0.mul(b1));
                c10 = c10.add(a1.mul(b0));
                c11 = c11.add(a1.mul(b1));
                c20 = c20.add(a2.mul(b0));
                c21 = c21.add(a2.mul(b1));
                c30 = c30.add(a3.mul(b0));
                c31 = c31.add(a3.mul(b1));
            }
            int o = i0 * gStride + offset + j0;
            c00.intoArray(g, o);
            c01.intoArray(g, o + LANES);
            c10.intoArray(g, o + gStride);
            c11.intoArray(g, o + gStride + LANES);
            c20.intoArray(g, o + 2 * gStride);
            c21.intoArray(g, o + 2 * gStride + LANES);
            c30.intoArray(g, o + 3 * gStride);
            c31.intoArray(g, o + 3 * gStride + LANES);
        }
    }

    /** Copies the upper triangle onto the lower one for rows {@code [from, to)}. */
    private static void mirror(float[] g, int stride, int rows, int from, int to) {
        for (int i = from; i < to; i++) {
            int row = i * stride;
            for (int j = 0; j < i; j++) {
                g[row + j] = g[j * stride + i];
            }
        }
    }
}
