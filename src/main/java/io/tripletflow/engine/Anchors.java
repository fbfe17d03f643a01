package io.tripletflow.engine;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions.LabelMismatchPolicy;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import java.util.Arrays;

/**
 * Which rows are anchors (docs/mining.md, "Anchors and positives"), the same for every backend:
 * tail anchors and label mismatches are counted, and rejected or skipped as configured.
 */
public final class Anchors {
    private int[] anchors = new int[0];
    private int[] sortedLabels = new int[0];
    private int count;

    /** Lists the anchors of {@code batch}; {@link #get(int)} then gives them in ascending order. */
    public int enumerate(EmbeddingBatch batch, MiningOptions options, MiningStatistics stats) throws InvalidBatchException {
        int n = batch.rows();
        int[] labels = batch.labels();
        if (anchors.length < n) {
            anchors = new int[n];
            sortedLabels = new int[n];
        }
        count = 0;
        if (options.positives() == PositivesKind.ALL) {
            System.arraycopy(labels, 0, sortedLabels, 0, n);
            Arrays.sort(sortedLabels, 0, n);
            for (int a = 0; a < n; a++) {
                int at = Arrays.binarySearch(sortedLabels, 0, n, labels[a]);
                boolean partner = (at > 0 && sortedLabels[at - 1] == labels[a])
                        || (at + 1 < n && sortedLabels[at + 1] == labels[a]);
                if (partner) {
                    anchors[count++] = a;
                } else {
                    stats.recordSkippedAnchor();
                }
            }
            return count;
        }
        for (int a = 0; a < n; a += options.pairSize()) {
            if (a + 1 >= n) {
                stats.recordSkippedAnchor();
                continue;
            }
            if (labels[a + 1] != labels[a]) {
                stats.recordLabelMismatch();
                if (options.onLabelMismatch() == LabelMismatchPolicy.REJECT) {
                    throw new InvalidBatchException(batch.describe(), "labels", BatchRule.LABEL_MISMATCH,
                            "positive row " + (a + 1) + " has label " + labels[a + 1] + " but its anchor row " + a
                                    + " has label " + labels[a] + " (on-label-mismatch = reject)");
                }
                if (options.onLabelMismatch() == LabelMismatchPolicy.SKIP_ANCHOR) {
                    stats.recordSkippedAnchor();
                    continue;
                }
            }
            anchors[count++] = a;
        }
        return count;
    }

    public int count() {
        return count;
    }

    public int get(int k) {
        return anchors[k];
    }

    /** The backing array: anchors in {@code [0, count())}. */
    public int[] array() {
        return anchors;
    }
}
