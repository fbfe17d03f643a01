package io.tripletflow.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The TCP ports that processes listen on, read from Linux's {@code /proc} (the sockets among each
 * process's file descriptors, matched against {@code /proc/net/tcp} and {@code tcp6}): to show
 * that everything the tests start listens on the loopback address only.
 */
final class ListeningSockets {
    /** One listening socket: the process, the local address as text, the port. */
    record Listener(String process, String address, int port) {
        boolean loopback() {
            return address.equals("127.0.0.1") || address.equals("::1") || address.equals("::ffff:127.0.0.1");
        }

        @Override
        public String toString() {
            return process + " " + address + ":" + port;
        }
    }

    private ListeningSockets() {}

    /** Whether this system has the files this class reads. */
    static boolean available() {
        return Files.isReadable(Path.of("/proc/net/tcp"));
    }

    /** Every listening TCP socket of the given processes. */
    static List<Listener> of(List<JavaProcess> processes) throws IOException {
        Map<Long, String[]> listening = new HashMap<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.isReadable(p)) {
                continue;
            }
            List<String> lines = Files.readAllLines(p);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[3].equals("0A")) {   // TCP_LISTEN
                    listening.put(Long.parseLong(f[9]), f[1].split(":"));
                }
            }
        }
        List<Listener> out = new ArrayList<>();
        for (JavaProcess process : processes) {
            for (long inode : socketInodes(process.pid())) {
                String[] local = listening.get(inode);
                if (local != null) {
                    out.add(new Listener(process.name(), address(local[0]), Integer.parseInt(local[1], 16)));
                }
            }
        }
        return out;
    }

    private static Set<Long> socketInodes(long pid) throws IOException {
        Set<Long> inodes = new java.util.HashSet<>();
        Path fds = Path.of("/proc", Long.toString(pid), "fd");
        try (var links = Files.list(fds)) {
            for (Path fd : links.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor went away while we listed them
                }
            }
        }
        return inodes;
    }

    /** The address of /proc/net/tcp{,6}: 32-bit words in host (little-endian) order. */
    static String address(String hex) {
        if (hex.length() == 8) {
            return ipv4(hex);
        }
        if (hex.startsWith("0000000000000000FFFF0000")) {
            return "::ffff:" + ipv4(hex.substring(24));
        }
        if (hex.equals("00000000000000000000000001000000")) {
            return "::1";
        }
        if (hex.equals("00000000000000000000000000000000")) {
            return "::";
        }
        return hex;
    }

    private static String ipv4(String hex) {
        long v = Long.parseLong(hex, 16);
        return (v & 0xff) + "." + ((v >> 8) & 0xff) + "." + ((v >> 16) & 0xff) + "." + ((v >> 24) & 0xff);
    }
}
