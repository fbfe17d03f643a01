package io.tripletflow.engine.cpu;

import java.util.Arrays;

/** The CPU backend's buffers, grown to the largest batch and reused: steady state allocates nothing. */
final class Workspace {
    int rows;
    int dimension;
    int stride;
    /** Rows of f zero-padded to {@code stride} rows. */
    float[] padded = new float[0];
    /** f transposed, {@code dimension x stride}, zero-padded. */
    float[] transposed = new float[0];
    /** The Gram matrix, then the distances, {@code stride x stride}. */
    float[] matrix = new float[0];
    /** f / |f|, the basis of the gradient for distances that normalise inside. */
    float[] unit = new float[0];
    float[] norms = new float[0];
    float[] gramDiagonal = new float[0];
    int[] anchorOwner = new int[0];
    int[] anchorStart = new int[0];
    int[] anchorLength = new int[0];
    int[] anchorCandidates = new int[0];
    /** Symmetric coefficients of dL / d dis[i][j], {@code rows x rows}; zero between batches. */
    float[] coefficients = new float[0];
    boolean[] rowTouched = new boolean[0];
    private int[] touched = new int[64];
    private int touchedCount;

    void ensure(int n, int d, int block) {
        rows = n;
        dimension = d;
        stride = (n + block - 1) / block * block;
        padded = grow(padded, (long) stride * d);
        transposed = grow(transposed, (long) stride * d);
        matrix = grow(matrix, (long) stride * stride);
        unit = grow(unit, (long) n * d);
        if (norms.length < n) {
            norms = new float[n];
            gramDiagonal = new float[n];
            anchorOwner = new int[n];
            anchorStart = new int[n];
            anchorLength = new int[n];
            anchorCandidates = new int[n];
            rowTouched = new boolean[n];
        }
        if (coefficients.length < (long) n * n) {
            coefficients = new float[Math.toIntExact((long) n * n)];
        }
    }

    private static float[] grow(float[] a, long size) {
        return a.length >= size ? a : new float[Math.toIntExact(size)];
    }

    /** Copies the batch into the padded, transposed and (if asked) unit-normalised layouts. */
    void load(float[] f, int n, int d, boolean unitRows) {
        System.arraycopy(f, 0, padded, 0, n * d);
        Arrays.fill(padded, n * d, stride * d, 0f);
        for (int k = 0; k < d; k++) {
            int row = k * stride;
            for (int j = 0; j < n; j++) {
                transposed[row + j] = f[j * d + k];
            }
            Arrays.fill(transposed, row + n, row + stride, 0f);
        }
        if (unitRows) {
            for (int i = 0; i < n; i++) {
                float squares = 0f;
                for (int k = 0; k < d; k++) {
                    squares += f[i * d + k] * f[i * d + k];
                }
                float norm = (float) Math.sqrt(squares);
                for (int k = 0; k < d; k++) {
                    unit[i * d + k] = norm > 0f ? f[i * d + k] / norm : 0f;
                }
            }
        }
    }

    void addCoefficient(int i, int j, float value) {
        coefficients[i * rows + j] += value;
        coefficients[j * rows + i] += value;
        rowTouched[i] = true;
        rowTouched[j] = true;
        if (touchedCount == touched.length) {
            touched = Arrays.copyOf(touched, touched.length * 2);
        }
        touched[touchedCount++] = i * rows + j;
    }

    /** Zeroes what {@link #addCoefficient} wrote, cheaply when few entries were touched. */
    void clearCoefficients(int n) {
        if (touchedCount > n * n / 8) {
            Arrays.fill(coefficients, 0, n * n, 0f);
        } else {
            for (int t = 0; t < touchedCount; t++) {
                int i = touched[t] / n;
                int j = touched[t] % n;
                coefficients[i * n + j] = 0f;
                coefficients[j * n + i] = 0f;
            }
        }
        Arrays.fill(rowTouched, 0, n, false);
        touchedCount = 0;
    }
}
