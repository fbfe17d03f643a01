package io.tripletflow.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.tripletflow.delivery.Deduplicator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code python/tripletflow/dedup.py} against {@link Deduplicator}: the same offers (and
 * would-refuse questions) give the same verdicts and the same counters, on in-order ids, replays
 * inside and below the window, reordering, more keys than it keeps, extreme ids, a window of one,
 * and seeded random streams. The offers go to Python in a file, one scenario after another.
 */
class PythonDeduplicatorTest {
    private static final String SCRIPT = """
            import sys
            sys.dont_write_bytecode = True
            sys.path.insert(0, sys.argv[1])
            from tripletflow.dedup import Deduplicator
            CODES = {"first": "F", "duplicate": "D", "too-old": "T"}
            rejected = 0
            for bad in ((0, 1), (-1, 1), (1, 0)):
                try:
                    Deduplicator(*bad)
                except ValueError:
                    rejected += 1
            d = Deduplicator()
            out = [f"defaults {d.window} {d.max_stream_keys} rejects {rejected}"]
            seen, codes = None, []
            def close():
                if seen is not None:
                    out.append(" ".join(["".join(codes), str(seen.first_answers), str(seen.duplicates),
                                         str(seen.too_old), str(seen.forgotten_keys), str(seen.stream_keys)]))
            with open(sys.argv[2], encoding="utf-8") as f:
                for line in f:
                    op, key, value = line.rstrip("\\n").split(" ")
                    if op == "scenario":
                        close()
                        seen, codes = Deduplicator(window=int(key), stream_keys=int(value)), []
                    elif op == "offer":
                        codes.append(CODES[seen.offer(key, int(value))])
                    else:
                        codes.append("R" if seen.would_refuse(key, int(value)) else "A")
            close()
            with open(sys.argv[3], "w", encoding="utf-8") as f:
                f.write("\\n".join(out) + "\\n")
            """;

    private static final List<Scenario> SCENARIOS = build();
    private static final List<String> PYTHON = new ArrayList<>();

    @TempDir
    static Path dir;

    /** One offer ({@code offer}) or one would-refuse question, of a stream key (no spaces) and batch id. */
    record Op(boolean offer, String key, long id) {}

    record Scenario(String name, int window, int streamKeys, List<Op> ops) {
        @Override
        public String toString() {
            return name + " (window " + window + ", " + streamKeys + " keys, " + ops.size() + " ops)";
        }
    }

    @BeforeAll
    static void runPython() throws Exception {
        Python.assumeModules("collections");
        StringBuilder in = new StringBuilder();
        for (Scenario s : SCENARIOS) {
            in.append("scenario ").append(s.window()).append(' ').append(s.streamKeys()).append('\n');
            for (Op op : s.ops()) {
                in.append(op.offer() ? "offer " : "ask ").append(op.key()).append(' ').append(op.id()).append('\n');
            }
        }
        Path offers = Files.writeString(dir.resolve("offers.txt"), in, StandardCharsets.UTF_8);
        Path verdicts = dir.resolve("verdicts.txt");
        Python.Result r = Python.run(List.of(Python.PYTHON.toString(), "-c", SCRIPT,
                PythonWireInteropTest.root().resolve("python").toString(), offers.toString(),
                verdicts.toString()), Map.of(), 120);
        assertThat(r.exit()).as(r.output()).isZero();
        PYTHON.addAll(Files.readAllLines(verdicts, StandardCharsets.UTF_8));
        assertThat(PYTHON).as("a line of defaults and one per scenario").hasSize(SCENARIOS.size() + 1);
    }

