package io.tripletflow.cluster;

import io.tripletflow.stats.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The JobManager's REST API, as the dashboard reads it: the few questions the cluster tests ask. */
final class FlinkRest {
    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    FlinkRest(String base) {
        this.base = base;
    }

    /** The parsed JSON at {@code path}; throws if the JobManager does not answer 200. */
    Object get(String path) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("GET " + path + ": " + response.statusCode() + " " + response.body());
            }
            return Json.parse(response.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(String path) throws IOException {
        return (Map<String, Object>) get(path);
    }

    /** Registered TaskManagers: {@code id} (resource id), {@code slotsNumber}, {@code freeSlots}, ... */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> taskManagers() throws IOException {
        return (List<Map<String, Object>>) object("/taskmanagers").get("taskmanagers");
    }

    /** Whether the job runs and every subtask of every operator is {@code RUNNING}. */
    @SuppressWarnings("unchecked")
    boolean allTasksRunning(String jobId) throws IOException {
        Map<String, Object> job = object("/jobs/" + jobId);
        if (!"RUNNING".equals(job.get("state"))) {
            return false;
        }
        for (Map<String, Object> v : (List<Map<String, Object>>) job.get("vertices")) {
            Map<String, Object> tasks = (Map<String, Object>) v.get("tasks");
            if (((Number) tasks.get("RUNNING")).longValue() != ((Number) v.get("parallelism")).longValue()) {
                return false;
            }
        }
        return true;
    }

    /** The parallelism of every operator chain of the job. */
    @SuppressWarnings("unchecked")
    List<Integer> parallelism(String jobId) throws IOException {
        return ((List<Map<String, Object>>) object("/jobs/" + jobId).get("vertices")).stream()
                .map(v -> ((Number) v.get("parallelism")).intValue()).toList();
    }

    /**
     * The job's failures, oldest first, as the dashboard's exception history lists them: each with
     * {@code exceptionName}, {@code taskName}, {@code taskManagerId}, {@code timestamp}.
     */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> failures(String jobId) throws IOException {
        List<Map<String, Object>> entries = (List<Map<String, Object>>) Json.at(object("/jobs/" + jobId + "/exceptions"),
                "exceptionHistory.entries");
        List<Map<String, Object>> oldestFirst = new java.util.ArrayList<>(entries == null ? List.of() : entries);
        java.util.Collections.reverse(oldestFirst);
        return oldestFirst;
    }

    /** Cancels the job ({@code PATCH /jobs/:id?mode=cancel}); quietly does nothing if it is gone. */
    void cancelQuietly(String jobId) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                .timeout(Duration.ofSeconds(10)).method("PATCH", HttpRequest.BodyPublishers.noBody()).build();
        try {
            http.send(request, HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // the JobManager is gone: so is the job
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
