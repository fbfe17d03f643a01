package io.tripletflow.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.CoreOptions;

/**
 * Flink's own command line client ({@code bin/flink}: {@code CliFrontend}) as its own JVM, against
 * a {@link StandaloneFlinkCluster}, with the client's copy of the configuration
 * ({@code FLINK_CONF_DIR}) and the JVM options a script would give it.
 */
final class FlinkCommandLine {
    static final String MAIN = "org.apache.flink.client.cli.CliFrontend";
    private static final Pattern SUBMITTED = Pattern.compile("Job has been submitted with JobID ([0-9a-f]{32})");
    private static final Pattern SAVEPOINT = Pattern.compile("Savepoint completed\\. Path: (\\S+)");
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final FlinkConfigDirectory conf;
    private int calls;

    FlinkCommandLine(FlinkConfigDirectory conf) {
        this.conf = conf;
    }

    /**
     * {@code flink run -d -p P [-s SAVEPOINT] -C file:///dep.jar ... JAR ARGS}: submits the job and
     * returns its id.
     *
     * @param savepoint null to start without state
     */
    String run(Path jar, List<Path> userClassPath, int parallelism, String savepoint, List<String> jobArgs) {
        List<String> args = new ArrayList<>(List.of("run", "-d", "-p", Integer.toString(parallelism)));
        if (savepoint != null) {
            args.addAll(List.of("-s", savepoint));
        }
        for (Path dep : userClassPath) {
            args.addAll(List.of("-C", dep.toUri().toString()));
        }
        args.add(jar.toString());
        args.addAll(jobArgs);
        return find(SUBMITTED, call(args), "a job id");
    }

    /** {@code flink stop --savepointPath DIR JOB}: stops the job with a savepoint and returns the savepoint's path. */
    String stop(String jobId, Path savepointDir) {
        return find(SAVEPOINT, call(List.of("stop", "--savepointPath", savepointDir.toUri().toString(), jobId)),
                "a savepoint path");
    }

    /** {@code flink cancel JOB}. */
    void cancel(String jobId) {
        call(List.of("cancel", jobId));
    }

    /** Runs the client with {@code args}; returns its output, or throws with it if the client failed. */
    String call(List<String> args) {
        String name = "client-" + (++calls) + "-" + args.get(0);
        List<String> options = new ArrayList<>(StandaloneFlinkCluster.javaOptions(conf.load(), null,
                CoreOptions.FLINK_CLI_JVM_OPTIONS));
        options.addAll(conf.logSettings(name));
        JavaProcess client = JavaProcess.start("flink " + args.get(0), options, TestClassPath.flink(), MAIN, args,
                conf.logs().resolve(name + ".out"), Map.of("FLINK_CONF_DIR", conf.dir().toString()));
        int status = client.await(TIMEOUT);
        String output = client.output();
        if (status != 0) {
            throw new IllegalStateException("flink " + String.join(" ", args) + " exited with " + status + ":\n" + output);
        }
        return output;
    }

    private static String find(Pattern pattern, String output, String what) {
        Matcher m = pattern.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("no " + what + " in the client's output:\n" + output);
        }
        return m.group(1);
    }
}
