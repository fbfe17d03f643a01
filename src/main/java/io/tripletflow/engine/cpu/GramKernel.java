package io.tripletflow.engine.cpu;

/**
 * The Gram matrix {@code g[i][j] = dot(f_i, f_j)} of a batch, the one O(N^2 D) product of the
 * mining step.
 *
 * <p>Every implementation accumulates each dot product over {@code k = 0..D-1} in order, one
 * float multiply then one float add per step, exactly as the seed's loop: blocking and
 * vectorisation run across {@code j}, never across {@code k}. So every backend, thread count
 * and vector width gives bit-identical distances, and near-ties are broken the seed's way.
 */
interface GramKernel {

    /**
     * Computes {@code g[i * stride + j]} for {@code i, j < rows}.
     *
     * @param transposed {@code f} transposed and zero-padded: {@code f_j[k]} at
     *     {@code transposed[k * stride + j]}, {@code stride >= rows} a multiple of {@link #columnBlock()}
     * @param padded the rows of {@code f}, zero-padded to {@code stride} rows of {@code dimension}
     */
    void gram(float[] padded, float[] transposed, int rows, int dimension, int stride, float[] g, WorkerPool pool);

    /**
     * The cross products with other rows (the cross-batch memory's): {@code g[i * gStride + offset + j]
     * = dot(f_i, m_j)} for {@code i < rows} and {@code j < columnStride}, accumulated as in
     * {@link #gram}, so the same bits as if the rows were in one batch. Rows up to the next
     * multiple of {@link #columnBlock()} may be written.
     *
     * @param padded the rows of {@code f}, zero-padded to a multiple of {@link #columnBlock()} rows
     * @param transposed {@code m_j[k]} at {@code transposed[k * columnStride + j]}, {@code columnStride} a
     *     multiple of {@link #columnBlock()}, zero-padded
     */
    void cross(float[] padded, int rows, int dimension, float[] transposed, int columnStride, float[] g, int gStride,
               int offset, WorkerPool pool);

    /** The multiple {@code stride} must be of. */
    int columnBlock();

    String describe();
}
