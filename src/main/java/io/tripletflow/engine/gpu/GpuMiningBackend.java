package io.tripletflow.engine.gpu;

import static jcuda.driver.JCudaDriver.*;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.Anchors;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.MiningStep;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.engine.miner.Miner;
import io.tripletflow.engine.TripletTerms;
import io.tripletflow.engine.random.CounterRandom;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The whole mining step on a CUDA device through JCuda's driver API: Gram matrix, distances,
 * selection, loss terms and coefficients, gradient product (kernels in
 * {@code src/main/cuda/tripletflow.cu}, shipped as PTX). One upload (labels, anchors,
 * embeddings) and one download (selections, their distances, gradients) per batch, through
 * pinned buffers; device and pinned buffers grow to the largest batch and are reused.
 *
 * <p>Selections are bit-identical to the CPU backend (same float operations, no fused
 * multiply-add); the loss and statistics come from the same ordered pass ({@link TripletTerms})
 * on the host; only the gradient product sums in another order. Options the device does not run
 * ({@link #unsupported}) stay on the CPU.
 *
 * <p>Every operator has its own stream on the device's primary context, so several slots of one
 * TaskManager share a device.
 */
public final class GpuMiningBackend extends MiningStep {
    static final String PTX_RESOURCE = "/cuda/tripletflow.ptx";
    static final List<String> KERNELS = List.of(
            "gram", "diagonal", "distances", "unit_rows", "mine", "evaluate", "weights", "gradient_product", "finish_rows");
    private static final int TILE = 16;

    private final Miner miner;
    private final int deviceIndex;
    private final String deviceName;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final CUstream stream = new CUstream();
    private final CUfunction gram = new CUfunction();
    private final CUfunction diagonal = new CUfunction();
    private final CUfunction distances = new CUfunction();
    private final CUfunction unitRows = new CUfunction();
    private final CUfunction mine = new CUfunction();
    private final CUfunction evaluate = new CUfunction();
    private final CUfunction weights = new CUfunction();
    private final CUfunction gradientProduct = new CUfunction();
    private final CUfunction finishRows = new CUfunction();
    private final CUevent[] events = {new CUevent(), new CUevent(), new CUevent(), new CUevent()};
    private final DeviceBuffers buffers = new DeviceBuffers();
    private final float[] phaseMillis = new float[3];
    private int[] labelBuffer = new int[0];
    private boolean closed;

    /** Why these options cannot run on the GPU, or null when they can. */
    public static String unsupported(MiningOptions options) {
        if (options.rng() == RngKind.SEED_COMPAT) {
            return "rng = seed-compat (the seed's MT19937 replay, one sequential stream) runs on the CPU only";
        }
        if (options.positives() == PositivesKind.ALL) {
            return "positives = all runs on the CPU only";
        }
        if (options.memoryRows() > 0 && options.memoryPositives()) {
            return "memory-positives = true (several positives per anchor) runs on the CPU only";
        }
        return null;
    }

    public GpuMiningBackend(MiningOptions options, int deviceIndex) {
        super(options);
        String notSupported = unsupported(options);
        if (notSupported != null) {
            throw new IllegalArgumentException(notSupported);
        }
        String unavailable = CudaDevice.unavailable(deviceIndex);
        if (unavailable != null) {
            throw new IllegalStateException(unavailable);
        }
        this.miner = Miner.of(options.miner());
        this.deviceIndex = deviceIndex;
        this.deviceName = CudaDevice.name(deviceIndex);
        cuDeviceGet(device, deviceIndex);
        cuDevicePrimaryCtxRetain(context, device);
        boolean ready = false;
        try {
            cuCtxSetCurrent(context);
            cuModuleLoadData(module, ptx());
            CUfunction[] functions = {gram, diagonal, distances, unitRows, mine, evaluate, weights, gradientProduct, finishRows};
            for (int i = 0; i < functions.length; i++) {
                cuModuleGetFunction(functions[i], module, KERNELS.get(i));
            }
            cuStreamCreate(stream, jcuda.driver.CUstream_flags.CU_STREAM_NON_BLOCKING);
            for (CUevent e : events) {
                cuEventCreate(e, 0);
            }
            ready = true;
        } finally {
            if (!ready) {
                close();
            }
        }
    }

    static String ptx() {
        try (InputStream in = GpuMiningBackend.class.getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + PTX_RESOURCE + " missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String describe() {
        return "gpu (" + deviceName + ", device " + deviceIndex + ")";
    }

    /** Upload, device work and download of the last batch, in ms (CUDA events). */
    public float[] lastPhaseMillis() {
        return phaseMillis.clone();
    }

    /** Selection slots of each anchor (one positive each on the device): the most its miner can pick. */
    static int capacity(Miner miner, MiningOptions o, int n) {
        return miner.pairCapacity(n, o.negNum(), o.hardNum(), o.randNum());
    }

    @Override
    protected void runKernels(EmbeddingBatch batch, MemoryRows memory, Anchors anchors, TripletTerms terms,
                              float[] gradients) {
        // With a memory the device sees one problem of n = batch + memory rows (columns); only the
        // batch's rows are anchors and get gradients.
        int rows = batch.rows();
        int d = batch.dimension();
        int n = rows + memory.count();
        int anchorCount = anchors.count();
        int capacity = capacity(miner, options, n);
        cuCtxSetCurrent(context);
        DeviceBuffers b = buffers;
        b.ensure(n, d, capacity);
        OutLayout out = new OutLayout(anchorCount, capacity, n, d);
        int[] labelValues = columnLabels(batch, memory);

        IntBuffer inInts = b.hostIn.getByteBuffer(0, b.inBytes(n, d)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        inInts.put(labelValues, 0, n);
        inInts.put(anchors.array(), 0, anchorCount);
        FloatBuffer inFloats = b.hostIn.getByteBuffer(8L * n, 4L * n * d).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        inFloats.put(batch.embeddings(), 0, rows * d);
        inFloats.put(memory.embeddings(), 0, memory.count() * d);

        CUdeviceptr labels = b.in;
        CUdeviceptr anchorRows = b.in.withByteOffset(4L * n);
        CUdeviceptr f = b.in.withByteOffset(8L * n);
        cuEventRecord(events[0], stream);
        cuMemcpyHtoDAsync(b.in, b.hostIn, b.inBytes(n, d), stream);
        cuEventRecord(events[1], stream);

        int tiles = (n + TILE - 1) / TILE;
        launch(gram, tiles, tiles, TILE, TILE, f, n, d, b.gram, n);
        launch(diagonal, (n + 255) / 256, 1, 256, 1, b.gram, n, n, b.diag, b.norm);
        launch(distances, tiles, tiles, TILE, TILE, b.gram, n, n, options.distance().ordinal(), b.diag, b.norm);
        boolean cosine = distance.normalisesInside();
        CUdeviceptr basis = f;
        if (cosine) {
            launch(unitRows, (int) ((n * (long) d + 255) / 256), 1, 256, 1, f, n, d, b.norm, b.unit);
            basis = b.unit;
        }
        cuMemsetD32Async(b.coefficients, 0, (long) n * n, stream);
        long batchKey = CounterRandom.batchKey(options.rngSeed(), batch.streamKey(), batch.batchId());
        CUdeviceptr selectedCount = b.out.withByteOffset(out.selectedCount);
        CUdeviceptr candidates = b.out.withByteOffset(out.candidates);
        CUdeviceptr selected = b.out.withByteOffset(out.selected);
        CUdeviceptr records = b.out.withByteOffset(out.records);
        CUdeviceptr product = b.out.withByteOffset(out.gradients);
        int anchorBlocks = Math.max(1, (anchorCount + 127) / 128);
        if (anchorCount > 0) {
            launch(mine, anchorBlocks, 1, 128, 1, b.gram, n, labels, n, anchorRows, anchorCount,
                    options.miner().ordinal(), options.margin(), options.negNum(), options.hardNum(), options.randNum(),
                    batchKey, b.scratch, capacity, selected, selectedCount, candidates);
            launch(evaluate, anchorBlocks, 1, 128, 1, b.gram, n, anchorRows, anchorCount, n, rows,
                    options.loss().ordinal(), options.margin(), selected, selectedCount, capacity, records, b.coefficients);
        }
        launch(weights, n, 1, 256, 1, b.coefficients, b.gram, n, n, options.distance().ordinal(), b.alpha);
        launch(gradientProduct, (d + TILE - 1) / TILE, tiles, TILE, TILE, b.coefficients, basis, n, d, product);
        launch(finishRows, n, 1, 256, 1, product, basis, b.alpha, b.norm, n, d, cosine ? 1 : 0);
        cuEventRecord(events[2], stream);
        long download = out.gradients + 4L * rows * d;
        cuMemcpyDtoHAsync(b.hostOut, b.out, download, stream);
        cuEventRecord(events[3], stream);
        cuStreamSynchronize(stream);
        recordPhases();

        ByteBuffer host = b.hostOut.getByteBuffer(0, download).order(ByteOrder.LITTLE_ENDIAN);
        feed(terms, anchors, labelValues, capacity,
                slice(host, out.selectedCount).asIntBuffer(), slice(host, out.candidates).asIntBuffer(),
                slice(host, out.selected).asIntBuffer(), slice(host, out.records).asFloatBuffer());
        slice(host, out.gradients).asFloatBuffer().get(gradients, 0, rows * d);
    }

    /** The labels of the columns: the batch's rows, then the memory's. */
    private int[] columnLabels(EmbeddingBatch batch, MemoryRows memory) {
        if (memory.count() == 0) {
            return batch.labels();
        }
        int rows = batch.rows();
        if (labelBuffer.length < rows + memory.count()) {
            labelBuffer = new int[rows + memory.count()];
        }
        System.arraycopy(batch.labels(), 0, labelBuffer, 0, rows);
        for (int m = 0; m < memory.count(); m++) {
            labelBuffer[rows + m] = memory.label(m);
        }
        return labelBuffer;
    }

    private static ByteBuffer slice(ByteBuffer host, long offset) {
        return host.duplicate().position((int) offset).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The ordered pass over what the device selected ({@code selected[k * capacity + t]}, bit 31 =
     * random pick; {@code counts[k]} of them for anchor k) with their distances ({@code records}:
     * dis(a,p), dis(a,n), dis(p,n)), fed to {@code terms} as the CPU backend feeds it.
     */
    static void feed(TripletTerms terms, Anchors anchors, int[] labels, int capacity, IntBuffer counts,
                     IntBuffer candidates, IntBuffer selected, FloatBuffer records) {
        for (int k = 0; k < anchors.count(); k++) {
            int a = anchors.get(k);
            terms.beginAnchor(candidates.get(k));
            int m = counts.get(k);
            for (int t = 0; t < m; t++) {
                int at = k * capacity + t;
                int code = selected.get(at);
                terms.add(a, a + 1, code & 0x7fffffff, code >= 0,
                        records.get(3 * at), records.get(3 * at + 1), records.get(3 * at + 2));
            }
            terms.endAnchor(labels, a);
        }
    }

    private void recordPhases() {
        float[] ms = new float[1];
        cuEventElapsedTime(ms, events[0], events[1]);
        phaseMillis[0] = ms[0];
        cuEventElapsedTime(ms, events[1], events[2]);
        phaseMillis[1] = ms[0];
        cuEventElapsedTime(ms, events[2], events[3]);
        phaseMillis[2] = ms[0];
    }

    /** Launches a kernel on this backend's stream; arguments are device pointers, ints, floats or longs. */
    private void launch(CUfunction kernel, int gridX, int gridY, int blockX, int blockY, Object... args) {
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof CUdeviceptr) params[i] = Pointer.to((CUdeviceptr) a);
            else if (a instanceof Integer) params[i] = Pointer.to(new int[] {(Integer) a});
            else if (a instanceof Float) params[i] = Pointer.to(new float[] {(Float) a});
            else if (a instanceof Long) params[i] = Pointer.to(new long[] {(Long) a});
            else throw new IllegalArgumentException("kernel argument of type " + a.getClass());
        }
        cuLaunchKernel(kernel, gridX, gridY, 1, blockX, blockY, 1, 0, stream, Pointer.to(params), null);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            cuCtxSetCurrent(context);
            buffers.free();
            for (CUevent e : events) {
                cuEventDestroy(e);
            }
            cuStreamDestroy(stream);
            cuModuleUnload(module);
        } catch (RuntimeException | LinkageError e) {
            // Freeing after a failed start: some handles were never created.
        } finally {
            try {
                cuDevicePrimaryCtxRelease(device);
            } catch (RuntimeException | LinkageError ignored) {
                // The context is gone with the driver.
            }
        }
    }

    /** Byte offsets of the download region for one batch. */
    private static final class OutLayout {
        final long selectedCount;
        final long candidates;
        final long selected;
        final long records;
        final long gradients;
        final long bytes;

        OutLayout(int anchorCount, int capacity, int n, int d) {
            selectedCount = 0;
            candidates = 4L * anchorCount;
            selected = candidates + 4L * anchorCount;
            records = selected + 4L * anchorCount * capacity;
            gradients = align(records + 12L * anchorCount * capacity);
            bytes = gradients + 4L * n * d;
        }

        static long align(long offset) {
            return (offset + 255) / 256 * 256;
        }

        static long maxBytes(int n, int d, int capacity) {
            return new OutLayout(n, capacity, n, d).bytes;
        }
    }

    /** Device and pinned host buffers, grown to the largest batch. */
    private static final class DeviceBuffers {
        int rows = -1;
        int dimension = -1;
        int capacity = -1;
        final CUdeviceptr in = new CUdeviceptr();
        final CUdeviceptr gram = new CUdeviceptr();
        final CUdeviceptr diag = new CUdeviceptr();
        final CUdeviceptr norm = new CUdeviceptr();
        final CUdeviceptr unit = new CUdeviceptr();
        final CUdeviceptr alpha = new CUdeviceptr();
        final CUdeviceptr coefficients = new CUdeviceptr();
        final CUdeviceptr scratch = new CUdeviceptr();
        final CUdeviceptr out = new CUdeviceptr();
        final Pointer hostIn = new Pointer();
        final Pointer hostOut = new Pointer();
        boolean allocated;

        long inBytes(int n, int d) {
            return 8L * n + 4L * n * d;
        }

        void ensure(int n, int d, int cap) {
            if (allocated && n <= rows && d <= dimension && cap <= capacity) {
                return;
            }
            free();
            rows = Math.max(n, rows);
            dimension = Math.max(d, dimension);
            capacity = Math.max(cap, capacity);
            long r = rows;
            long dd = dimension;
            cuMemAlloc(in, inBytes(rows, dimension));
            cuMemAlloc(gram, 4 * r * r);
            cuMemAlloc(diag, 4 * r);
            cuMemAlloc(norm, 4 * r);
            cuMemAlloc(unit, 4 * r * dd);
            cuMemAlloc(alpha, 4 * r);
            cuMemAlloc(coefficients, 4 * r * r);
            cuMemAlloc(scratch, 8 * r * r);
            long outBytes = OutLayout.maxBytes(rows, dimension, capacity);
            cuMemAlloc(out, outBytes);
            cuMemAllocHost(hostIn, inBytes(rows, dimension));
            cuMemAllocHost(hostOut, outBytes);
            allocated = true;
        }

        void free() {
            if (!allocated) {
                return;
            }
            for (CUdeviceptr p : new CUdeviceptr[] {in, gram, diag, norm, unit, alpha, coefficients, scratch, out}) {
                cuMemFree(p);
            }
            cuMemFreeHost(hostIn);
            cuMemFreeHost(hostOut);
            allocated = false;
        }
    }
}
