package io.tripletflow.engine.miner;

/** Which miner picks the triplets ({@code miner}). */
public enum MinerKind { RANK_HARD, SEMI_HARD, BATCH_HARD, BATCH_ALL }
