package io.tripletflow.deploy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in for a Prometheus Pushgateway on 127.0.0.1: keeps the bodies that Flink's
 * {@code PrometheusPushGatewayReporter} pushes. The pushed text is what the pull reporter of
 * {@code flink-conf/config.yaml} serves on :9249 (both extend {@code AbstractPrometheusReporter}),
 * without opening a port on every interface as the pull reporter would.
 */
final class PushGatewayStub implements AutoCloseable {
    private final HttpServer server;
    private final List<String> bodies = new ArrayList<>();

    PushGatewayStub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                if (!body.isEmpty()) {
                    synchronized (bodies) {
                        bodies.add(body);
                    }
                }
            }
            exchange.sendResponseHeaders(202, -1);
            exchange.close();
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Every sample pushed so far. */
    List<PrometheusText.Sample> samples() {
        List<PrometheusText.Sample> out = new ArrayList<>();
        synchronized (bodies) {
            for (String b : bodies) {
                out.addAll(PrometheusText.parse(b));
            }
        }
        return out;
    }

    /** The samples of the newest push. */
    List<PrometheusText.Sample> latest() {
        synchronized (bodies) {
            return bodies.isEmpty() ? List.of() : PrometheusText.parse(bodies.get(bodies.size() - 1));
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
