package io.tripletflow.cli;

import io.tripletflow.config.CommandLine;
import io.tripletflow.stats.SavepointStatistics;
import io.tripletflow.stats.StatisticsTable;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code tripletflow stats --savepoint PATH [--json] [--uid mine-triplets]}: the per-stream-key
 * mining statistics held in a savepoint or retained checkpoint of the job, as a table or as JSON
 * (the statistics topic's objects, in {@code {"savepoint": ..., "streams": [...]}}).
 */
final class StatsCommand {
    private StatsCommand() {}

    static int run(String[] args, int from, PrintStream out, PrintStream err) throws Exception {
        CommandLine cl = CommandLine.parse(args, from, Set.of("json"), List.of("savepoint", "uid")::contains,
                CommandLine.listing(List.of("savepoint", "uid", "json")));
        String path = cl.require("savepoint");
        String uid = cl.get("uid") == null ? SavepointStatistics.MINING_UID : cl.get("uid");
        List<Map<String, Object>> streams = SavepointStatistics.read(path, uid);
        if (cl.flag("json")) {
            out.println(StatisticsTable.json(path, uid, streams));
        } else {
            out.print(StatisticsTable.table(streams));
            out.println(streams.size() + " stream key(s) in " + path + " (operator " + uid + ")");
        }
        return 0;
    }
}
