package io.tripletflow.engine;

import io.tripletflow.engine.loss.TripletLoss;
import io.tripletflow.engine.memory.MemoryRows;
import io.tripletflow.engine.reduction.Reduction;

/**
 * The ordered pass every backend ends with: selected triplets in the seed's order (anchors
 * ascending, then positive, then negative) become loss terms, summed in float32 as the seed sums
 * them, the mask (batch columns only), and the batch's statistics (memory columns counted apart). Backends feed it the three distances of each
 * triplet; it tells them the slopes to put on those distances.
 */
public final class TripletTerms {
    private final TripletLoss loss;
    private final float margin;
    private final boolean second;
    private MiningResult result;
    private int rows;
    private MemoryRows memory;
    private MiningStatistics stats;
    private float sum;
    private int terms;
    private int nonZero;
    private int hardest;
    private float hardestDistance;
    private float slope1;
    private float slope2;

    public TripletTerms(MiningOptions options) {
        this.loss = TripletLoss.of(options.loss());
        this.margin = options.margin();
        this.second = loss.hasSecondTerm();
    }

    /** Starts a batch of {@code rows} rows, mined against {@code memory} (columns from {@code rows} on). */
    public void start(MiningResult result, int rows, MemoryRows memory) {
        this.result = result;
        this.rows = rows;
        this.memory = memory;
        this.stats = result.statistics();
        sum = 0f;
        terms = 0;
        nonZero = 0;
    }

    public void beginAnchor(int candidates) {
        stats.recordAnchor(candidates);
        hardest = -1;
    }

    /** One selected triplet; afterwards {@link #slope1()} and {@link #slope2()} are its slopes. */
    public void add(int a, int p, int n, boolean hard, float dap, float dan, float dpn) {
        float x1 = (dap - dan) + margin;
        float t1 = loss.value(x1);
        slope1 = loss.slope(x1);
        float t2 = 0f;
        slope2 = 0f;
        terms++;
        if (t1 > 0f) nonZero++;
        if (second) {
            float x2 = (dap - dpn) + margin;
            t2 = loss.value(x2);
            slope2 = loss.slope(x2);
            terms++;
            if (t2 > 0f) nonZero++;
        }
        sum += second ? t1 + t2 : t1;
        if (n < rows) {
            result.markSelected(a, n);
        } else {
            stats.recordMemoryNegative(memory.age(n - rows));
        }
        if (p >= rows) {
            stats.recordMemoryPositive();
        }
        stats.recordTriplet(hard, dap, dan, t1 > 0f, t2 > 0f);
        if (hardest < 0 || dan < hardestDistance) {
            hardest = n;
            hardestDistance = dan;
        }
    }

    public float slope1() {
        return slope1;
    }

    public float slope2() {
        return slope2;
    }

    /** After an anchor's triplets; {@code labels} are the columns' labels (the batch's, then the memory's). */
    public void endAnchor(int[] labels, int a) {
        if (hardest >= 0) {
            stats.recordHardestPair(labels[a], labels[hardest]);
        }
    }

    /**
     * Sets loss and counts on the result; returns the divisor the gradients are divided by
     * (0: no gradients).
     */
    public int finish(Reduction reduction, int seedCount, float lossWeight) {
        int divisor = reduction.divisor(seedCount, terms, nonZero);
        float value = divisor == 0 ? 0f : sum / divisor * lossWeight;
        result.setLoss(value);
        result.setCounts(stats.triplets(), terms, nonZero);
        stats.setLoss(value);
        return divisor;
    }
}
