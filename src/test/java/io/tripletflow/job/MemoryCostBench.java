package io.tripletflow.job;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.engine.memory.CrossBatchMemory;
import io.tripletflow.testutils.EmbeddingRecords;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * What a cross-batch memory costs, side by side in one run (alternating repetitions):
 *
 * <ul>
 *   <li>the mining step alone (CPU backend, one thread) without a memory and against a full one;</li>
 *   <li>the mining operator on RocksDB (decode, mine, state, encode), one stream key, so that its
 *       memory stays in the operator between batches and only the head is read and the changed
 *       chunks written;</li>
 *   <li>the same with more keys taking turns than an operator holds in heap ({@link HeldMemories#BYTES}):
 *       every batch reads its key's whole memory back from RocksDB.</li>
 * </ul>
 * The state access per batch is the operator's time with a memory minus the step's with a memory,
 * less the same difference without one.
 *
 * <pre>java -cp target/classes:target/test-classes:$(cat target/classpath.txt) --add-modules jdk.incubator.vector \
 *     io.tripletflow.job.MemoryCostBench [--n 256] [--d 128] [--memory-rows 4096] [--repetitions 30]</pre>
 */
public final class MemoryCostBench {
    public static void main(String[] args) throws Exception {
        int n = 256;
        int d = 128;
        int m = 4096;
        int repetitions = 30;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--n": n = Integer.parseInt(args[++i]); break;
                case "--d": d = Integer.parseInt(args[++i]); break;
                case "--memory-rows": m = Integer.parseInt(args[++i]); break;
                case "--repetitions": repetitions = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: MemoryCostBench [--n N] [--d D] [--memory-rows M] [--repetitions R]");
                    System.exit(64);
            }
        }
        Random random = new Random(7);
        List<byte[]> records = new ArrayList<>();
        for (int b = 0; b < 16; b++) {
            records.add(record(random, n, d, b));
        }
        MiningOptions plain = MiningOptions.defaults();
        MiningOptions memoryOptions = plain.toBuilder().memoryRows(m).build();

        // 1. The mining step.
        double[] stepPlain = new double[repetitions];
        double[] stepMemory = new double[repetitions];
        try (CpuMiningBackend a = new CpuMiningBackend(plain, 1); CpuMiningBackend b = new CpuMiningBackend(memoryOptions, 1)) {
            CrossBatchMemory memory = new CrossBatchMemory(m);
            EmbeddingBatch[] batches = new EmbeddingBatch[records.size()];
            for (int i = 0; i < batches.length; i++) {
                batches[i] = new io.tripletflow.wire.EmbeddingBatchCodec(io.tripletflow.wire.WireBounds.DEFAULT)
                        .decode("k".getBytes(StandardCharsets.UTF_8), records.get(i));
            }
            while (memory.filled() < m) {
                memory.enqueue(batches[memory.filled() / n % batches.length]);
            }
            for (int r = -5; r < repetitions; r++) {
                EmbeddingBatch batch = batches[(r + 5) % batches.length];
                long t0 = System.nanoTime();
                a.mine(batch);
                long t1 = System.nanoTime();
                b.mine(batch, memory.eligible(batch.modelStep(), d, 0, -1));
                long t2 = System.nanoTime();
                if (r >= 0) {
                    stepPlain[r] = (t1 - t0) / 1e6;
                    stepMemory[r] = (t2 - t1) / 1e6;
                }
            }
        }

        // 2. and 3. The operator on RocksDB, the three set-ups taking turns.
        int coldKeys = (int) (HeldMemories.BYTES / ((long) m * CrossBatchMemory.slotBytes(d))) + 2;
        double[][] op = operators(records, m, coldKeys, repetitions);
        double[] opPlain = op[0];
        double[] opMemory = op[1];
        double[] opMemoryTwoKeys = op[2];

        System.out.printf(Locale.ROOT, "# cross-batch memory cost, N=%d D=%d memory-rows=%d, CPU backend 1 thread, %d cores, %s%n",
                n, d, m, Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(Locale.ROOT, "%-52s | %9s | %9s | %9s%n", "", "no memory", "memory", "ratio");
        row("mining step, ms (median)", stepPlain, stepMemory);
        row("operator on RocksDB, one key, ms (median)", opPlain, opMemory);
        row("operator on RocksDB, " + coldKeys + " keys taking turns, ms", opPlain, opMemoryTwoKeys);
        double state = (median(opMemory) - median(stepMemory)) - (median(opPlain) - median(stepPlain));
        double stateCold = (median(opMemoryTwoKeys) - median(stepMemory)) - (median(opPlain) - median(stepPlain));
        System.out.printf(Locale.ROOT, "# state access per batch: %.2f ms with the key's memory held (head read, changed chunk "
                + "written), %.2f ms when the whole memory (%.1f MB) is read from RocksDB%n", state, stateCold,
                m * (double) CrossBatchMemory.slotBytes(d) / 1e6);
    }

    private static void row(String what, double[] without, double[] with) {
        System.out.printf(Locale.ROOT, "%-52s | %9.3f | %9.3f | %8.2fx%n", what, median(without), median(with),
                median(with) / median(without));
    }

    /**
     * ms per batch of the mining operator on RocksDB: without a memory, with one key, with more keys than are held
     * taking turns; one batch of each in turn, so that drift hits all three alike.
     */
    private static double[][] operators(List<byte[]> records, int memoryRows, int coldKeys, int repetitions)
            throws Exception {
        int[] memories = {0, memoryRows, memoryRows};
        int[] keys = {1, 1, coldKeys};
        List<KeyedOneInputStreamOperatorTestHarness<String, KafkaRecord, GradientRecord>> harnesses = new ArrayList<>();
        try {
            for (int memory : memories) {
                Configuration conf = TripletFlowJob.configuration(new Configuration(), new String[] {
                        "--backend", "cpu", "--memory-rows", Integer.toString(memory)});
                var h = JobTestSupport.miningHarness(conf, null);
                h.open();
                harnesses.add(h);
            }
            int warmUp = coldKeys * (memoryRows / 256 + 2);
            double[][] ms = new double[3][repetitions];
            long offset = 0;
            for (int r = -warmUp; r < repetitions; r++) {
                byte[] value = records.get(Math.floorMod(r, records.size()));
                for (int c = 0; c < 3; c++) {
                    byte[] key = ("key-" + Math.floorMod(r, keys[c])).getBytes(StandardCharsets.UTF_8);
                    var h = harnesses.get(c);
                    long t0 = System.nanoTime();
                    h.processElement(new KafkaRecord(key, value, "embeddings", 0, offset++, 0L), 0L);
                    if (r >= 0) {
                        ms[c][r] = (System.nanoTime() - t0) / 1e6;
                    }
                    h.getOutput().clear();
                }
            }
            return ms;
        } finally {
            for (var h : harnesses) {
                h.close();
            }
        }
    }

    private static byte[] record(Random random, int n, int d, int step) {
        float[] f = new float[n * d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int k = 0; k < d; k++) {
                f[i * d + k] = (float) random.nextGaussian();
                norm += f[i * d + k] * f[i * d + k];
            }
            for (int k = 0; k < d; k++) {
                f[i * d + k] /= (float) Math.sqrt(norm);
            }
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i += 2) {
            labels[i] = random.nextInt(Math.max(2, n / 8));
            labels[i + 1] = labels[i];
        }
        return EmbeddingRecords.record(random.nextLong(), step, 0, n, d, labels, f);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
