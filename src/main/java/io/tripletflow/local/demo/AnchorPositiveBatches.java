package io.tripletflow.local.demo;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.batch.GradientBatch;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The demo's batches and the step each answer makes. A batch is {@code rows / 2} anchor/positive
 * pairs of random classes (the job's default {@code pair-size 2}, so no label mismatches),
 * embedded with the model's current weights. Its inputs and outputs are kept until its answer
 * {@code g = dL/du} comes, which is back-propagated with them, whatever the weights are by then
 * (delayed SGD, as with any asynchronous parameter server).
 *
 * <pre>{@code
 * EmbeddingBatch batch = batches.next();        // batch ids 1, 2, 3, ...
 * service.submit(batch).thenAccept(batches::apply);
 * }</pre>
 *
 * <p>Thread-safe: answers may be applied on any thread while batches are made.
 */
public final class AnchorPositiveBatches {

    /** What back-propagating an answer needs: the inputs and pre-normalisation outputs of its batch. */
    private record Context(float[] inputs, float[] outputs) {}

    private final ClassConditionedData data;
    private final LinearEmbeddingModel model;
    private final String streamKey;
    private final int rows;
    private final double learningRate;
    /** Draws the batches' samples; guards {@link #nextBatchId}. */
    private final Random sampler;
    private final Map<Long, Context> contexts = new ConcurrentHashMap<>();
    private long nextBatchId = 1;

    public AnchorPositiveBatches(ClassConditionedData data, LinearEmbeddingModel model, String streamKey, int rows,
            double learningRate, Random sampler) {
        this.data = data;
        this.model = model;
        this.streamKey = streamKey;
        this.rows = rows;
        this.learningRate = learningRate;
        this.sampler = sampler;
    }

    /** The next batch, remembered until {@link #apply} or {@link #forget} is called for it. */
    public EmbeddingBatch next() {
        float[] x = new float[rows * data.inputDimension()];
        int[] labels = new int[rows];
        long batchId;
        synchronized (sampler) {
            batchId = nextBatchId++;
            data.samplePairs(sampler, rows, x, labels);
        }
        LinearEmbeddingModel.Embedding e = model.embed(x, rows);
        long created = System.currentTimeMillis();
        contexts.put(batchId, new Context(x, e.outputs()));
        return new EmbeddingBatch(streamKey, batchId, e.step(), created, rows, model.dimension(), labels, e.units());
    }

    /**
     * Back-propagates an answer into the model (one SGD step).
     *
     * @return false (and nothing changes) if the answer matches no batch that is still waiting:
     *         another stream key, an unknown or already applied batch id, or the wrong shape
     */
    public boolean apply(GradientBatch g) {
        if (!g.streamKey().equals(streamKey)) {
            return false;
        }
        Context c = contexts.remove(g.batchId());
        if (c == null) {
            return false;
        }
        int batchRows = c.inputs.length / data.inputDimension();
        if (g.rows() != batchRows || g.dimension() != model.dimension()) {
            return false;
        }
        model.descend(c.inputs, c.outputs, g.gradients(), batchRows, learningRate);
        return true;
    }

    /** Forgets a batch whose answer will never come (failed or abandoned). */
    public void forget(long batchId) {
        contexts.remove(batchId);
    }

    /** Whether some batch still waits for its answer. */
    public boolean awaitingAnswers() {
        return !contexts.isEmpty();
    }
}
