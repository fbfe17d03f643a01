package io.tripletflow.engine.loss;

/** Which loss turns a triplet into a term ({@code loss}). */
public enum LossKind { DOUBLE_HINGE, HINGE, SOFT }
