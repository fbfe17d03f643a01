package io.tripletflow.engine;

import io.tripletflow.config.OptionName;
import io.tripletflow.engine.distance.DistanceKind;
import io.tripletflow.engine.loss.LossKind;
import io.tripletflow.engine.miner.MinerKind;
import io.tripletflow.engine.reduction.ReductionKind;

/**
 * Every parameter of the mining step, named as in {@code docs/mining.md}, validated once.
 *
 * <pre>{@code
 * MiningOptions seed = MiningOptions.builder().negNum(4).pairSize(2).hardRatio(0.5f)
 *         .randRatio(0.5f).margin(1f).build();
 * }</pre>
 *
 * <p>{@link #seedCompatible()} is the Caffe layer's own composition; {@link #defaults()} is the
 * streaming default (the same mining, with the counter generator and label-mismatch rejection).
 */
public final class MiningOptions implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** The largest cross-batch memory per stream key, in rows. */
    public static final int MAX_MEMORY_ROWS = 65536;

    /** Which rows are an anchor's positives ({@code positives}). */
    public enum PositivesKind {
        PAIRS, ALL;

        @Override
        public String toString() {
            return optionName(this);
        }
    }

    /** Where the random negatives' draws come from ({@code rng}). */
    public enum RngKind {
        SEED_COMPAT, COUNTER;

        @Override
        public String toString() {
            return optionName(this);
        }
    }

    /** What a positive whose label differs from its anchor's does ({@code on-label-mismatch}). */
    public enum LabelMismatchPolicy {
        REJECT, SKIP_ANCHOR, SEED;

        @Override
        public String toString() {
            return optionName(this);
        }
    }

    private final int negNum;
    private final int pairSize;
    private final float hardRatio;
    private final float randRatio;
    private final float margin;
    private final float lossWeight;
    private final DistanceKind distance;
    private final MinerKind miner;
    private final PositivesKind positives;
    private final LossKind loss;
    private final ReductionKind reduction;
    private final RngKind rng;
    private final long rngSeed;
    private final LabelMismatchPolicy onLabelMismatch;
    private final int memoryRows;
    private final int memoryWarmUp;
    private final long memoryMaxAge;
    private final boolean memoryPositives;

    private MiningOptions(Builder b) {
        this.negNum = b.negNum;
        this.pairSize = b.pairSize;
        this.hardRatio = b.hardRatio;
        this.randRatio = b.randRatio;
        this.margin = b.margin;
        this.lossWeight = b.lossWeight;
        this.distance = b.distance;
        this.miner = b.miner;
        this.positives = b.positives;
        this.loss = b.loss;
        this.reduction = b.reduction;
        this.rng = b.rng;
        this.rngSeed = b.rngSeed;
        this.onLabelMismatch = b.onLabelMismatch;
        this.memoryRows = b.memoryRows;
        this.memoryWarmUp = b.memoryWarmUp;
        this.memoryMaxAge = b.memoryMaxAge;
        this.memoryPositives = b.memoryPositives;
        validate();
    }

    private void validate() {
        if (negNum < 1) {
            throw new IllegalArgumentException("neg-num must be >= 1, got " + negNum
                    + " (the seed divides by neg-num * N / pair-size * 2 and returns NaN for 0)");
        }
        if (pairSize < 1) {
            throw new IllegalArgumentException("pair-size must be >= 1, got " + pairSize);
        }
        requireRatio("hard-ratio", hardRatio);
        requireRatio("rand-ratio", randRatio);
        if (!Float.isFinite(margin)) {
            throw new IllegalArgumentException("margin must be a finite number, got " + margin);
        }
        if (memoryRows < 0 || memoryRows > MAX_MEMORY_ROWS) {
            throw new IllegalArgumentException("memory-rows must be between 0 (no memory) and " + MAX_MEMORY_ROWS
                    + ", got " + memoryRows);
        }
        if (memoryWarmUp < 0) {
            throw new IllegalArgumentException("memory-warm-up must be >= 0 batches, got " + memoryWarmUp);
        }
        if (memoryMaxAge < -1) {
            throw new IllegalArgumentException("memory-max-age must be >= 0 model steps, or -1 for any age, got "
                    + memoryMaxAge);
        }
        if (!Float.isFinite(lossWeight)) {
            throw new IllegalArgumentException("loss-weight must be a finite number, got " + lossWeight);
        }
    }

    private static void requireRatio(String name, float value) {
        if (!(value >= 0f) || !Float.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + value);
        }
    }

    /** The Caffe layer as published: rank-hard mining, neg-dot, double hinge, ÷ cnt, MT19937. */
    public static MiningOptions seedCompatible() {
        return builder().rng(RngKind.SEED_COMPAT).onLabelMismatch(LabelMismatchPolicy.SEED).build();
    }

    /** The streaming defaults: the seed's mining with the counter generator. */
    public static MiningOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().negNum(negNum).pairSize(pairSize).hardRatio(hardRatio).randRatio(randRatio)
                .margin(margin).lossWeight(lossWeight).distance(distance).miner(miner).positives(positives)
                .loss(loss).reduction(reduction).rng(rng).rngSeed(rngSeed).onLabelMismatch(onLabelMismatch)
                .memoryRows(memoryRows).memoryWarmUp(memoryWarmUp).memoryMaxAge(memoryMaxAge)
                .memoryPositives(memoryPositives);
    }

    /** {@code (int)((float) neg_num * (float) hard_ratio)}, the seed's truncation. */
    public int hardNum() {
        return (int) ((float) negNum * hardRatio);
    }

    /** {@code (int)((float) neg_num * (float) rand_ratio)}. */
    public int randNum() {
        return (int) ((float) negNum * randRatio);
    }

    public int negNum() { return negNum; }
    public int pairSize() { return pairSize; }
    public float hardRatio() { return hardRatio; }
    public float randRatio() { return randRatio; }
    public float margin() { return margin; }
    public float lossWeight() { return lossWeight; }
    public DistanceKind distance() { return distance; }
    public MinerKind miner() { return miner; }
    public PositivesKind positives() { return positives; }
    public LossKind loss() { return loss; }
    public ReductionKind reduction() { return reduction; }
    public RngKind rng() { return rng; }
    public long rngSeed() { return rngSeed; }
    public LabelMismatchPolicy onLabelMismatch() { return onLabelMismatch; }
    /** Rows of cross-batch memory per stream key; 0: none. */
    public int memoryRows() { return memoryRows; }
    /** Batches enqueued before the memory is mined against. */
    public int memoryWarmUp() { return memoryWarmUp; }
    /** Memory rows more than this many model steps older than the batch are not mined; -1: any age. */
    public long memoryMaxAge() { return memoryMaxAge; }
    /** Whether memory rows of an anchor's label are its positives too (else they are left out). */
    public boolean memoryPositives() { return memoryPositives; }

    /**
     * The option value as written in configuration: {@code SQUARED_EUCLIDEAN} is
     * {@code squared-euclidean}. Each option's enum returns it from {@code toString()}, which is what
     * Flink's {@code enumType} options match (ignoring case).
     */
    public static String optionName(Enum<?> value) {
        return OptionName.of(value);
    }

    @Override
    public String toString() {
        return "neg-num=" + negNum + " pair-size=" + pairSize + " hard-ratio=" + hardRatio
                + " rand-ratio=" + randRatio + " margin=" + margin + " loss-weight=" + lossWeight
                + " distance=" + distance + " miner=" + miner + " positives=" + positives + " loss=" + loss
                + " reduction=" + reduction + " rng=" + rng + " rng-seed=" + rngSeed
                + " on-label-mismatch=" + onLabelMismatch
                + " memory-rows=" + memoryRows + " memory-warm-up=" + memoryWarmUp
                + " memory-max-age=" + memoryMaxAge + " memory-positives=" + memoryPositives;
    }

    /** Builder with the spec's defaults (4 / 2 / 0.5 / 0.5 / margin 1.0). */
    public static final class Builder {
        private int negNum = 4;
        private int pairSize = 2;
        private float hardRatio = 0.5f;
        private float randRatio = 0.5f;
        private float margin = 1.0f;
        private float lossWeight = 1.0f;
        private DistanceKind distance = DistanceKind.NEG_DOT;
        private MinerKind miner = MinerKind.RANK_HARD;
        private PositivesKind positives = PositivesKind.PAIRS;
        private LossKind loss = LossKind.DOUBLE_HINGE;
        private ReductionKind reduction = ReductionKind.SEED;
        private RngKind rng = RngKind.COUNTER;
        private long rngSeed = 1;
        private LabelMismatchPolicy onLabelMismatch = LabelMismatchPolicy.REJECT;
        private int memoryRows = 0;
        private int memoryWarmUp = 0;
        private long memoryMaxAge = -1;
        private boolean memoryPositives = false;

        public Builder negNum(int v) { negNum = v; return this; }
        public Builder pairSize(int v) { pairSize = v; return this; }
        public Builder hardRatio(float v) { hardRatio = v; return this; }
        public Builder randRatio(float v) { randRatio = v; return this; }
        public Builder margin(float v) { margin = v; return this; }
        public Builder lossWeight(float v) { lossWeight = v; return this; }
        public Builder distance(DistanceKind v) { distance = v; return this; }
        public Builder miner(MinerKind v) { miner = v; return this; }
        public Builder positives(PositivesKind v) { positives = v; return this; }
        public Builder loss(LossKind v) { loss = v; return this; }
        public Builder reduction(ReductionKind v) { reduction = v; return this; }
        public Builder rng(RngKind v) { rng = v; return this; }
        public Builder rngSeed(long v) { rngSeed = v; return this; }
        public Builder onLabelMismatch(LabelMismatchPolicy v) { onLabelMismatch = v; return this; }
        public Builder memoryRows(int v) { memoryRows = v; return this; }
        public Builder memoryWarmUp(int v) { memoryWarmUp = v; return this; }
        public Builder memoryMaxAge(long v) { memoryMaxAge = v; return this; }
        public Builder memoryPositives(boolean v) { memoryPositives = v; return this; }

        public MiningOptions build() {
            return new MiningOptions(this);
        }
    }
}