    @Test
    void hasTheDefaultsAndArgumentChecksOfJava() {
        assertThat(PYTHON.get(0)).isEqualTo("defaults " + Deduplicator.DEFAULT_WINDOW + " "
                + Deduplicator.DEFAULT_STREAM_KEYS + " rejects 3");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void givesJavasVerdictsAndCounters(Scenario scenario) {
        String java = javaVerdicts(scenario);
        String python = PYTHON.get(SCENARIOS.indexOf(scenario) + 1);
        String javaCodes = java.split(" ")[0];
        String pythonCodes = python.split(" ")[0];
        int at = 0;
        int common = Math.min(javaCodes.length(), pythonCodes.length());
        while (at < common && javaCodes.charAt(at) == pythonCodes.charAt(at)) {
            at++;
        }
        assertThat(pythonCodes).as("verdicts; first difference at op %d (%s)", at,
                at < scenario.ops().size() ? scenario.ops().get(at) : "past the end").isEqualTo(javaCodes);
        assertThat(python).as("verdicts, then first answers, duplicates, too old, forgotten keys, keys now")
                .isEqualTo(java);
        assertThat(javaCodes).hasSize(scenario.ops().size());
    }

    @Test
    void theScenariosReachEveryVerdict() {
        String all = String.join("", SCENARIOS.stream().map(s -> javaVerdicts(s).split(" ")[0]).toList());
        assertThat(all).contains("F", "D", "T", "R", "A");
        assertThat(SCENARIOS.stream().filter(s -> Long.parseLong(javaVerdicts(s).split(" ")[4]) > 0))
                .as("scenarios that forget keys").isNotEmpty();
        assertThat(SCENARIOS.stream().mapToInt(s -> s.ops().size()).sum()).isGreaterThan(3_000);
    }

    /** The verdict codes and the counters, in the script's format. */
    private static String javaVerdicts(Scenario s) {
        Deduplicator seen = new Deduplicator(s.window(), s.streamKeys());
        StringBuilder codes = new StringBuilder();
        for (Op op : s.ops()) {
            if (op.offer()) {
                codes.append(switch (seen.offer(op.key(), op.id())) {
                    case FIRST -> 'F';
                    case DUPLICATE -> 'D';
                    case TOO_OLD -> 'T';
                });
            } else {
                codes.append(seen.wouldRefuse(op.key(), op.id()) ? 'R' : 'A');
            }
        }
        return codes + " " + seen.firstAnswers() + " " + seen.duplicates() + " " + seen.tooOld() + " "
                + seen.forgottenKeys() + " " + seen.streamKeys();
    }

    static Stream<Scenario> scenarios() {
        return SCENARIOS.stream();
    }

    private static List<Scenario> build() {
        List<Scenario> all = new ArrayList<>();
        List<Op> ops = new ArrayList<>();
        for (long id = 1; id <= 50; id++) {
            ops.add(offer("a", id));
        }
        all.add(new Scenario("in order", 8, 4, ops));

        ops = new ArrayList<>();
        for (long id = 1; id <= 40; id++) {
            ops.add(offer("a", id));
            if (id % 3 == 0) {
                ops.add(offer("a", id));
                ops.add(offer("a", id - 2));
                ops.add(ask("a", id - 1));
            }
        }
        all.add(new Scenario("replays of recent ids", 8, 4, ops));

        ops = new ArrayList<>();
        for (long id = 1; id <= 20; id++) {
            ops.add(offer("a", id));
        }
        for (long id = 20; id >= -3; id--) {
            ops.add(ask("a", id));
            ops.add(offer("a", id));
        }
        ops.add(offer("a", 21));
        all.add(new Scenario("replays older than the window", 4, 4, ops));

        ops = new ArrayList<>();
        Random shuffle = new Random(5);
        for (int block = 0; block < 8; block++) {
            List<Long> ids = new ArrayList<>();
            for (long id = 1; id <= 7; id++) {
                ids.add(block * 7 + id);
            }
            Collections.shuffle(ids, shuffle);                        // 7 = window + 1: still tolerated
            for (long id : ids) {
                ops.add(offer("b", id));
            }
            ops.add(offer("b", ids.get(0)));
        }
        all.add(new Scenario("reordering inside the window", 6, 4, ops));

        List<Op> forgetting = new ArrayList<>();
        for (int round = 1; round <= 4; round++) {
            for (int k = 0; k < 7; k++) {
                forgetting.add(offer("key-" + k, round));
                forgetting.add(offer("key-" + (k + 6) % 7, round));
                forgetting.add(ask("key-" + (k + 3) % 7, round));
            }
        }
        forgetting.add(offer("schlüssel-ß", 1));
        forgetting.add(offer("schlüssel-ß", 1));
        all.add(new Scenario("more keys than it keeps", 4, 3, forgetting));

        all.add(new Scenario("would-refuse counts as a use of the key", 4, 2, List.of(
                offer("a", 1), offer("b", 1), ask("a", 1), offer("c", 1), offer("a", 1), offer("b", 1),
                ask("zzz", 1), offer("c", 1))));

        List<Op> extremes = new ArrayList<>();
        long[] ids = {Long.MIN_VALUE, -1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE + 1, 0, Long.MAX_VALUE,
                Long.MAX_VALUE - 1, -(1L << 53) - 1, 1L << 53, (1L << 53) + 1, Long.MIN_VALUE, Long.MAX_VALUE};
        for (long id : ids) {
            extremes.add(ask("x", id));
            extremes.add(offer("x", id));
            extremes.add(offer("y", -id - 1));
        }
        all.add(new Scenario("negative and extreme ids", 3, 4, extremes));

        ops = new ArrayList<>();
        for (long id : new long[] {1, 1, 2, 1, 2, 4, 3, 4, 3, 10, 11, 9, 12, 12, 11, 13}) {
            ops.add(offer("w", id));
        }
        all.add(new Scenario("a window of one", 1, 2, ops));

        Random random = new Random(1_234_567L);
        int[] windows = {1, 2, 3, 7, 16, 64};
        for (int n = 0; n < windows.length; n++) {
            all.add(randomScenario("random " + n, windows[n], 1 + random.nextInt(5), random));
        }
        return all;
    }

    /**
     * Mostly ascending ids per key with random gaps and local reordering, replays of recent and old
     * ids, now and then an arbitrary or extreme id, a question, and more keys than kept.
     */
    private static Scenario randomScenario(String name, int window, int streamKeys, Random random) {
        int keys = streamKeys + random.nextInt(3);
        long[] last = new long[keys];
        for (int k = 0; k < keys; k++) {
            last[k] = random.nextInt(1000) - 500L;
        }
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 800; i++) {
            int k = random.nextInt(8) == 0 ? random.nextInt(keys) : random.nextInt(streamKeys);   // forget now and then
            String key = "r" + k;
            int pick = random.nextInt(200);
            long id;
            if (pick < 100) {
                last[k] += 1 + random.nextInt(3);
                id = last[k];
            } else if (pick < 130) {
                id = last[k] + 1 + random.nextInt(2 * window + 2);     // ahead: later ones arrive reordered
            } else if (pick < 175) {
                id = last[k] - random.nextInt(3 * window + 2);         // a replay, or a late first answer
            } else if (pick < 197) {
                id = random.nextInt(2001) - 1000L;                     // not increasing
            } else if (pick < 199) {
                id = random.nextLong();
            } else {
                id = random.nextBoolean() ? Long.MIN_VALUE : Long.MAX_VALUE;
            }
            ops.add(random.nextInt(10) == 0 ? ask(key, id) : offer(key, id));
        }
        return new Scenario(name, window, streamKeys, ops);
    }

    private static Op offer(String key, long id) {
        return new Op(true, key, id);
    }

    private static Op ask(String key, long id) {
        return new Op(false, key, id);
    }
}
