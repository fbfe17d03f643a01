package io.tripletflow.cluster;

import io.tripletflow.local.Loopback;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

/**
 * A Flink 2.2 standalone session cluster made of Flink's own entry points, each its own JVM, as
 * {@code bin/jobmanager.sh} and {@code bin/taskmanager.sh} start them: the JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}), with
 * {@code --configDir} holding {@link FlinkConfigDirectory}'s {@code config.yaml} (the project's
 * {@code flink-conf/config.yaml}, bound to 127.0.0.1). Since no script starts them, this class
 * does what the scripts do: the {@code env.java.*} options of the file (Flink's Java 17
 * {@code --add-opens}/{@code --add-exports} list and the job's module) and the memory options that
 * {@code BashJavaUtils} derives from the configuration go on each command line.
 *
 * <p>The class path is Flink's modules from the test run ({@link TestClassPath#flink()}): there is
 * no {@code flink-dist} here.
 */
final class StandaloneFlinkCluster implements AutoCloseable {
    static final String JOB_MANAGER = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

    private final FlinkConfigDirectory conf;
    private final FlinkRest rest;
    private final JavaProcess jobManager;
    private final Map<String, JavaProcess> taskManagers = new LinkedHashMap<>();
    private int nextTaskManager = 1;

    private StandaloneFlinkCluster(FlinkConfigDirectory conf, JavaProcess jobManager) {
        this.conf = conf;
        this.rest = new FlinkRest("http://" + Loopback.HOST + ":" + conf.restPort());
        this.jobManager = jobManager;
    }

    /** Starts the JobManager and {@code taskManagers} TaskManagers; returns once all are registered. */
    static StandaloneFlinkCluster start(FlinkConfigDirectory conf, int taskManagers) throws Exception {
        Configuration c = conf.load();
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(c);
        List<String> options = new ArrayList<>(javaOptions(c, CoreOptions.FLINK_DEFAULT_JM_JVM_OPTIONS,
                CoreOptions.FLINK_JM_JVM_OPTIONS));
        options.addAll(words(JobManagerProcessUtils.generateJvmParametersStr(spec, c)));
        options.addAll(conf.logSettings("jobmanager"));
        List<String> args = new ArrayList<>(List.of("--configDir", conf.dir().toString()));
        args.addAll(words(JobManagerProcessUtils.generateDynamicConfigsStr(spec)));
        JavaProcess jm = JavaProcess.start("jobmanager", options, TestClassPath.flink(), JOB_MANAGER, args,
                conf.logs().resolve("jobmanager.out"), Map.of());
        StandaloneFlinkCluster cluster = new StandaloneFlinkCluster(conf, jm);
        try {
            for (int i = 0; i < taskManagers; i++) {
                cluster.startTaskManager();
            }
            cluster.awaitTaskManagers(taskManagers, Duration.ofSeconds(90));
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * The JVM options a Flink script gives {@code component}: {@code env.java.default-opts.all},
     * {@code env.java.opts.all}, then the component's own default and extra options.
     */
    static List<String> javaOptions(Configuration c, ConfigOption<String> componentDefaults,
                                    ConfigOption<String> component) {
        List<String> options = new ArrayList<>();
        options.addAll(words(c.get(CoreOptions.FLINK_DEFAULT_JVM_OPTIONS)));
        options.addAll(words(c.get(CoreOptions.FLINK_JVM_OPTIONS)));
        if (componentDefaults != null) {
            options.addAll(words(c.get(componentDefaults)));
        }
        options.addAll(words(c.get(component)));
        return options;
    }

    static List<String> words(String s) {
        return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }

    /** Starts one more TaskManager, with resource id {@code tm-N}; returns that id (it registers by itself). */
    String startTaskManager() {
        String id = "tm-" + nextTaskManager++;
        Configuration c = conf.load();
        c.setString("taskmanager.resource-id", id);
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(c);
        List<String> options = new ArrayList<>(javaOptions(c, CoreOptions.FLINK_DEFAULT_TM_JVM_OPTIONS,
                CoreOptions.FLINK_TM_JVM_OPTIONS));
        options.addAll(words(ProcessMemoryUtils.generateJvmParametersStr(spec)));
        options.addAll(conf.logSettings("taskmanager-" + id));
        List<String> args = new ArrayList<>(List.of("--configDir", conf.dir().toString(),
                "-D", "taskmanager.resource-id=" + id));
        args.addAll(words(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec)));
        taskManagers.put(id, JavaProcess.start("taskmanager " + id, options, TestClassPath.flink(), TASK_MANAGER, args,
                conf.logs().resolve("taskmanager-" + id + ".out"), Map.of()));
        return id;
    }

    /** {@code kill -9} of a TaskManager's JVM. */
    void kill(String taskManager) {
        taskManagers.remove(taskManager).kill();
    }

    /** Waits until {@code count} TaskManagers are registered with the JobManager. */
    void awaitTaskManagers(int count, Duration timeout) throws Exception {
        Waits.until("TaskManagers registered: " + count, timeout, () -> {
            if (!jobManager.isAlive()) {
                throw new IllegalStateException("the JobManager exited:\n" + jobManager.output());
            }
            try {
                return rest.taskManagers().size() >= count;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    /** Waits until the TaskManager {@code id} is registered with the JobManager. */
    void awaitRegistered(String id, Duration timeout) throws Exception {
        Waits.until("TaskManager " + id + " registered", timeout,
                () -> rest.taskManagers().stream().anyMatch(tm -> id.equals(tm.get("id"))));
    }

    /** The ids of the TaskManagers that run tasks now (fewer free slots than slots). */
    List<String> taskManagersWithTasks() throws IOException {
        return rest.taskManagers().stream()
                .filter(tm -> ((Number) tm.get("freeSlots")).intValue() < ((Number) tm.get("slotsNumber")).intValue())
                .map(tm -> (String) tm.get("id"))
                .filter(taskManagers::containsKey)
                .toList();
    }

    /** Every JVM of the cluster that runs now (the JobManager first). */
    List<JavaProcess> processes() {
        List<JavaProcess> all = new ArrayList<>();
        all.add(jobManager);
        all.addAll(taskManagers.values());
        return all;
    }

    FlinkRest rest() {
        return rest;
    }

    FlinkConfigDirectory conf() {
        return conf;
    }

    /** Kills every TaskManager and the JobManager. */
    @Override
    public void close() {
        List<JavaProcess> all = processes();
        taskManagers.clear();
        for (JavaProcess p : all) {
            p.close();
        }
    }
}
