package io.tripletflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.RandomBatches;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Once its buffers have grown, the CPU backend allocates (almost) nothing per batch. */
class SteadyStateAllocationTest {

    @Test
    void repeatedBatchesAllocateNoBuffers() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        RandomBatches random = new RandomBatches(5);
        int n = 256;
        int d = 64;
        EmbeddingBatch batch = random.batch(random.pairedLabels(n, 32, 0), random.unitEmbeddings(n, d), d);
        // One thread: all work happens on the calling thread, whose allocations the JVM counts.
        try (CpuMiningBackend backend = new CpuMiningBackend(MiningOptions.defaults(), 1)) {
            for (int warm = 0; warm < 20; warm++) {
                backend.mine(batch);
            }
            long id = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(id);
            int batches = 50;
            for (int i = 0; i < batches; i++) {
                backend.mine(batch);
            }
            long perBatch = (threads.getThreadAllocatedBytes(id) - before) / batches;
            // The batch's buffers alone would be 4 N^2 + 8 N D bytes = 393 KB.
            assertThat(perBatch).as("bytes allocated per batch").isLessThan(1024);
        }
    }
}
