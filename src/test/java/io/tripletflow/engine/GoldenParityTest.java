package io.tripletflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tripletflow.engine.MiningOptions.RngKind;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.testutils.GoldenCases;
import io.tripletflow.testutils.GoldenCases.GoldenCase;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every golden case of the seed reproduced by the CPU backend, within the cases' own tolerance. */
class GoldenParityTest {

    static Stream<GoldenCase> finiteCases() {
        return GoldenCases.all().stream().filter(GoldenCase::finite);
    }

    @Test
    void everyCaseIsRead() {
        List<GoldenCase> all = GoldenCases.all();
        assertThat(all).hasSizeGreaterThanOrEqualTo(24);
        assertThat(all).extracting(c -> c.name).contains("big_n512_d128_hard1", "rng_n64_d16_hard075", "cnt0_inf");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("finiteCases")
    void reproducesTheSeed(GoldenCase golden) throws Exception {
        try (CpuMiningBackend backend = new CpuMiningBackend(golden.options().build(), 2)) {
            assertMatches(golden, backend.mine(golden.batch()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("finiteCases")
    void deterministicCasesDoNotDependOnTheGenerator(GoldenCase golden) throws Exception {
        if (golden.rngMatters) {
            return;
        }
        MiningOptions counter = golden.options().rng(RngKind.COUNTER).rngSeed(12345).build();
        try (CpuMiningBackend backend = new CpuMiningBackend(counter, 2)) {
            assertMatches(golden, backend.mine(golden.batch()));
        }
    }

    @Test
    void theSeedsNaNCaseIsAConfigurationError() {
        GoldenCase nan = GoldenCases.all().stream().filter(c -> c.name.equals("neg_num0_nan")).findFirst().orElseThrow();
        assertThat(nan.loss).isNaN();
        assertThatThrownBy(() -> nan.options().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neg-num must be >= 1, got 0");
    }

    @Test
    void theSeedsInfiniteCaseIsAnInvalidBatch() {
        GoldenCase inf = GoldenCases.all().stream().filter(c -> c.name.equals("cnt0_inf")).findFirst().orElseThrow();
        assertThat(inf.loss).isInfinite();
        try (CpuMiningBackend backend = new CpuMiningBackend(inf.options().build(), 1)) {
            assertThatThrownBy(() -> backend.mine(inf.batch()))
                    .isInstanceOf(InvalidBatchException.class)
                    .hasMessageContaining("rows")
                    .hasMessageContaining("cnt = neg-num * N / pair-size * 2 = 1 * 2 / 3 * 2 = 0")
                    .satisfies(e -> assertThat(((InvalidBatchException) e).reason()).isEqualTo("empty-seed-count"));
        }
    }

    static void assertMatches(GoldenCase golden, MiningResult got) {
        int n = golden.rows;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertThat(got.isSelected(i, j)).as("%s: mask[%d][%d]", golden.name, i, j).isEqualTo(golden.mask[i][j]);
            }
        }
        double exp = golden.loss;
        double scale = Double.isNaN(golden.lossScale) ? Math.abs(exp) : golden.lossScale;
        double lossTolerance = 1e-5 * Math.max(Math.abs(exp), scale)
                + (2.0 * golden.maskCount() + 4) * Math.pow(2, -24) * Math.abs(exp);
        assertThat((double) got.loss()).as("%s: loss", golden.name).isCloseTo(exp, org.assertj.core.data.Offset.offset(lossTolerance));
        double maxExpected = 0;
        for (float g : golden.gradients) maxExpected = Math.max(maxExpected, Math.abs(g));
        double worst = 0;
        int worstAt = -1;
        float[] grad = got.gradients();
        for (int k = 0; k < golden.gradients.length; k++) {
            double diff = Math.abs(grad[k] - golden.gradients[k]);
            if (diff > worst) {
                worst = diff;
                worstAt = k;
            }
        }
        assertThat(worst).as("%s: max |grad - expected| (at %d)", golden.name, worstAt).isLessThanOrEqualTo(1e-5 * maxExpected);
        assertThat(got.selectedTriplets()).as("%s: selected triplets", golden.name).isEqualTo(golden.maskCount());
    }
}
