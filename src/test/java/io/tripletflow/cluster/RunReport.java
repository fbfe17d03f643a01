package io.tripletflow.cluster;

import io.tripletflow.cluster.TrainerLoad.Sent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The figures of one cluster test run, printed to its output: time per phase, batches sent, answered, duplicated. */
final class RunReport {
    private RunReport() {}

    /**
     * @param phases each phase's name and start ({@code System.nanoTime()}), in order; the last entry marks the end
     * @param failures the job's failures as the REST API lists them
     */
    static void print(String title, ClusterDeployment deployment, long t0, LinkedHashMap<String, Long> phases,
                      DeliveryVerdict verdict, List<Sent> sent, List<Map<String, Object>> failures) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%n==== %s: %.1f s in all (deployment started in %s ms)%n", title,
                (System.nanoTime() - t0) / 1e9, deployment.startup()));
        List<String> names = List.copyOf(phases.keySet());
        for (int i = 0; i + 1 < names.size(); i++) {
            b.append(String.format("  %-28s %6.1f s%n", names.get(i),
                    (phases.get(names.get(i + 1)) - phases.get(names.get(i))) / 1e9));
        }
        verdict.perPhase(sent, phases).forEach(c -> b.append("  ").append(c).append('\n'));
        b.append("  ").append(verdict.counts("all", sent)).append('\n');
        b.append(String.format("  records on the gradients topic %d, dropped by the deduplicator %d%n",
                verdict.records(), verdict.dropped()));
        for (Map<String, Object> f : failures) {
            b.append(String.format("  failover: %s in %s on %s%n", f.get("exceptionName"), f.get("taskName"),
                    f.get("taskManagerId")));
        }
        System.out.print(b);
    }
}
