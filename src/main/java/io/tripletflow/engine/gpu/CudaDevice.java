package io.tripletflow.engine.gpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
    private static final Logger LOG = LoggerFactory.getLogger(CudaDevice.class);
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
            // JCuda's message holds the nested stack traces of both load attempts (30-odd lines):
            // logs, metrics and the dashboard get the one line that says why.
            LOG.debug("the CUDA driver could not be loaded", e);
            return "no CUDA driver (" + why(e) + ")";
        } catch (CudaException e) {
            return "CUDA is not usable: " + e.getMessage();
        }
    }

    /**
     * One line for a failed load of JCuda's native library: the cause JCuda's loader reports last
     * (e.g. {@code libcuda.so.1: cannot open shared object file: No such file or directory}), else
     * the error's first line.
     */
    static String why(LinkageError e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        String cause = null;
        for (String line : message.split("\\R")) {
            String prefix = "java.lang.UnsatisfiedLinkError: ";
            if (line.startsWith(prefix)) {
                cause = line.substring(prefix.length());
            }
        }
        if (cause != null) {
            int soPath = cause.indexOf(".so: ");
            return soPath >= 0 && cause.startsWith("/") ? cause.substring(soPath + 5) : cause;
        }
        String first = message.lines().findFirst().orElse("");
        return e.getClass().getSimpleName() + (first.isEmpty() ? "" : ": " + first);
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
