package io.tripletflow.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** Files of the checkout (Surefire runs in the project directory) and what the pom says. */
final class Repo {
    private Repo() {}

    static Path root() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    static Path file(String relative) {
        return root().resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(file(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first group of {@code regex} in pom.xml. */
    static String pom(String regex) {
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(read("pom.xml"));
        if (!m.find()) {
            throw new AssertionError("pom.xml has no match for " + regex);
        }
        return m.group(1).trim();
    }

    /** {@code target/<artifactId>-<version>-<shade classifier>.jar}, the jar `flink run` takes. */
    static String jobJarName() {
        String artifact = pom("<groupId>io\\.tripletflow</groupId>\\s*<artifactId>([^<]+)</artifactId>");
        String version = pom("<artifactId>" + Pattern.quote(artifact) + "</artifactId>\\s*<version>([^<]+)</version>");
        String classifier = pom("<shadedClassifierName>([^<]+)</shadedClassifierName>");
        return artifact + "-" + version + "-" + classifier + ".jar";
    }

    /** Parses YAML with the snakeyaml-engine Flink itself uses; resolves compose-style {@code <<} merge keys. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(String relative) {
        Object doc = new Load(LoadSettings.builder().build()).loadFromString(read(relative));
        return (Map<String, Object>) resolveMerges(doc);
    }

    @SuppressWarnings("unchecked")
    private static Object resolveMerges(Object node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            Object merge = map.get("<<");
            if (merge instanceof Map<?, ?> base) {
                ((Map<String, Object>) resolveMerges(base)).forEach(out::put);
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!"<<".equals(e.getKey())) {
                    out.put(String.valueOf(e.getKey()), resolveMerges(e.getValue()));
                }
            }
            return out;
        }
        if (node instanceof List<?> list) {
            return list.stream().map(Repo::resolveMerges).toList();
        }
        return node;
    }
}
