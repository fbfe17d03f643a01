package io.tripletflow.engine;

import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.MiningOptions.LabelMismatchPolicy;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.MiningOptions.PositivesKind;
import io.tripletflow.engine.reduction.ReductionKind;
import io.tripletflow.engine.MiningOptions.RngKind;
import java.util.List;
import java.util.function.Function;

/**
 * Reads {@link MiningOptions} from text settings named as in the spec ({@code neg-num},
 * {@code hard-ratio}, ...): the command line and the job configuration use the same names.
 */
public final class MiningOptionParser {
    /** Every option name, in the spec's order. */
    public static final List<String> NAMES = List.of("neg-num", "pair-size", "hard-ratio", "rand-ratio", "margin",
            "loss-weight", "distance", "miner", "positives", "loss", "reduction", "rng", "rng-seed", "on-label-mismatch");

    private MiningOptionParser() {}

    /**
     * Builds options from {@code setting(name)}, which returns null for an option left at its default.
     *
     * @param base the defaults to start from
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    public static MiningOptions parse(MiningOptions base, Function<String, String> setting) {
        MiningOptions.Builder b = base.toBuilder();
        String v;
        if ((v = setting.apply("neg-num")) != null) b.negNum(OptionText.integer("neg-num", v));
        if ((v = setting.apply("pair-size")) != null) b.pairSize(OptionText.integer("pair-size", v));
        if ((v = setting.apply("hard-ratio")) != null) b.hardRatio(OptionText.floatNumber("hard-ratio", v));
        if ((v = setting.apply("rand-ratio")) != null) b.randRatio(OptionText.floatNumber("rand-ratio", v));
        if ((v = setting.apply("margin")) != null) b.margin(OptionText.floatNumber("margin", v));
        if ((v = setting.apply("loss-weight")) != null) b.lossWeight(OptionText.floatNumber("loss-weight", v));
        if ((v = setting.apply("distance")) != null) b.distance(MiningOptions.parseOption("distance", v, DistanceKind.class));
        if ((v = setting.apply("miner")) != null) b.miner(MiningOptions.parseOption("miner", v, MinerKind.class));
        if ((v = setting.apply("positives")) != null) b.positives(MiningOptions.parseOption("positives", v, PositivesKind.class));
        if ((v = setting.apply("loss")) != null) b.loss(MiningOptions.parseOption("loss", v, LossKind.class));
        if ((v = setting.apply("reduction")) != null) b.reduction(MiningOptions.parseOption("reduction", v, ReductionKind.class));
        if ((v = setting.apply("rng")) != null) b.rng(MiningOptions.parseOption("rng", v, RngKind.class));
        if ((v = setting.apply("rng-seed")) != null) b.rngSeed(OptionText.longInteger("rng-seed", v));
        if ((v = setting.apply("on-label-mismatch")) != null) {
            b.onLabelMismatch(MiningOptions.parseOption("on-label-mismatch", v, LabelMismatchPolicy.class));
        }
        return b.build();
    }
}
