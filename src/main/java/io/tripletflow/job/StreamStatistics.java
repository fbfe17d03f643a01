package io.tripletflow.job;

import io.tripletflow.engine.MiningResult;
import io.tripletflow.engine.MiningStatistics;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * One stream key's mining statistics, kept in keyed state: cumulative counts since the key was
 * first seen, and exponentially decayed values ({@code x <- decay * x + (1 - decay) * batch}) that
 * follow where training is now. A Flink POJO, so RocksDB stores it field by field and it can
 * evolve.
 */
public class StreamStatistics {
    public long batches;
    public long rows;
    public long triplets;
    public long hardSelected;
    public long randomSelected;
    public long terms;
    public long nonZeroTerms;
    public long anchors;
    public long anchorsWithoutCandidate;
    public long labelMismatches;
    public long deadLetters;
    public long staleBatches;
    public long droppedStaleBatches;
    public double lossSum;
    public long newestModelStep = Long.MIN_VALUE;
    public long lastStaleness;
    public long lastBatchMillis;
    public long lastLatencyMillis;
    public double decayedLoss;
    public double decayedNonZeroShare;
    public double decayedHardShare;
    public double decayedNoCandidateShare;
    public double decayedStaleness;
    public double decayedLatencyMillis;
    public int consecutiveAllEasy;
    public boolean allEasy;
    public long[] positiveHistogram = new long[MiningStatistics.HISTOGRAM_BINS];
    public long[] negativeHistogram = new long[MiningStatistics.HISTOGRAM_BINS];
    public float histogramLow;
    public float histogramHigh;
    /** Cumulative selected triplets whose negative (positive) came from the cross-batch memory. */
    public long memoryNegatives;
    public long memoryPositives;
    /** Memory rows the last batch was mined against. */
    public int lastMemoryRows;
    public double decayedMemoryNegativeShare;
    public double decayedMemoryAge;

    public StreamStatistics() {}

    /**
     * Folds one answered batch in.
     *
     * @param allEasyAfter consecutive batches without a non-zero hinge that raise the warning
     */
    public void add(int batchRows, MiningResult result, long latencyMillis, long nowMillis, double decay,
                    int allEasyAfter) {
        MiningStatistics s = result.statistics();
        int batchTerms = result.terms();
        int batchTriplets = s.triplets();
        batches++;
        rows += batchRows;
        triplets += batchTriplets;
        hardSelected += s.hardSelected();
        randomSelected += s.randomSelected();
        nonZeroTerms += result.nonZeroHinges();
        terms += batchTerms;
        anchors += s.anchors();
        anchorsWithoutCandidate += s.anchorsWithoutCandidate();
        labelMismatches += s.labelMismatches();
        lossSum += s.loss();
        lastBatchMillis = nowMillis;
        lastLatencyMillis = latencyMillis;
        double nonZeroShare = batchTerms == 0 ? 0 : (double) result.nonZeroHinges() / batchTerms;
        double hardShare = batchTriplets == 0 ? 0 : (double) s.hardSelected() / batchTriplets;
        double noCandidateShare = s.anchors() == 0 ? 0 : (double) s.anchorsWithoutCandidate() / s.anchors();
        memoryNegatives += s.memoryNegatives();
        memoryPositives += s.memoryPositives();
        lastMemoryRows = s.memoryRows();
        double memoryShare = batchTriplets == 0 ? 0 : (double) s.memoryNegatives() / batchTriplets;
        boolean first = batches == 1;
        decayedMemoryNegativeShare = decayed(first, decayedMemoryNegativeShare, memoryShare, decay);
        decayedMemoryAge = decayed(first, decayedMemoryAge, s.meanMemoryAge(), decay);
        decayedLoss = decayed(first, decayedLoss, s.loss(), decay);
        decayedNonZeroShare = decayed(first, decayedNonZeroShare, nonZeroShare, decay);
        decayedHardShare = decayed(first, decayedHardShare, hardShare, decay);
        decayedNoCandidateShare = decayed(first, decayedNoCandidateShare, noCandidateShare, decay);
        decayedStaleness = decayed(first, decayedStaleness, lastStaleness, decay);
        decayedLatencyMillis = decayed(first, decayedLatencyMillis, latencyMillis, decay);
        s.addHistogramsTo(positiveHistogram, negativeHistogram);
        histogramLow = s.histogramLow();
        histogramHigh = s.histogramHigh();
        consecutiveAllEasy = result.nonZeroHinges() == 0 ? consecutiveAllEasy + 1 : 0;
        allEasy = consecutiveAllEasy >= allEasyAfter;
    }

