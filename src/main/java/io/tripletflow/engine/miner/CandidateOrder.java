package io.tripletflow.engine.miner;

/**
 * Order statistics of an anchor's candidates in the seed's order ({@link MiningInput#harder}),
 * without sorting them all: quickselect moves the element of a given rank into place.
 */
final class CandidateOrder {
    private CandidateOrder() {}

    /** Reorders {@code c[from..to)} so that position {@code rank} holds the element of that rank. */
    static void select(MiningInput in, int anchor, int[] c, int from, int to, int rank) {
        int lo = from;
        int hi = to - 1;
        while (hi > lo) {
            if (hi - lo < 16) {
                sort(in, anchor, c, lo, hi + 1);
                return;
            }
            int mid = (lo + hi) >>> 1;
            int pivot = medianOfThree(in, anchor, c[lo], c[mid], c[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (in.harder(anchor, c[i], pivot)) i++;
                while (in.harder(anchor, pivot, c[j])) j--;
                if (i <= j) {
                    int t = c[i]; c[i] = c[j]; c[j] = t;
                    i++;
                    j--;
                }
            }
            if (rank <= j) {
                hi = j;
            } else if (rank >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    /** Moves the {@code k} hardest of {@code c[0..count)} to {@code c[0..k)}, in order. */
    static void hardestFirst(MiningInput in, int anchor, int[] c, int count, int k) {
        if (k < count) {
            select(in, anchor, c, 0, count, k);
        }
        sort(in, anchor, c, 0, Math.min(k, count));
    }

    /**
     * Writes the {@code k} hardest of {@code c[0..count)} ({@code k < count}), in order, to
     * {@code top[0..k)}, leaving {@code c} as it is. For small {@code k} one pass that mostly costs
     * one comparison per candidate; otherwise quickselect on a copy.
     */
    static void hardest(MiningInput in, int anchor, int[] c, int count, int k, int[] top) {
        if (k > 32) {
            System.arraycopy(c, 0, top, 0, count);
            hardestFirst(in, anchor, top, count, k);
            return;
        }
        System.arraycopy(c, 0, top, 0, k);
        sort(in, anchor, top, 0, k);
        int worst = top[k - 1];
        for (int t = k; t < count; t++) {
            int j = c[t];
            if (in.harder(anchor, j, worst)) {
                int i = k - 1;
                while (i > 0 && in.harder(anchor, j, top[i - 1])) {
                    top[i] = top[i - 1];
                    i--;
                }
                top[i] = j;
                worst = top[k - 1];
            }
        }
    }

    /** Insertion sort for short runs, heap-free and allocation-free. */
    static void sort(MiningInput in, int anchor, int[] c, int from, int to) {
        if (to - from > 32) {
            int mid = (from + to) >>> 1;
            sort(in, anchor, c, from, mid);
            sort(in, anchor, c, mid, to);
            merge(in, anchor, c, from, mid, to);
            return;
        }
        for (int i = from + 1; i < to; i++) {
            int x = c[i];
            int j = i - 1;
            while (j >= from && in.harder(anchor, x, c[j])) {
                c[j + 1] = c[j];
                j--;
            }
            c[j + 1] = x;
        }
    }

    private static void merge(MiningInput in, int anchor, int[] c, int from, int mid, int to) {
        // In-place rotation merge: only used for long runs (large rand-num), where it is rare.
        int i = from;
        int j = mid;
        while (i < j && j < to) {
            if (!in.harder(anchor, c[j], c[i])) {
                i++;
            } else {
                int x = c[j];
                System.arraycopy(c, i, c, i + 1, j - i);
                c[i] = x;
                i++;
                j++;
            }
        }
    }

    private static int medianOfThree(MiningInput in, int anchor, int a, int b, int c) {
        if (in.harder(anchor, a, b)) {
            if (in.harder(anchor, b, c)) return b;
            return in.harder(anchor, a, c) ? c : a;
        }
        if (in.harder(anchor, a, c)) return a;
        return in.harder(anchor, b, c) ? c : b;
    }
}
