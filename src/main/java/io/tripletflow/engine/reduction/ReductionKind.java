package io.tripletflow.engine.reduction;

/** How the terms become one loss ({@code reduction}). */
public enum ReductionKind { SEED, MEAN_NONZERO, MEAN }