    private static double decayed(boolean first, double old, double value, double decay) {
        return first ? value : decay * old + (1 - decay) * value;
    }

    /** How many steps {@code modelStep} is behind the newest answered one (0 when it is the newest). */
    public long stalenessOf(long modelStep) {
        return newestModelStep == Long.MIN_VALUE ? 0 : Math.max(0, newestModelStep - modelStep);
    }

    /**
     * Records the model step of an answered batch and returns how many steps it is behind the
     * newest seen (0 when it is the newest). Only answered batches count: an invalid batch with a
     * far-future step must not make every later batch stale.
     */
    public long observeModelStep(long modelStep) {
        if (modelStep > newestModelStep) {
            newestModelStep = modelStep;
        }
        lastStaleness = newestModelStep - modelStep;
        return lastStaleness;
    }

    /** JSON for the statistics topic; {@code labelPairs} maps "anchorLabel->negativeLabel" to counts. */
    public String toJson(String streamKey, Map<String, Long> labelPairs, long nowMillis) {
        StringBuilder s = new StringBuilder(1024);
        s.append("{\"stream_key\":\"").append(escape(streamKey)).append('"');
        s.append(",\"published_ms\":").append(nowMillis);
        s.append(",\"batches\":").append(batches);
        s.append(",\"rows\":").append(rows);
        s.append(",\"triplets\":").append(triplets);
        s.append(",\"hard_selected\":").append(hardSelected);
        s.append(",\"random_selected\":").append(randomSelected);
        s.append(",\"nonzero_hinge_terms\":").append(nonZeroTerms);
        s.append(",\"anchors\":").append(anchors);
        s.append(",\"anchors_without_candidate\":").append(anchorsWithoutCandidate);
        s.append(",\"label_mismatches\":").append(labelMismatches);
        s.append(",\"dead_letters\":").append(deadLetters);
        s.append(",\"stale_batches\":").append(staleBatches);
        s.append(",\"dropped_stale_batches\":").append(droppedStaleBatches);
        s.append(",\"mean_loss\":").append(num(batches == 0 ? 0 : lossSum / batches));
        s.append(",\"newest_model_step\":").append(newestModelStep == Long.MIN_VALUE ? "null" : Long.toString(newestModelStep));
        s.append(",\"last_staleness\":").append(lastStaleness);
        s.append(",\"last_batch_ms\":").append(lastBatchMillis);
        s.append(",\"decayed\":{\"loss\":").append(num(decayedLoss))
                .append(",\"nonzero_hinge_share\":").append(num(decayedNonZeroShare))
                .append(",\"hard_share\":").append(num(decayedHardShare))
                .append(",\"no_candidate_share\":").append(num(decayedNoCandidateShare))
                .append(",\"staleness\":").append(num(decayedStaleness))
                .append(",\"latency_ms\":").append(num(decayedLatencyMillis))
                .append(",\"memory_negative_share\":").append(num(decayedMemoryNegativeShare))
                .append(",\"memory_age\":").append(num(decayedMemoryAge)).append('}');
        s.append(",\"memory_rows\":").append(lastMemoryRows);
        s.append(",\"memory_negatives\":").append(memoryNegatives);
        s.append(",\"memory_positives\":").append(memoryPositives);
        s.append(",\"all_easy\":").append(allEasy);
        s.append(",\"consecutive_all_easy_batches\":").append(consecutiveAllEasy);
        s.append(",\"histogram\":{\"low\":").append(num(histogramLow)).append(",\"high\":").append(num(histogramHigh))
                .append(",\"dis_ap\":").append(Arrays.toString(positiveHistogram).replace(" ", ""))
                .append(",\"dis_an\":").append(Arrays.toString(negativeHistogram).replace(" ", "")).append('}');
        s.append(",\"hardest_label_pairs\":[");
        boolean firstPair = true;
        for (Map.Entry<String, Long> e : labelPairs.entrySet()) {
            s.append(firstPair ? "" : ",").append("{\"pair\":\"").append(escape(e.getKey()))
                    .append("\",\"count\":").append(e.getValue()).append('}');
            firstPair = false;
        }
        return s.append("]}").toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
