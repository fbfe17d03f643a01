package io.tripletflow.trainer;

/** A batch's identity, by which an answer finds its future: batch ids are unique per stream key. */
record BatchKey(String streamKey, long batchId) {}
