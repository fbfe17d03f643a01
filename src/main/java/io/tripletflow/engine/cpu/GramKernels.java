package io.tripletflow.engine.cpu;

/** Picks the Gram kernel this JVM can run. */
final class GramKernels {
    /** Set to {@code scalar} to force the plain-loop kernel (tests compare both). */
    static final String KERNEL_PROPERTY = "tripletflow.cpu.kernel";

    private GramKernels() {}

    static GramKernel best() {
        if ("scalar".equals(System.getProperty(KERNEL_PROPERTY))) {
            return new ScalarGramKernel();
        }
        try {
            return new VectorGramKernel();
        } catch (LinkageError noVectorModule) {
            // The JVM was started without --add-modules jdk.incubator.vector.
            return new ScalarGramKernel();
        }
    }
}
