package io.tripletflow.engine.distance;

/** Which pairwise distance mining uses ({@code distance}). */
public enum DistanceKind { NEG_DOT, SQUARED_EUCLIDEAN, EUCLIDEAN, COSINE }
