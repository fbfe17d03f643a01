package io.tripletflow.testutils;

import io.tripletflow.local.LocalFlinkCluster;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** A Flink MiniCluster for tests: one TaskManager, bound to 127.0.0.1. */
public final class LoopbackMiniCluster {
    private LoopbackMiniCluster() {}

    /** With {@code slots} slots and an ephemeral REST port. */
    public static MiniClusterExtension extension(int slots) {
        return extension(slots, LocalFlinkCluster.loopbackConfiguration(0));
    }

    /** With {@code slots} slots and the given configuration (start from {@link LocalFlinkCluster#loopbackConfiguration}). */
    public static MiniClusterExtension extension(int slots, Configuration configuration) {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setConfiguration(configuration)
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(slots)
                .build());
    }
}
