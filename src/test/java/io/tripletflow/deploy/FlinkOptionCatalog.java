package io.tripletflow.deploy;

import io.tripletflow.job.TripletFlowOptions;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URL;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;

/**
 * Every configuration key Flink 2.2 knows, collected reflectively from the {@code ConfigOption}
 * constants of Flink's {@code *Options} classes on the test class path (core, runtime, RocksDB,
 * Prometheus reporter, ...), plus tripletflow's {@link TripletFlowOptions#all()}. Knows the
 * templated keys ({@code external-resource.<resource_name>.amount}), the per-reporter keys
 * ({@code metrics.reporter.<name>.<option>}) and which keys are deprecated names of others.
 */
final class FlinkOptionCatalog {
    private static final Pattern REPORTER_KEY = Pattern.compile("(metrics|traces|events)\\.reporter\\.[^.]+\\.(.+)");

    private final Map<String, ConfigOption<?>> options = new TreeMap<>();
    private final Map<String, String> deprecatedKeys = new TreeMap<>();
    private final Map<Pattern, ConfigOption<?>> templates = new LinkedHashMap<>();
    private final Set<String> reporterOptions = new LinkedHashSet<>();
    private final Set<String> scannedClasses = new LinkedHashSet<>();

    FlinkOptionCatalog() throws IOException {
        Enumeration<URL> manifests = getClass().getClassLoader().getResources("META-INF/MANIFEST.MF");
        while (manifests.hasMoreElements()) {
            URL url = manifests.nextElement();
            if (!"jar".equals(url.getProtocol())) {
                continue;
            }
            JarFile jar = ((JarURLConnection) url.openConnection()).getJarFile();
            String name = jar.getName().replace('\\', '/');
            if (!name.substring(name.lastIndexOf('/') + 1).startsWith("flink-")) {
                continue;
            }
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                String entry = e.nextElement().getName();
                if (entry.startsWith("org/apache/flink/") && entry.endsWith("Options.class")
                        && !entry.contains("$") && !entry.contains("/shaded/")) {
                    scan(entry.substring(0, entry.length() - ".class".length()).replace('/', '.'));
                }
            }
        }
        for (ConfigOption<?> o : TripletFlowOptions.all()) {
            if (TripletFlowOptions.isPrefixMap(o)) { // tripletflow.kafka.<kafka-client-property>
                templates.put(Pattern.compile(Pattern.quote(o.key() + ".") + ".+"), o);
            } else {
                options.put(o.key(), o);
            }
        }
        // The Prometheus reporters' own parameters: the pull reporter's "port" is a plain string.
        reporterOptions.add(staticString("org.apache.flink.metrics.prometheus.PrometheusReporterFactory", "ARG_PORT"));
    }

    private void scan(String className) {
        Class<?> c;
        try {
            c = Class.forName(className, false, getClass().getClassLoader());
        } catch (Throwable t) {
            return; // optional dependencies of some classes are not on the test class path
        }
        scannedClasses.add(className);
        boolean reporterClass = className.endsWith(".MetricOptions") || className.endsWith(".TraceOptions")
                || className.endsWith(".EventOptions") || className.contains(".metrics.prometheus.");
        for (Field f : c.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != ConfigOption.class) {
                continue;
            }
            ConfigOption<?> o;
            try {
                f.setAccessible(true);
                o = (ConfigOption<?>) f.get(null);
            } catch (Throwable t) {
                continue;
            }
            String key = o.key();
            if (reporterClass && !key.startsWith("metrics.") && !key.startsWith("traces.") && !key.startsWith("events.")) {
                reporterOptions.add(key);
                continue;
            }
            if (key.contains("<")) {
                templates.put(template(key), o);
            } else {
                options.putIfAbsent(key, o);
            }
            for (FallbackKey k : o.fallbackKeys()) {
                if (k.isDeprecated()) {
                    deprecatedKeys.putIfAbsent(k.getKey(), key);
                }
            }
        }
    }

    private static Pattern template(String key) {
        // A placeholder stands for one segment, the last one for the rest of the key (a driver's
        // parameter such as external-resource.gpu.param.discovery-script.path).
        StringBuilder regex = new StringBuilder();
        String[] parts = key.split("(?=<)|(?<=>)");
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            boolean placeholder = part.startsWith("<") && part.endsWith(">");
            regex.append(placeholder ? (i == parts.length - 1 ? ".+" : "[^.]+") : Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }

    private static String staticString(String className, String field) {
        try {
            Field f = Class.forName(className).getDeclaredField(field);
            f.setAccessible(true);
            return (String) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + className + "." + field, e);
        }
    }

    /** The option of a key: an exact key or a template ({@code external-resource.<resource_name>.amount}). */
    Optional<ConfigOption<?>> option(String key) {
        ConfigOption<?> o = options.get(key);
        if (o != null) {
            return Optional.of(o);
        }
        for (Map.Entry<Pattern, ConfigOption<?>> e : templates.entrySet()) {
            if (e.getKey().matcher(key).matches()) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    /** Whether Flink or tripletflow knows the key (reporter keys by their per-reporter option). */
    boolean known(String key) {
        if (option(key).isPresent()) {
            return true;
        }
        var m = REPORTER_KEY.matcher(key);
        return m.matches() && reporterOptions.contains(m.group(2));
    }

    /** The current name of a deprecated key, if it is one. */
    Optional<String> replacementOf(String key) {
        return Optional.ofNullable(deprecatedKeys.get(key));
    }

    int size() {
        return options.size();
    }

    Set<String> reporterOptions() {
        return reporterOptions;
    }

    List<String> scannedClasses() {
        return List.copyOf(scannedClasses);
    }
}
