package io.tripletflow.engine.random;

import java.nio.charset.StandardCharsets;

/**
 * The counter-based generator of {@code rng = counter}: draw {@code t} of stream {@code s} of a
 * batch is a pure function of {@code (rng-seed, stream key, batch id, s, t)}, so a replayed batch
 * draws the same numbers on any backend, in any order, on any thread.
 *
 * <p>Definition (also in {@code docs/mining.md}), all arithmetic on unsigned 64-bit words:
 * <pre>
 *   mix(z)      = z ^= z >>> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >>> 27; z *= 0x94d049bb133111eb; z ^ z >>> 31
 *   keyHash     = FNV-1a 64 over the stream key's UTF-8 bytes
 *   batchKey    = mix(mix(mix(rngSeed) ^ keyHash) ^ batchId)
 *   streamKey   = mix(batchKey ^ mix(s))                    s = anchor * N + positive
 *   draw(t)     = high 32 bits of mix(streamKey + (t + 1) * 0x9e3779b97f4a7c15)
 * </pre>
 * {@code below(k)} is {@code draw % k}, as in the seed. A choice of {@code count} of
 * {@code length} elements is a forward partial Fisher-Yates shuffle:
 * {@code for i in 0..count-1: j = i + below(length - i); swap(a[i], a[j])}, {@code count} draws.
 */
public final class CounterRandom implements ShuffleRandom {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private long streamKey;
    private long counter;

    /** The per-batch key all streams of a batch derive from. */
    public static long batchKey(long rngSeed, String streamKey, long batchId) {
        return mix(mix(mix(rngSeed) ^ fnv1a64(streamKey)) ^ batchId);
    }

    /** Positions this generator at draw 0 of stream {@code stream} of the batch {@code batchKey}. */
    public CounterRandom at(long batchKey, long stream) {
        this.streamKey = mix(batchKey ^ mix(stream));
        this.counter = 0;
        return this;
    }

    @Override
    public int nextU32() {
        counter++;
        return (int) (mix(streamKey + counter * GOLDEN_GAMMA) >>> 32);
    }

    @Override
    public void chooseFront(int[] a, int from, int length, int count) {
        for (int i = 0; i < count && i < length - 1; i++) {
            int j = i + below(length - i);
            int t = a[from + i];
            a[from + i] = a[from + j];
            a[from + j] = t;
        }
    }

    @Override
    public boolean replaysSeed() {
        return false;
    }

    /** SplitMix64's finaliser. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static long fnv1a64(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
