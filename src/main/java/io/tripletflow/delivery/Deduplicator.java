package io.tripletflow.delivery;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Tells the first answer to a batch from its replays, in bounded memory: the consumer's half of
 * the {@code idempotent} delivery mode. The job may write an answer more than once after a
 * failure (the sinks are at-least-once), always with the same content; whoever applies each
 * (stream key, batch id) at most once sees every batch exactly once.
 *
 * <pre>{@code
 * Deduplicator seen = new Deduplicator(Deduplicator.DEFAULT_WINDOW, Deduplicator.DEFAULT_STREAM_KEYS);
 * for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
 *     GradientBatch g = codec.decode(r.key(), r.value());
 *     if (seen.firstTime(g.streamKey(), g.batchId())) {
 *         apply(g);                      // once per batch, whatever the topic holds
 *     }
 * }
 * }</pre>
 *
 * <p><b>The bound.</b> Per stream key it keeps the last {@code window} batch ids it took
 * ({@code 8 * window} bytes) and the highest id it has let go of, the <em>floor</em>, for at most
 * {@code streamKeys} keys. It assumes what every trainer here does: batch ids increase per stream
 * key (gaps allowed; order may be mixed up among recent batches, as when several partitions feed
 * one key). The job answers one key in the order it reads it, so a replay is always either still
 * in the window or at or below the floor: an id in the window is a {@link Verdict#DUPLICATE}, an id
 * at or below the floor is {@link Verdict#TOO_OLD} and refused too. That keeps "at most once"
 * whatever the window; what the window buys is tolerance of reordering: once {@code window}
 * answers of a key have been taken after an id, a lower id that arrives is refused as too old
 * (counted), not applied. Ids that do not increase (random ids) are refused when they fall at or
 * below the floor, so such a trainer needs a window larger than the batches it sends. Past
 * {@code streamKeys} keys the key seen least recently is forgotten; an answer to it after that is
 * taken as new.
 *
 * <p>Not thread-safe; {@code synchronized} around it where several threads share one.
 */
public final class Deduplicator {
    public static final int DEFAULT_WINDOW = 1024;
    public static final int DEFAULT_STREAM_KEYS = 4096;

    /** What {@link #offer} decided about one (stream key, batch id). */
    public enum Verdict {
        /** Not seen before: apply it. */
        FIRST,
        /** Seen before, inside the window: a replay, drop it. */
        DUPLICATE,
        /** Below the window: cannot be told from a replay, dropped. */
        TOO_OLD
    }

    private final int window;
    private final int maxStreamKeys;
    private final Map<String, Window> keys;
    private long first;
    private long duplicates;
    private long tooOld;
    private long forgottenKeys;

    /**
     * @param window batch ids remembered per stream key (>= 1)
     * @param streamKeys stream keys remembered (>= 1)
     */
    public Deduplicator(int window, int streamKeys) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1 batch id, got " + window);
        }
        if (streamKeys < 1) {
            throw new IllegalArgumentException("streamKeys must be >= 1, got " + streamKeys);
        }
        this.window = window;
        this.maxStreamKeys = streamKeys;
        this.keys = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Window> eldest) {
                if (size() > maxStreamKeys) {
                    forgottenKeys++;
                    return true;
                }
                return false;
            }
        };
    }

    /** A deduplicator of {@link #DEFAULT_WINDOW} ids for {@link #DEFAULT_STREAM_KEYS} keys (8 KiB a key, 32 MiB at most). */
    public Deduplicator() {
        this(DEFAULT_WINDOW, DEFAULT_STREAM_KEYS);
    }

    /** Records the answer to {@code batchId} of {@code streamKey} and says whether it is the first. */
    public Verdict offer(String streamKey, long batchId) {
        Objects.requireNonNull(streamKey, "streamKey");
        Window w = keys.get(streamKey);
        if (w == null) {
            keys.put(streamKey, new Window(window, batchId));
            first++;
            return Verdict.FIRST;
        }
        Verdict v = w.offer(batchId);
        switch (v) {
            case FIRST -> first++;
            case DUPLICATE -> duplicates++;
            case TOO_OLD -> tooOld++;
        }
        return v;
    }

    /** {@code offer(streamKey, batchId) == FIRST}. */
    public boolean firstTime(String streamKey, long batchId) {
        return offer(streamKey, batchId) == Verdict.FIRST;
    }

    /**
     * Whether an answer to this batch would be refused now (seen, or below the window), without
     * recording the batch (it counts as a use of the key for the least-recently-seen order).
     */
    public boolean wouldRefuse(String streamKey, long batchId) {
        Window w = keys.get(streamKey);
        return w != null && w.wouldRefuse(batchId);
    }

    /** Batch ids remembered per stream key. */
    public int window() {
        return window;
    }

    public int maxStreamKeys() {
        return maxStreamKeys;
    }

    /** Stream keys remembered now. */
    public int streamKeys() {
        return keys.size();
    }

    /** Answers taken as the first of their batch. */
    public long firstAnswers() {
        return first;
    }

    /** Answers refused as replays of one already seen. */
    public long duplicates() {
        return duplicates;
    }

    /** Answers refused for arriving below the window. */
    public long tooOld() {
        return tooOld;
    }

    /** Stream keys forgotten because more than {@link #maxStreamKeys()} were seen. */
    public long forgottenKeys() {
        return forgottenKeys;
    }

    /** One stream key's window: the last ids taken, in a ring, and the highest id let go of. */
    private static final class Window {
        private final long[] ids;
        private int size;
        private int next;
        private boolean hasFloor;
        private long floor;

        Window(int capacity, long batchId) {
            this.ids = new long[capacity];
            take(batchId);
        }

        Verdict offer(long id) {
            if (contains(id)) {
                return Verdict.DUPLICATE;
            }
            if (hasFloor && id <= floor) {
                return Verdict.TOO_OLD;
            }
            take(id);
            return Verdict.FIRST;
        }

        boolean wouldRefuse(long id) {
            return contains(id) || (hasFloor && id <= floor);
        }

        private void take(long id) {
            if (size == ids.length) {
                long released = ids[next];
                floor = hasFloor ? Math.max(floor, released) : released;
                hasFloor = true;
            } else {
                size++;
            }
            ids[next] = id;
            next = next + 1 == ids.length ? 0 : next + 1;
        }

        /** Newest first: a replay is usually of a recent batch. */
        private boolean contains(long id) {
            int i = next;
            for (int k = 0; k < size; k++) {
                i = i == 0 ? ids.length - 1 : i - 1;
                if (ids[i] == id) {
                    return true;
                }
            }
            return false;
        }
    }
}
