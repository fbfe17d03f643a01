package io.tripletflow.engine;

import java.util.Arrays;
import java.util.Locale;

/**
 * What the mining step saw in one batch (spec "Statistics of a batch"). The backend fills it in
 * anchor order; the streaming job folds it into per-key state.
 */
public final class MiningStatistics {
    /** Bins of the {@code dis(a,n)} histogram over the distance's natural range. */
    public static final int HISTOGRAM_BINS = 16;

    private int anchors;
    private int skippedAnchors;
    private int labelMismatches;
    private long candidates;
    private int maxCandidates;
    private int anchorsWithoutCandidate;
    private int hardSelected;
    private int randomSelected;
    private int nonZeroH1;
    private int nonZeroH2;
    private float loss;
    private double positiveSum;
    private double positiveSquares;
    private double negativeSum;
    private double negativeSquares;
    private float histogramLow;
    private float histogramHigh;
    private final long[] negativeHistogram = new long[HISTOGRAM_BINS];
    private final long[] positiveHistogram = new long[HISTOGRAM_BINS];
    /** (anchor label, negative label) of each anchor's hardest selected negative, packed. */
    private int memoryRows;
    private int memoryNegatives;
    private int memoryPositives;
    private long memoryAgeSum;
    private long[] hardestPairs = new long[0];
    private int hardestPairCount;

    void reset() {
        anchors = skippedAnchors = labelMismatches = maxCandidates = anchorsWithoutCandidate = 0;
        hardSelected = randomSelected = nonZeroH1 = nonZeroH2 = 0;
        candidates = 0;
        loss = 0f;
        positiveSum = positiveSquares = negativeSum = negativeSquares = 0;
        Arrays.fill(negativeHistogram, 0);
        Arrays.fill(positiveHistogram, 0);
        hardestPairCount = 0;
        memoryRows = memoryNegatives = memoryPositives = 0;
        memoryAgeSum = 0;
    }

    public void setHistogramRange(float low, float high) {
        histogramLow = low;
        histogramHigh = high;
    }

    public void recordAnchor(int candidateCount) {
        anchors++;
        candidates += candidateCount;
        maxCandidates = Math.max(maxCandidates, candidateCount);
        if (candidateCount == 0) {
            anchorsWithoutCandidate++;
        }
    }

    public void recordSkippedAnchor() {
        skippedAnchors++;
    }

    public void recordLabelMismatch() {
        labelMismatches++;
    }

    public void recordTriplet(boolean hard, float anchorToPositive, float anchorToNegative, boolean h1, boolean h2) {
        if (hard) {
            hardSelected++;
        } else {
            randomSelected++;
        }
        if (h1) nonZeroH1++;
        if (h2) nonZeroH2++;
        positiveSum += anchorToPositive;
        positiveSquares += (double) anchorToPositive * anchorToPositive;
        negativeSum += anchorToNegative;
        negativeSquares += (double) anchorToNegative * anchorToNegative;
        negativeHistogram[bin(anchorToNegative)]++;
        positiveHistogram[bin(anchorToPositive)]++;
    }

    /** The histogram bin of a distance; values outside the range go to the edge bins. */
    public int bin(float distance) {
        int bin = (int) Math.floor((distance - histogramLow) / (histogramHigh - histogramLow) * HISTOGRAM_BINS);
        return Math.max(0, Math.min(HISTOGRAM_BINS - 1, bin));
    }

    /** The batch was mined against {@code rows} rows of its stream's cross-batch memory. */
    public void recordMemoryRows(int rows) {
        memoryRows = rows;
    }

    /** A selected triplet's negative came from the memory, written {@code age} model steps before the batch. */
    public void recordMemoryNegative(long age) {
        memoryNegatives++;
        memoryAgeSum += age;
    }

    /** A selected triplet's positive came from the memory. */
    public void recordMemoryPositive() {
        memoryPositives++;
    }

    public void recordHardestPair(int anchorLabel, int negativeLabel) {
        if (hardestPairCount == hardestPairs.length) {
            hardestPairs = Arrays.copyOf(hardestPairs, Math.max(16, hardestPairs.length * 2));
        }
        hardestPairs[hardestPairCount++] = ((long) anchorLabel << 32) | (negativeLabel & 0xffffffffL);
    }

    public void setLoss(float loss) {
        this.loss = loss;
    }

    public int anchors() { return anchors; }
    public int skippedAnchors() { return skippedAnchors; }
    public int labelMismatches() { return labelMismatches; }
    public long candidates() { return candidates; }
    public double meanCandidates() { return anchors == 0 ? 0 : (double) candidates / anchors; }
    public int maxCandidates() { return maxCandidates; }
    public int anchorsWithoutCandidate() { return anchorsWithoutCandidate; }
    public int hardSelected() { return hardSelected; }
    public int randomSelected() { return randomSelected; }
    public int triplets() { return hardSelected + randomSelected; }
    public int nonZeroH1() { return nonZeroH1; }
    public int nonZeroH2() { return nonZeroH2; }
    public float loss() { return loss; }
    public double meanAnchorToPositive() { return mean(positiveSum); }
    public double spreadAnchorToPositive() { return spread(positiveSum, positiveSquares); }
    public double meanAnchorToNegative() { return mean(negativeSum); }
    public double spreadAnchorToNegative() { return spread(negativeSum, negativeSquares); }
    public int memoryRows() { return memoryRows; }
    public int memoryNegatives() { return memoryNegatives; }
    public int memoryPositives() { return memoryPositives; }
    /** Mean age in model steps of the memory rows selected as negatives (0 without any). */
    public double meanMemoryAge() { return memoryNegatives == 0 ? 0 : (double) memoryAgeSum / memoryNegatives; }
    public float histogramLow() { return histogramLow; }
    public float histogramHigh() { return histogramHigh; }

