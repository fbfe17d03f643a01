package io.tripletflow.job;

import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.MiningStatistics;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The mining operator's dashboard metrics, under the group {@code tripletflow}: batches/s,
 * rows/s, latency (trainer's {@code created} to computed), loss, share of non-zero hinges, dead
 * letters, stale batches, the cross-batch memory (rows mined against, share of selected negatives
 * from it) and the backend in use.
 */
final class MiningMetrics {
    static final String GROUP = "tripletflow";

    private final Meter batches;
    private final Meter rows;
    private final Histogram latency;
    private final Counter deadLetters;
    private final Counter staleBatches;
    private volatile float loss;
    private volatile double nonZeroHingeShare;
    private volatile int memoryRows;
    private volatile double memoryNegativeShare;

    MiningMetrics(MetricGroup operator, String backend, String backendReason) {
        MetricGroup g = operator.addGroup(GROUP);
        batches = g.meter("batchesPerSecond", new MeterView(g.counter("batches"), 10));
        rows = g.meter("rowsPerSecond", new MeterView(g.counter("rows"), 10));
        latency = g.histogram("latencyMillis", new DescriptiveStatisticsHistogram(1000));
        deadLetters = g.counter("deadLetters");
        staleBatches = g.counter("staleBatches");
        g.gauge("loss", (Gauge<Float>) () -> loss);
        g.gauge("nonZeroHingeShare", (Gauge<Double>) () -> nonZeroHingeShare);
        g.gauge("memoryRows", (Gauge<Integer>) () -> memoryRows);
        g.gauge("memoryNegativeShare", (Gauge<Double>) () -> memoryNegativeShare);
        g.gauge("backend", (Gauge<String>) () -> backend);
        g.gauge("backendReason", (Gauge<String>) () -> backendReason);
    }

    void answered(int batchRows, long latencyMillis, MiningResult result) {
        MiningStatistics s = result.statistics();
        memoryRows = s.memoryRows();
        memoryNegativeShare = s.triplets() == 0 ? 0 : (double) s.memoryNegatives() / s.triplets();
        answered(batchRows, latencyMillis, result.loss(), result.nonZeroHinges(), result.terms());
    }

    private void answered(int batchRows, long latencyMillis, float batchLoss, int nonZero, int terms) {
        batches.markEvent();
        rows.markEvent(batchRows);
        latency.update(latencyMillis);
        loss = batchLoss;
        nonZeroHingeShare = terms == 0 ? 0 : (double) nonZero / terms;
    }

    void deadLetter() {
        deadLetters.inc();
    }

    void stale() {
        staleBatches.inc();
    }
}
