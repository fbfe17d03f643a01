package io.tripletflow.testutils;

import io.tripletflow.local.EmbeddedKafkaBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for {@code 127.0.0.1}, made with the JDK's {@code keytool}: the
 * broker's key store and the clients' trust store (PKCS12), and the certificate as PEM (for
 * librdkafka's {@code ssl.ca.location}). One random password protects both stores.
 *
 * <pre>{@code
 * SelfSignedTls tls = SelfSignedTls.generate(Files.createTempDirectory("tls-"));
 * EmbeddedKafkaBroker.builder().saslSslListener(tls.saslSslListener("SCRAM-SHA-512", Map.of("alice", pw)));
 * Map<String, String> client = tls.clientProperties();   // ssl.truststore.*
 * }</pre>
 */
public record SelfSignedTls(Path keyStore, Path trustStore, Path certificatePem, String password) {

    /** Generates the stores into {@code dir} (a few hundred ms). */
    public static SelfSignedTls generate(Path dir) {
        String password = "tls-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
        Path keyStore = dir.resolve("broker.p12");
        Path pem = dir.resolve("broker.pem");
        Path trustStore = dir.resolve("truststore.p12");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", password, "-keypass", password);
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keyStore.toString(), "-storepass", password,
                "-file", pem.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", pem.toString(),
                "-storetype", "PKCS12", "-keystore", trustStore.toString(), "-storepass", password);
        return new SelfSignedTls(keyStore, trustStore, pem, password);
    }

    /** The broker's {@code SASL_SSL} listener with this certificate and these SCRAM users. */
    public EmbeddedKafkaBroker.SaslSslListener saslSslListener(String mechanism, Map<String, String> users) {
        return new EmbeddedKafkaBroker.SaslSslListener(mechanism, keyStore, password, users);
    }

    /** What a Java Kafka client needs to trust the broker: {@code ssl.truststore.*}. */
    public Map<String, String> clientProperties() {
        return Map.of("ssl.truststore.location", trustStore.toString(),
                "ssl.truststore.password", password,
                "ssl.truststore.type", "PKCS12");
    }

    private static void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed: " + new String(out, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }
}
