package io.tripletflow.job;

/** One stream key's mining statistics as JSON, for the statistics topic (a Flink POJO). */
public class StatisticsReport {
    public String streamKey;
    public String json;

    public StatisticsReport() {}

    public StatisticsReport(String streamKey, String json) {
        this.streamKey = streamKey;
        this.json = json;
    }
}