    /** Counts of {@code dis(a,n)} of selected triplets in {@link #HISTOGRAM_BINS} equal bins (edges clamp). */
    public long[] negativeHistogram() {
        return negativeHistogram.clone();
    }

    /** Adds this batch's {@code dis(a,p)} and {@code dis(a,n)} histograms to the given counts. */
    public void addHistogramsTo(long[] positives, long[] negatives) {
        for (int b = 0; b < HISTOGRAM_BINS; b++) {
            positives[b] += positiveHistogram[b];
            negatives[b] += negativeHistogram[b];
        }
    }

    /**
     * The label pairs that supplied the hardest negatives, most frequent first: rows of
     * {@code {anchor label, negative label, count}}, at most {@code limit}.
     */
    public int[][] hardestLabelPairs(int limit) {
        long[] pairs = Arrays.copyOf(hardestPairs, hardestPairCount);
        Arrays.sort(pairs);
        int distinct = 0;
        long[] counted = new long[pairs.length * 2];
        for (int i = 0; i < pairs.length; ) {
            int j = i;
            while (j < pairs.length && pairs[j] == pairs[i]) j++;
            counted[2 * distinct] = j - i;
            counted[2 * distinct + 1] = pairs[i];
            distinct++;
            i = j;
        }
        Integer[] order = new Integer[distinct];
        for (int i = 0; i < distinct; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> counted[2 * y] != counted[2 * x]
                ? Long.compare(counted[2 * y], counted[2 * x])
                : Long.compare(counted[2 * x + 1], counted[2 * y + 1]));
        int[][] top = new int[Math.min(limit, distinct)][];
        for (int i = 0; i < top.length; i++) {
            long pair = counted[2 * order[i] + 1];
            top[i] = new int[] {(int) (pair >> 32), (int) pair, (int) counted[2 * order[i]]};
        }
        return top;
    }

    private double mean(double sum) {
        int n = triplets();
        return n == 0 ? 0 : sum / n;
    }

    private double spread(double sum, double squares) {
        int n = triplets();
        if (n == 0) return 0;
        double m = sum / n;
        return Math.sqrt(Math.max(0, squares / n - m * m));
    }

    /** One JSON object, as the {@code compute} command prints it. */
    public String toJson() {
        StringBuilder s = new StringBuilder(512);
        s.append('{');
        field(s, "anchors", anchors).append(',');
        field(s, "skipped_anchors", skippedAnchors).append(',');
        field(s, "label_mismatches", labelMismatches).append(',');
        s.append("\"candidates_mean\":").append(num(meanCandidates())).append(',');
        field(s, "candidates_max", maxCandidates).append(',');
        field(s, "anchors_without_candidate", anchorsWithoutCandidate).append(',');
        field(s, "triplets", triplets()).append(',');
        field(s, "hard_selected", hardSelected).append(',');
        field(s, "random_selected", randomSelected).append(',');
        field(s, "nonzero_h1", nonZeroH1).append(',');
        field(s, "nonzero_h2", nonZeroH2).append(',');
        s.append("\"loss\":").append(num(loss)).append(',');
        s.append("\"dis_ap_mean\":").append(num(meanAnchorToPositive())).append(',');
        s.append("\"dis_ap_spread\":").append(num(spreadAnchorToPositive())).append(',');
        s.append("\"dis_an_mean\":").append(num(meanAnchorToNegative())).append(',');
        s.append("\"dis_an_spread\":").append(num(spreadAnchorToNegative())).append(',');
        s.append("\"dis_an_histogram\":{\"low\":").append(num(histogramLow)).append(",\"high\":")
                .append(num(histogramHigh)).append(",\"counts\":").append(Arrays.toString(negativeHistogram).replace(" ", ""))
                .append("},");
        s.append("\"dis_ap_histogram\":").append(Arrays.toString(positiveHistogram).replace(" ", "")).append(',');
        field(s, "memory_rows", memoryRows).append(',');
        field(s, "memory_negatives", memoryNegatives).append(',');
        field(s, "memory_positives", memoryPositives).append(',');
        s.append("\"memory_age_mean\":").append(num(meanMemoryAge())).append(',');
        s.append("\"hardest_label_pairs\":[");
        int[][] top = hardestLabelPairs(5);
        for (int i = 0; i < top.length; i++) {
            s.append(i == 0 ? "" : ",").append("{\"anchor_label\":").append(top[i][0])
                    .append(",\"negative_label\":").append(top[i][1]).append(",\"count\":").append(top[i][2]).append('}');
        }
        return s.append("]}").toString();
    }

    private static StringBuilder field(StringBuilder s, String name, long value) {
        return s.append('"').append(name).append("\":").append(value);
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }
}
