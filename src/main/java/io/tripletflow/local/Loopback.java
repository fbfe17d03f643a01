package io.tripletflow.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** The loopback address everything of a local run binds to, and its ports. */
public final class Loopback {
    /** Local mode, its broker, its Flink cluster and the tests listen here and nowhere else. */
    public static final String HOST = "127.0.0.1";

    private Loopback() {
    }

    /** A port that was free on {@link #HOST} a moment ago. */
    public static int freePort() {
        try (ServerSocket s = bound(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code port} on {@link #HOST} can be bound now. */
    public static boolean isFree(int port) {
        try (ServerSocket s = bound(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static ServerSocket bound(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }
}
