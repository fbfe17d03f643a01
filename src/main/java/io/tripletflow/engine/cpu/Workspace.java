package io.tripletflow.engine.cpu;

import java.util.Arrays;

/**
 * The CPU backend's buffers, grown to the largest batch (and memory) and reused: steady state
 * allocates nothing. Columns are the batch's rows, then the cross-batch memory's.
 */
final class Workspace {
    int rows;
    int dimension;
    int stride;
    /** Candidate columns: rows of the batch, then of the memory. */
    int columns;
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
    /** The memory's rows transposed, {@code dimension x memoryStride}, zero-padded. */
    float[] memoryTransposed = new float[0];
    int memoryStride;
    /** Memory row m normalised, for distances that normalise inside. */
    float[] memoryUnit = new float[0];
    float[] memoryNorms = new float[0];
    float[] memoryGramDiagonal = new float[0];
    /** With a memory: the distances of the batch's rows to every column, {@code stride x wideStride}. */
    float[] wide = new float[0];
    int wideStride;
    /** With a memory: the labels of the columns. */
    int[] columnLabels = new int[0];
    /** Coefficients of dL / d dis[i][j], {@code rows x columns}, row i's share; zero between batches. */
    float[] coefficients = new float[0];
    boolean[] rowTouched = new boolean[0];
    private int[] touched = new int[64];
    /** With {@link #indexTouched}: row i's touched columns are {@code rowColumns[rowStart[i] .. rowStart[i + 1])}. */
    int[] rowStart = new int[0];
    int[] rowColumns = new int[0];
    private int touchedCount;

    void ensure(int n, int d, int block, int memoryRows) {
        rows = n;
        dimension = d;
        columns = n + memoryRows;
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
        if (coefficients.length < (long) n * columns) {
            coefficients = new float[Math.toIntExact((long) n * columns)];
        }
        if (memoryRows > 0) {
            memoryStride = (memoryRows + block - 1) / block * block;
            wideStride = n + memoryStride;
            memoryTransposed = grow(memoryTransposed, (long) d * memoryStride);
            memoryUnit = grow(memoryUnit, (long) memoryRows * d);
            wide = grow(wide, (long) stride * wideStride);
            if (memoryNorms.length < memoryRows) {
                memoryNorms = new float[memoryRows];
                memoryGramDiagonal = new float[memoryRows];
            }
            if (columnLabels.length < columns) {
                columnLabels = new int[columns];
            }
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

    /** Loads the memory's rows: transposed for the cross product, their norms, and unit rows if asked. */
    void loadMemory(float[] m, int count, int d, boolean unitRows) {
        // Transposed in tiles, so that neither side is read or written a cache line per element.
        final int tile = 16;
        for (int j0 = 0; j0 < count; j0 += tile) {
            int j1 = Math.min(count, j0 + tile);
            for (int k0 = 0; k0 < d; k0 += tile) {
                int k1 = Math.min(d, k0 + tile);
                for (int j = j0; j < j1; j++) {
                    int from = j * d;
                    for (int k = k0; k < k1; k++) {
                        memoryTransposed[k * memoryStride + j] = m[from + k];
                    }
                }
            }
        }
        for (int k = 0; k < d; k++) {
            Arrays.fill(memoryTransposed, k * memoryStride + count, (k + 1) * memoryStride, 0f);
        }
        for (int j = 0; j < count; j++) {
            float squares = 0f;
            for (int k = 0; k < d; k++) {
                squares += m[j * d + k] * m[j * d + k];
            }
            memoryGramDiagonal[j] = squares;
            memoryNorms[j] = (float) Math.sqrt(squares);
            if (unitRows) {
                float norm = memoryNorms[j];
                for (int k = 0; k < d; k++) {
                    memoryUnit[j * d + k] = norm > 0f ? m[j * d + k] / norm : 0f;
                }
            }
        }
    }

    /**
     * Adds {@code value} to the coefficient of {@code dis[i][j]} on both ends; an end that is a
     * memory column ({@code >= rows}) is a constant and takes no gradient.
     */
    void addCoefficient(int i, int j, float value) {
        if (i < rows) {
            touch(i, j, value);
        }
        if (j < rows) {
            touch(j, i, value);
        }
    }

    private void touch(int row, int column, float value) {
        coefficients[row * columns + column] += value;
        rowTouched[row] = true;
        if (touchedCount == touched.length) {
            touched = Arrays.copyOf(touched, touched.length * 2);
        }
        touched[touchedCount++] = row * columns + column;
    }

    /**
     * Indexes the touched coefficients by row ({@link #rowStart}, {@link #rowColumns}: each row's
     * columns ascending, once each) when they are few; returns false when a dense scan is cheaper.
     */
    boolean indexTouched() {
        if (touchedCount > rows * columns / 8) {
            return false;
        }
        Arrays.sort(touched, 0, touchedCount);
        if (rowStart.length < rows + 1) {
            rowStart = new int[rows + 1];
        }
        if (rowColumns.length < touchedCount) {
            rowColumns = new int[touched.length];
        }
        int count = 0;
        int row = 0;
        rowStart[0] = 0;
        for (int t = 0; t < touchedCount; t++) {
            if (t > 0 && touched[t] == touched[t - 1]) {
                continue;
            }
            int r = touched[t] / columns;
            while (row < r) {
                rowStart[++row] = count;
            }
            rowColumns[count++] = touched[t] % columns;
        }
        while (row < rows) {
            rowStart[++row] = count;
        }
        return true;
    }

    /** Zeroes what {@link #addCoefficient} wrote, cheaply when few entries were touched. */
    void clearCoefficients() {
        int size = rows * columns;
        if (touchedCount > size / 8) {
            Arrays.fill(coefficients, 0, size, 0f);
        } else {
            for (int t = 0; t < touchedCount; t++) {
                coefficients[touched[t]] = 0f;
            }
        }
        Arrays.fill(rowTouched, 0, rows, false);
        touchedCount = 0;
    }
}
