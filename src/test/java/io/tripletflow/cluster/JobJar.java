package io.tripletflow.cluster;

import io.tripletflow.job.TripletFlowJob;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The job jar for {@code flink run}, built from the compiled classes: the tests run before
 * {@code package} makes the shaded jar. It holds the job's classes and resources with
 * {@code Main-Class} {@link TripletFlowJob}; the dependencies the shaded jar would bundle go on the
 * user class path instead ({@code flink run -C}, {@link TestClassPath#jobDependencies()}).
 */
final class JobJar {
    private JobJar() {}

    /**
     * Writes {@code jar} from {@code classes}, with {@code version} as the manifest's
     * {@code Implementation-Version} and {@code extraResources} (path in the jar to content) added.
     */
    static Path build(Path classes, Path jar, String version, Map<String, String> extraResources) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.put(Attributes.Name.MAIN_CLASS, TripletFlowJob.class.getName());
        main.put(Attributes.Name.IMPLEMENTATION_TITLE, "tripletflow");
        main.put(Attributes.Name.IMPLEMENTATION_VERSION, version);
        Files.createDirectories(jar.getParent());
        try (OutputStream file = Files.newOutputStream(jar);
             JarOutputStream out = new JarOutputStream(file, manifest);
             Stream<Path> walk = Files.walk(classes)) {
            List<Path> files = walk.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).toList();
            for (Path f : files) {
                String name = classes.relativize(f).toString().replace('\\', '/');
                if (name.equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                out.putNextEntry(new JarEntry(name));
                Files.copy(f, out);
                out.closeEntry();
            }
            for (Map.Entry<String, String> r : extraResources.entrySet()) {
                out.putNextEntry(new JarEntry(r.getKey()));
                out.write(r.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return jar;
    }
}
