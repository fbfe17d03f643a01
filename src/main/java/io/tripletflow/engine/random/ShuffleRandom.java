package io.tripletflow.engine.random;

/**
 * The seed's {@code myrandom(k) = rand() % k}: a bounded draw for {@code random_shuffle}.
 */
public interface ShuffleRandom {

    /** An unsigned 32-bit draw, as an int. */
    int nextU32();

    /** {@code next_u32() % bound} computed on unsigned values, as the seed's {@code myrandom}. */
    default int below(int bound) {
        return (int) Integer.remainderUnsigned(nextU32(), bound);
    }

    /**
     * libstdc++'s {@code random_shuffle(first, last, rand)} applied to positions
     * {@code [0, length)} of {@code a}: {@code for i in 1..length-1: j = rand(i+1); swap(a[i], a[j])}.
     */
    default void shuffle(int[] a, int from, int length) {
        shuffleAll(this, a, from, length);
    }

    /**
     * Puts a uniformly random ordered choice of {@code count} of {@code a[from..from+length)}
     * in front. The seed's generator replays its full {@link #shuffle}; a generator free of the
     * seed's draws may take only {@code count} of them.
     */
    void chooseFront(int[] a, int from, int length, int count);

    /**
     * Whether {@link #chooseFront} replays the seed's shuffles, draw for draw, so that the
     * candidates must stand in the seed's order (sorted by distance) when it is called.
     */
    boolean replaysSeed();

    /** libstdc++'s {@code random_shuffle}, the seed's draws. */
    static void shuffleAll(ShuffleRandom random, int[] a, int from, int length) {
        for (int i = 1; i < length; i++) {
            int j = random.below(i + 1);
            if (i != j) {
                int t = a[from + i];
                a[from + i] = a[from + j];
                a[from + j] = t;
            }
        }
    }
}
