package io.tripletflow.engine.random;

/**
 * 32-bit MT19937, equal draw for draw to {@code std::mt19937} and {@code boost::mt19937}: the
 * generator behind the seed's {@code caffe_rng_rand()} ({@code rng = seed-compat}).
 */
public final class MersenneTwister implements ShuffleRandom {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER = 0x80000000;
    private static final int LOWER = 0x7fffffff;

    private final int[] state = new int[N];
    private int index;

    public MersenneTwister(int seed) {
        reseed(seed);
    }

    /** Restarts the sequence as a freshly constructed generator with {@code seed} would. */
    public void reseed(int seed) {
        state[0] = seed;
        for (int i = 1; i < N; i++) {
            int prev = state[i - 1];
            state[i] = 1812433253 * (prev ^ (prev >>> 30)) + i;
        }
        index = N;
    }

    @Override
    public int nextU32() {
        if (index >= N) {
            twist();
        }
        int y = state[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** The seed's {@code random_shuffle} of the whole range; its front is then the choice. */
    @Override
    public void chooseFront(int[] a, int from, int length, int count) {
        shuffle(a, from, length);
    }

    @Override
    public boolean replaysSeed() {
        return true;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & UPPER) | (state[(i + 1) % N] & LOWER);
            int next = state[(i + M) % N] ^ (y >>> 1);
            state[i] = (y & 1) != 0 ? next ^ MATRIX_A : next;
        }
        index = 0;
    }
}
