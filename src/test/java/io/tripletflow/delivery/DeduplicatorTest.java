package io.tripletflow.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.delivery.Deduplicator.Verdict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Deduplicator}: each verdict, the floor, forgetting keys, the counters, and the promise of
 * its Javadoc as properties over seeded random streams: with ascending ids per key no replay is ever
 * taken whatever the window, and every first answer is taken while reordering stays within it.
 */
class DeduplicatorTest {
    private static final int IDS_PER_KEY = 300;

    @Test
    void takesTheFirstAnswerAndRefusesItsReplay() {
        Deduplicator seen = new Deduplicator(4, 4);
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.firstTime("k", 1)).isFalse();
        assertThat(seen.firstTime("k", 2)).isTrue();
        assertThat(seen.offer("k", 2)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.firstAnswers()).isEqualTo(2);
        assertThat(seen.duplicates()).isEqualTo(3);
        assertThat(seen.tooOld()).isZero();
        assertThat(seen.streamKeys()).isEqualTo(1);
    }

    @Test
    void streamKeysAreIndependent() {
        Deduplicator seen = new Deduplicator(4, 4);
        assertThat(seen.offer("a", 7)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("b", 7)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("a", 7)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.streamKeys()).isEqualTo(2);
        assertThat(seen.firstAnswers()).isEqualTo(2);
    }

    @Test
    void idsAtOrBelowTheFloorAreTooOldAndTheWindowStillSaysDuplicate() {
        Deduplicator seen = new Deduplicator(3, 4);
        for (long id = 1; id <= 4; id++) {
            assertThat(seen.offer("k", id)).isEqualTo(Verdict.FIRST);
        }
        // The window holds 2, 3, 4; 1 was let go of: the floor is 1.
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 0)).isEqualTo(Verdict.TOO_OLD);   // never seen, but below the floor
        assertThat(seen.offer("k", -5)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 2)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.offer("k", 4)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.offer("k", 5)).isEqualTo(Verdict.FIRST);      // lets 2 go: floor 2
        assertThat(seen.offer("k", 2)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.firstAnswers()).isEqualTo(5);
        assertThat(seen.duplicates()).isEqualTo(2);
        assertThat(seen.tooOld()).isEqualTo(4);
    }

    @Test
    void theFloorIsTheHighestIdEverLetGoOf() {
        Deduplicator seen = new Deduplicator(2, 4);
        assertThat(seen.offer("k", 10)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", 5)).isEqualTo(Verdict.FIRST);      // reordered, inside the window
        assertThat(seen.offer("k", 20)).isEqualTo(Verdict.FIRST);     // lets 10 go: floor 10
        assertThat(seen.offer("k", 6)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 30)).isEqualTo(Verdict.FIRST);     // lets 5 go: the floor stays 10
        assertThat(seen.offer("k", 7)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 10)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 11)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", 5)).isEqualTo(Verdict.TOO_OLD);
    }

    @Test
    void reorderingInsideTheWindowIsTakenAndGapsAreAllowed() {
        Deduplicator seen = new Deduplicator(4, 4);
        long[] ids = {3, 1, 4, 2, 8, 6, 100, 7};
        for (long id : ids) {
            assertThat(seen.offer("k", id)).as("id %d", id).isEqualTo(Verdict.FIRST);
        }
        // 3, 1, 4, 2 were let go of (floor 4); 8, 6, 100, 7 are in the window.
        assertThat(seen.offer("k", 4)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 2)).isEqualTo(Verdict.TOO_OLD);
        for (long id : new long[] {8, 6, 100, 7}) {
            assertThat(seen.offer("k", id)).as("id %d", id).isEqualTo(Verdict.DUPLICATE);
        }
        assertThat(seen.offer("k", 5)).isEqualTo(Verdict.FIRST);      // a gap below the newest id, above the floor
    }

    @Test
    void aWindowOfOneRemembersTheLastIdAndTheFloor() {
        Deduplicator seen = new Deduplicator(1, 1);
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.offer("k", 2)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 2)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.offer("k", 4)).isEqualTo(Verdict.FIRST);      // lets 2 go: floor 2
        assertThat(seen.offer("k", 3)).isEqualTo(Verdict.FIRST);      // one newer answer came first: tolerated
        assertThat(seen.offer("k", 4)).isEqualTo(Verdict.TOO_OLD);    // let go of by 3: at the floor now
        assertThat(seen.offer("k", 3)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.offer("k", 10)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", 11)).isEqualTo(Verdict.FIRST);     // lets 10 go: floor 10
        assertThat(seen.offer("k", 9)).isEqualTo(Verdict.TOO_OLD);    // two newer answers came first
    }

    /**
     * How much reordering a window tolerates, exactly: an answer is taken while at most
     * {@code window} newer answers of its key came before it; after {@code window + 1} the oldest
     * of them has been let go of, the floor is above it and it is refused.
     */
    @ParameterizedTest(name = "window {0}")
    @ValueSource(ints = {1, 2, 5})
    void toleratesWindowNewerAnswersBeforeOneAndNotMore(int window) {
        Deduplicator tolerated = new Deduplicator(window, 1);
        Deduplicator tooLate = new Deduplicator(window, 1);
        for (long newer = 1; newer <= window; newer++) {
            tolerated.offer("k", 100 + newer);
            tooLate.offer("k", 100 + newer);
        }
        tooLate.offer("k", 100 + window + 1);
        assertThat(tolerated.offer("k", 100)).isEqualTo(Verdict.FIRST);
        assertThat(tooLate.offer("k", 100)).isEqualTo(Verdict.TOO_OLD);
    }

    @Test
    void extremeIdsAreOrdinaryIds() {
        Deduplicator seen = new Deduplicator(2, 4);
        assertThat(seen.offer("k", Long.MIN_VALUE)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", Long.MIN_VALUE)).isEqualTo(Verdict.DUPLICATE);
        assertThat(seen.offer("k", -1)).isEqualTo(Verdict.FIRST);
        assertThat(seen.offer("k", Long.MAX_VALUE)).isEqualTo(Verdict.FIRST);    // lets MIN go: floor MIN
        assertThat(seen.offer("k", Long.MIN_VALUE)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", Long.MIN_VALUE + 1)).isEqualTo(Verdict.FIRST); // lets -1 go: floor -1
        assertThat(seen.offer("k", 0)).isEqualTo(Verdict.FIRST);                  // lets MAX go: floor MAX
        assertThat(seen.offer("k", Long.MAX_VALUE)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 1)).isEqualTo(Verdict.TOO_OLD);
        assertThat(seen.offer("k", 0)).isEqualTo(Verdict.DUPLICATE);
    }

    @Test
    void forgetsTheStreamKeySeenLeastRecently() {
        Deduplicator seen = new Deduplicator(4, 2);
        seen.offer("a", 1);
        seen.offer("b", 1);
        assertThat(seen.offer("a", 1)).isEqualTo(Verdict.DUPLICATE); // a is now the most recently seen
        seen.offer("c", 1);                                           // forgets b, not a
        assertThat(seen.streamKeys()).isEqualTo(2);
        assertThat(seen.forgottenKeys()).isEqualTo(1);
        assertThat(seen.wouldRefuse("a", 1)).isTrue();
        assertThat(seen.wouldRefuse("c", 1)).isTrue();
        assertThat(seen.wouldRefuse("b", 1)).isFalse();
        assertThat(seen.offer("b", 1)).isEqualTo(Verdict.FIRST);     // forgotten: taken as new; forgets the eldest
        assertThat(seen.forgottenKeys()).isEqualTo(2);
        assertThat(seen.streamKeys()).isEqualTo(2);
        assertThat(seen.firstAnswers()).isEqualTo(4);
        assertThat(seen.duplicates()).isEqualTo(1);
    }

    @Test
    void wouldRefuseRecordsNothing() {
        Deduplicator seen = new Deduplicator(2, 4);
        assertThat(seen.wouldRefuse("k", 1)).isFalse();
        assertThat(seen.streamKeys()).isZero();
        seen.offer("k", 1);
        seen.offer("k", 2);
        seen.offer("k", 3);                                           // floor 1
        assertThat(seen.wouldRefuse("k", 1)).isTrue();
        assertThat(seen.wouldRefuse("k", 3)).isTrue();
        assertThat(seen.wouldRefuse("k", 4)).isFalse();
        assertThat(seen.wouldRefuse("k", 4)).isFalse();               // asking twice took nothing
        assertThat(seen.wouldRefuse("other", 1)).isFalse();
        assertThat(seen.streamKeys()).isEqualTo(1);
        assertThat(List.of(seen.firstAnswers(), seen.duplicates(), seen.tooOld())).containsExactly(3L, 0L, 0L);
        assertThat(seen.offer("k", 4)).isEqualTo(Verdict.FIRST);
    }

    @Test
    void checksItsArguments() {
        assertThatThrownBy(() -> new Deduplicator(0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("window").hasMessageContaining("got 0");
        assertThatThrownBy(() -> new Deduplicator(-3, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("window").hasMessageContaining("got -3");
        assertThatThrownBy(() -> new Deduplicator(1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("streamKeys").hasMessageContaining("got 0");
        assertThatThrownBy(() -> new Deduplicator().offer(null, 1)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("streamKey");
        Deduplicator defaults = new Deduplicator();
        assertThat(defaults.window()).isEqualTo(Deduplicator.DEFAULT_WINDOW).isEqualTo(1024);
        assertThat(defaults.maxStreamKeys()).isEqualTo(Deduplicator.DEFAULT_STREAM_KEYS).isEqualTo(4096);
        Deduplicator smallest = new Deduplicator(1, 1);
        assertThat(smallest.window()).isEqualTo(1);
        assertThat(smallest.maxStreamKeys()).isEqualTo(1);
    }

    /**
     * Ascending ids per key, each first offered once in blocks of {@code window + 1} shuffled among
     * themselves (the most reordering the window tolerates), with replays of random earlier ids
     * (recent or long gone) injected: every first offer is taken, every replay refused.
     */
    @ParameterizedTest(name = "window {0}")
    @ValueSource(ints = {1, 2, 3, 8, 64})
    void takesEveryFirstAnswerAndNoReplayWhileReorderingStaysInTheWindow(int window) {
        Random random = new Random(20_240_611L + window);
        int keys = 5;
        Deduplicator seen = new Deduplicator(window, keys);
        Map<String, List<Long>> arrivals = new HashMap<>();
        for (int k = 0; k < keys; k++) {
            List<Long> ids = new ArrayList<>();
            long id = random.nextInt(2001) - 1000L;
            for (int i = 0; i < IDS_PER_KEY; i++) {
                id += 1 + random.nextInt(5);
                ids.add(id);
            }
            for (int from = 0; from < ids.size(); from += window + 1) {
                Collections.shuffle(ids.subList(from, Math.min(ids.size(), from + window + 1)), random);
            }
            arrivals.put("key-" + k, ids);
        }
        Map<String, Integer> next = new HashMap<>();
        Map<String, List<Long>> taken = new HashMap<>();
        long firsts = 0;
        long replays = 0;
        while (next.size() < keys || next.values().stream().anyMatch(i -> i < IDS_PER_KEY)) {
            String key = "key-" + random.nextInt(keys);
            int i = next.getOrDefault(key, 0);
            List<Long> done = taken.computeIfAbsent(key, x -> new ArrayList<>());
            if (!done.isEmpty() && (i == IDS_PER_KEY || random.nextInt(3) == 0)) {
                int back = random.nextBoolean() ? random.nextInt(Math.min(done.size(), 2 * window)) // recent
                        : random.nextInt(done.size());                                            // any
                long replay = done.get(done.size() - 1 - back);
                assertThat(seen.wouldRefuse(key, replay)).as("%s replay of %d", key, replay).isTrue();
                assertThat(seen.offer(key, replay)).as("%s replay of %d", key, replay).isNotEqualTo(Verdict.FIRST);
                replays++;
            } else if (i < IDS_PER_KEY) {
                long id = arrivals.get(key).get(i);
                assertThat(seen.wouldRefuse(key, id)).as("%s before the first offer of %d", key, id).isFalse();
                assertThat(seen.offer(key, id)).as("%s first offer of %d (arrival %d)", key, id, i)
                        .isEqualTo(Verdict.FIRST);
                done.add(id);
                next.put(key, i + 1);
                firsts++;
            }
        }
        assertThat(seen.firstAnswers()).isEqualTo(firsts).isEqualTo((long) keys * IDS_PER_KEY);
        assertThat(seen.duplicates() + seen.tooOld()).isEqualTo(replays);
        assertThat(seen.duplicates()).as("replays from the window").isPositive();
        assertThat(seen.tooOld()).as("replays from below the window").isPositive();
        assertThat(seen.forgottenKeys()).isZero();
    }

    /**
     * At most once holds for any order of ids, increasing or not: an id once taken stays in the
     * window or at or below the floor, so it is never taken again while its key is remembered.
     */
    @ParameterizedTest(name = "window {0}")
    @ValueSource(ints = {1, 2, 5, 32})
    void neverTakesAnIdTwiceWhateverTheOrder(int window) {
        Random random = new Random(7_919L * window);
        Deduplicator seen = new Deduplicator(window, 3);
        Set<String> takenOnce = new HashSet<>();
        Map<Verdict, Integer> verdicts = new HashMap<>();
        for (int n = 0; n < 5_000; n++) {
            String key = "k" + random.nextInt(3);
            long id = random.nextInt(200) - 100;
            Verdict v = seen.offer(key, id);
            verdicts.merge(v, 1, Integer::sum);
            if (v == Verdict.FIRST) {
                assertThat(takenOnce.add(key + "/" + id)).as("%s taken twice", key + "/" + id).isTrue();
            }
        }
        assertThat(seen.forgottenKeys()).isZero();
        assertThat(verdicts.values().stream().mapToLong(Integer::longValue).sum()).isEqualTo(5_000);
        assertThat(seen.firstAnswers()).isEqualTo(verdicts.getOrDefault(Verdict.FIRST, 0).longValue());
        assertThat(seen.duplicates()).isEqualTo(verdicts.getOrDefault(Verdict.DUPLICATE, 0).longValue());
        assertThat(seen.tooOld()).isEqualTo(verdicts.getOrDefault(Verdict.TOO_OLD, 0).longValue()).isPositive();
    }
}
