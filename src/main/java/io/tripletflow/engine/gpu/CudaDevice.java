package io.tripletflow.engine.gpu;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.CudaException;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * Whether this process can use a CUDA device: a driver (JCuda's native library and libcuda) and a
 * device with the given index. Without a driver JCuda's first call throws
 * {@link UnsatisfiedLinkError} and later ones {@link NoClassDefFoundError}: both are
 * {@link LinkageError}s.
 */
public final class CudaDevice {
    private CudaDevice() {}

    /** Null when device {@code index} can be used, otherwise why not, in words. */
    public static String unavailable(int index) {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                return "the CUDA driver reports no device";
            }
            if (index < 0 || index >= count[0]) {
                return "device index " + index + " is out of range: the driver reports " + count[0] + " device(s)";
            }
            return null;
        } catch (LinkageError e) {
            return "no CUDA driver (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
        } catch (CudaException e) {
            return "CUDA is not usable: " + e.getMessage();
        }
    }

    /** The device's name, for logs and metrics. */
    public static String name(int index) {
        CUdevice device = new CUdevice();
        cuDeviceGet(device, index);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int end = 0;
        while (end < name.length && name[end] != 0) end++;
        return new String(name, 0, end, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
