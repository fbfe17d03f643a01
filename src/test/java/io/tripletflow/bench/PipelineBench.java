package io.tripletflow.bench;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.job.TripletFlowJob;
import io.tripletflow.job.TripletFlowOptions;
import io.tripletflow.local.EmbeddedKafkaBroker;
import io.tripletflow.local.LocalFlinkCluster;
import io.tripletflow.wire.EmbeddingBatchCodec;
import io.tripletflow.wire.WireFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The whole local pipeline, timed: embedded broker, local MiniCluster (RocksDB, checkpoints), the
 * production job; trainers' batches in, gradients read back under read_committed. For every shape
 * and delivery mode it runs two jobs side by side: the <b>pass-through</b> job (the same source,
 * key-by, record types and sinks, answers of the same size, no mining: what Kafka and Flink allow
 * here) and the <b>mining</b> job, and measures
 *
 * <ul>
 *   <li>sustained batches/s (and MB/s in and out): the producer keeps a backlog of unanswered
 *       batches, the rate is the answers per second over a steady window;</li>
 *   <li>latency p50/p99/p99.9, created (just before the send) to received, at an open-loop rate of
 *       half the sustained one, with no backlog;</li>
 *   <li>the mining job's rate as a share of the pass-through's;</li>
 * </ul>
 * beside the engine's standalone rate for the same shape (CPU backend, one thread, in a loop).
 *
 * <p>Run from the test class path: {@code java --add-modules jdk.incubator.vector -cp
 * <classes>:<test-classes>:<test class path> io.tripletflow.bench.PipelineBench [--shapes
 * 256x128,1024x128 --modes idempotent,exactly-once --checkpoint-interval 1s --parallelism 2
 * --seconds 8]}. About 25 s per job. Not a test.
 */
public final class PipelineBench {

    private static final int KEYS = 8;
    private static final boolean TRACE = System.getenv("PIPELINE_BENCH_TRACE") != null;
    private static final int PAYLOADS = 8;

    private final int parallelism;
    private final int seconds;
    private final Duration checkpointInterval;
    private final List<String> jobArgs;
    /** {@code --versus}: job options of the contender, measured against the same job without them. */
    private final List<String> versusArgs = new ArrayList<>();
    private List<String> extraArgs = List.of();
    private final Map<String, String> flinkOptions = new java.util.LinkedHashMap<>();
    private final String only;
    private int n;
    private int d;
    private EmbeddingBatch[] payloads;

    private PipelineBench(int parallelism, int seconds, Duration checkpointInterval, List<String> jobArgs, String only) {
        this.jobArgs = jobArgs;
        this.only = only;
        this.parallelism = parallelism;
        this.seconds = seconds;
        this.checkpointInterval = checkpointInterval;
    }

    private void shape(int rows, int dimension) {
        this.n = rows;
        this.d = dimension;
        this.payloads = new EmbeddingBatch[PAYLOADS];
        for (int i = 0; i < PAYLOADS; i++) {
            payloads[i] = EngineBench.batch(n, d, 100 + i);
        }
    }

    /** One measured configuration; {@code ratio} is the rate over the pass-through's (NaN: none). */
    record Row(String what, String shape, double batchesPerSecond, double mbIn, double mbOut, double p50Millis,
               double p99Millis, double p999Millis, long answers, long duplicates, double ratio, String note) {}

    public static void main(String[] args) throws Exception {
        List<int[]> shapes = new ArrayList<>();
        List<String> modes = List.of("idempotent", "exactly-once");
        int parallelism = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        int seconds = 8;
        Duration interval = null;
        Integer n = null;
        int d = 128;
        List<String> jobArgs = new ArrayList<>();
        List<String> versus = new ArrayList<>();
        List<String> flink = new ArrayList<>();
        String only = null;
        int rounds = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--n": n = Integer.parseInt(args[++i]); break;
                case "--d": d = Integer.parseInt(args[++i]); break;
                case "--shapes":
                    for (String shape : args[++i].split(",")) {
                        String[] nd = shape.trim().split("x");
                        shapes.add(new int[] {Integer.parseInt(nd[0]), Integer.parseInt(nd[1])});
                    }
                    break;
                case "--modes": modes = List.of(args[++i].split(",")); break;
                case "--checkpoint-interval":
                    interval = io.tripletflow.local.LocalModeOptions.parseDuration("checkpoint-interval", args[++i]);
                    break;
                case "--parallelism": parallelism = Integer.parseInt(args[++i]); break;
                case "--seconds": seconds = Integer.parseInt(args[++i]); break;
                case "--only": only = args[++i]; break;
                case "--rounds": rounds = Integer.parseInt(args[++i]); break;
                case "--flink": flink.add(args[++i]); break;
                case "--versus": {
                    String[] kv = args[++i].split("=", 2);
                    versus.add("--" + kv[0]);
                    versus.add(kv[1]);
                    break;
                }
                case "--job": {
                    String[] kv = args[++i].split("=", 2);
                    jobArgs.add("--" + kv[0]);
                    jobArgs.add(kv[1]);
                    break;
                }
                default:
                    System.err.println("usage: PipelineBench [--shapes 256x128,1024x128 | --n N --d D] "
                            + "[--modes idempotent,exactly-once,at-least-once] [--checkpoint-interval 1s] "
                            + "[--parallelism P] [--seconds S] [--rounds R] [--only pass-through|pipeline] [--job option=value ...] [--versus option=value ...] [--flink key=value ...]");
                    System.exit(64);
            }
        }
        if (n != null || shapes.isEmpty()) {
            shapes.add(new int[] {n == null ? 256 : n, d});
        }
        PipelineBench bench = new PipelineBench(parallelism, seconds, interval, jobArgs, only);
        bench.versusArgs.addAll(versus);
        for (String kv : flink) {
            String[] parts = kv.split("=", 2);
            bench.flinkOptions.put(parts[0], parts[1]);
        }
        bench.run(shapes, modes, rounds);
        System.exit(0);
    }

    private void run(List<int[]> shapes, List<String> modes, int rounds) throws Exception {
        long t0 = System.nanoTime();
        List<Row> rows = new ArrayList<>();
        List<String> summary = new ArrayList<>();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().build().start()) {
            for (int[] shape : shapes) {
                shape(shape[0], shape[1]);
                rows.add(engine(1));
                if (parallelism > 1 && only == null) {
                    rows.add(engine(parallelism)); // the job's ceiling: one backend per subtask
                }
                for (String mode : modes) {
                    List<Double> ratios = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        if (only != null) {
                            rows.add(pipeline(broker, mode, "pass-through".equals(only), Double.NaN));
                            continue;
                        }
                        if (!versusArgs.isEmpty()) {
                            // The job with the --versus options against the same job without them.
                            Row without = null;
                            Row with = null;
                            for (int k = 0; k < 2; k++) {
                                boolean contender = (k == 0) == (round % 2 == 0);
                                extraArgs = contender ? versusArgs : List.of();
                                Row r = pipeline(broker, mode, false, Double.NaN);
                                if (contender) with = r; else without = r;
                            }
                            extraArgs = List.of();
                            double ratio = with.batchesPerSecond() / without.batchesPerSecond();
                            rows.add(without);
                            rows.add(withRatio(with, ratio));
                            ratios.add(ratio);
                            continue;
                        }
                        // Side by side, the order alternating between rounds so that drift cancels.
                        Row first = pipeline(broker, mode, round % 2 == 0, Double.NaN);
                        Row second = pipeline(broker, mode, round % 2 != 0, Double.NaN);
                        Row passThrough = round % 2 == 0 ? first : second;
                        Row mining = round % 2 == 0 ? second : first;
                        double ratio = mining.batchesPerSecond() / passThrough.batchesPerSecond();
                        rows.add(passThrough);
                        rows.add(withRatio(mining, ratio));
                        ratios.add(ratio);
                    }
                    if (!ratios.isEmpty()) {
                        double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                        summary.add(String.format(Locale.ROOT, "# %s %s: " + (versusArgs.isEmpty() ? "pipeline / pass-through" : "with / without " + String.join(" ", versusArgs)) + ", median of %d rounds "
                                        + "%.0f%% (%.0f%% .. %.0f%%)", shapeName(), mode, sorted.length,
                                100 * percentile(sorted, 50), 100 * sorted[0], 100 * sorted[sorted.length - 1]));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n# tripletflow pipeline, %d stream keys, parallelism %d, checkpoint interval %s, "
                        + "%d cores, %s%n", KEYS, parallelism, checkpointInterval != null
                        ? checkpointInterval.toMillis() + " ms" : "the job's default (5 s), 1 s for exactly-once",
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(Locale.ROOT, "%-36s | %-8s | %9s | %7s | %7s | %7s | %7s | %7s | %7s | %5s | %6s | %s%n",
                "", "N x D", "batches/s", "MB/s in", "MB/s out", "p50 ms", "p99 ms", "p999 ms", "answers", "dups",
                "ratio", "");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-36s | %-8s | %9.1f | %7s | %7s | %7s | %7s | %7s | %7s | %5s | %6s | %s%n",
                    r.what(), r.shape(), r.batchesPerSecond(), number(r.mbIn()), number(r.mbOut()), number(r.p50Millis()),
                    number(r.p99Millis()), number(r.p999Millis()),
                    r.answers() < 0 ? "-" : Long.toString(r.answers()),
                    r.duplicates() < 0 ? "-" : Long.toString(r.duplicates()),
                    Double.isNaN(r.ratio()) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.ratio()), r.note());
        }
        summary.forEach(System.out::println);
        System.out.printf(Locale.ROOT, "# total %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The checkpoint interval of a mode's runs: the one given, else the job's default, except for
     * exactly-once, whose latency is the interval: 1 s there, as local mode runs it.
     */
    private Duration interval(String mode) {
        if (checkpointInterval != null) {
            return checkpointInterval;
        }
        return mode.equals("exactly-once") ? Duration.ofSeconds(1) : TripletFlowOptions.CHECKPOINT_INTERVAL.defaultValue();
    }

    private static Row withRatio(Row r, double ratio) {
        return new Row(r.what(), r.shape(), r.batchesPerSecond(), r.mbIn(), r.mbOut(), r.p50Millis(), r.p99Millis(),
                r.p999Millis(), r.answers(), r.duplicates(), ratio, r.note());
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
    }

    private String shapeName() {
        return n + "x" + d;
    }

    /**
     * The engine alone: {@code backends} CPU backends of one thread each (as the job's parallel
     * subtasks run them), each mining the same batches in a loop on its own thread.
     */
    private Row engine(int backends) throws Exception {
        double[][] perThread = new double[backends][];
        long[] counts = new long[backends];
        String[] described = new String[1];
        long[] span = new long[2];
        Thread[] threads = new Thread[backends];
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(backends);
        for (int t = 0; t < backends; t++) {
            int me = t;
            threads[t] = new Thread(() -> {
                try (CpuMiningBackend backend = new CpuMiningBackend(MiningOptions.defaults(), 1)) {
                    described[0] = backend.describe();
                    long warm = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
                    int i = 0;
                    while (System.nanoTime() < warm) {
                        backend.mine(payloads[i++ % PAYLOADS]);
                    }
                    start.await();
                    double[] ms = new double[200_000];
                    int count = 0;
                    long begin = System.nanoTime();
                    long end = begin + TimeUnit.MILLISECONDS.toNanos(2500);
                    long now = begin;
                    while (now < end && count < ms.length) {
                        long s = System.nanoTime();
                        backend.mine(payloads[count % PAYLOADS]);
                        now = System.nanoTime();
                        ms[count++] = (now - s) / 1e6;
                    }
                    perThread[me] = Arrays.copyOf(ms, count);
                    counts[me] = count;
                    if (me == 0) {
                        span[0] = begin;
                        span[1] = now;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (span[1] - span[0]) / 1e9;
        double[] all = Arrays.stream(perThread).flatMapToDouble(Arrays::stream).sorted().toArray();
        return new Row("engine standalone (" + backends + " x cpu)", shapeName(), Arrays.stream(counts).sum() / seconds,
                Double.NaN, Double.NaN, percentile(all, 50), percentile(all, 99), percentile(all, 99.9), -1, -1,
                Double.NaN, described[0] + "; latency = ms per batch");
    }

    /**
     * The job on a local cluster, measured: sustained rate, then latency below saturation. With
     * {@code passThrough} the mining operator is replaced by {@link PassThroughAnswers}.
     */
    private Row pipeline(EmbeddedKafkaBroker broker, String mode, boolean passThrough, double ceiling) throws Exception {
        System.err.printf(Locale.ROOT, "# %s %s %s%n", passThrough ? "pass-through" : "pipeline", mode, shapeName());
        String run = mode + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
        String in = "bench-embeddings-" + run;
        String out = "bench-gradients-" + run;
        broker.createTopics(parallelism, in, out);
        broker.createTopics(1, "bench-dead-letters-" + run, "bench-statistics-" + run);
        List<String> args = new ArrayList<>(List.of(
                "--bootstrap-servers", broker.bootstrapServers(),
                "--embeddings-topics", in,
                "--gradients-topic", out,
                "--dead-letter-topic", "bench-dead-letters-" + run,
                "--statistics-topic", "bench-statistics-" + run,
                "--group-id", "bench-" + run,
                "--transactional-id-prefix", "bench-" + run,
                "--delivery-guarantee", mode,
                "--backend", "cpu",
                "--cpu-threads", "1",
                "--checkpoint-interval", interval(mode).toMillis() + " ms"));
        args.addAll(jobArgs);
        args.addAll(extraArgs);
        Configuration conf = TripletFlowJob.configuration(new Configuration(), args.toArray(new String[0]));
        Receiver receiver = new Receiver(broker.bootstrapServers(), out);
        LocalFlinkCluster.Builder cluster = LocalFlinkCluster.builder()
                .webPort(0)
                .parallelism(parallelism)
                .checkpointInterval(conf.get(TripletFlowOptions.CHECKPOINT_INTERVAL));
        flinkOptions.forEach(cluster::set);
        try (LocalFlinkCluster local = cluster.build();
             KafkaProducer<byte[], byte[]> producer = producer(broker.bootstrapServers())) {
            StreamExecutionEnvironment env = local.createEnvironment();
            if (passThrough) {
                TripletFlowJob.build(env, conf, null, s -> s, new PassThroughAnswers());
            } else {
                TripletFlowJob.build(env, conf);
            }
            JobClient job = env.executeAsync("tripletflow bench " + mode);
            receiver.start();
            Sender sender = new Sender(producer, in, receiver);
            try {
                // Warm-up: the job is running and answering before anything is timed.
                sender.sendAndWait(4 * KEYS, Duration.ofSeconds(60));
                long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (System.nanoTime() < warm) {
                    sender.sendAndWait(KEYS, Duration.ofSeconds(60));
                }

                // Sustained rate: keep a backlog of unanswered batches; count answers over a steady window.
                // Exactly-once answers wait for a checkpoint: the backlog must cover an interval's
                // worth; otherwise a small one keeps the job busy without filling the heap.
                long batchBytes = WireFormat.embeddingRecordBytes(n, d);
                long backlog = mode.equals("exactly-once")
                        ? Math.max(64, Math.min(2000, 300_000_000L / batchBytes))
                        : Math.max(16, Math.min(128, 30_000_000L / batchBytes));
                long stop = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                long windowStartNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (System.nanoTime() < stop) {
                    if (sender.sent - receiver.answers.get() < backlog) {
                        sender.send();
                    } else {
                        Thread.sleep(1);
                    }
                }
                double rate = receiver.rate(windowStartNanos, System.nanoTime());
                sender.waitForAll(Duration.ofSeconds(120));

                // Latency: open loop at half the sustained rate, no backlog.
                double offered = Math.max(5, rate / 2);
                receiver.latencies.clear();
                long first = sender.sent;
                long period = (long) (1e9 / offered);
                long next = System.nanoTime();
                long latencyEnd = next + TimeUnit.SECONDS.toNanos(Math.max(4, seconds * 3 / 4));
                while (System.nanoTime() < latencyEnd) {
                    long now = System.nanoTime();
                    if (now >= next) {
                        sender.send();
                        next += period;
                    } else {
                        TimeUnit.NANOSECONDS.sleep(Math.min(next - now, 200_000));
                    }
                }
                producer.flush();
                sender.waitForAll(Duration.ofSeconds(60));
                double[] ms = receiver.latencies.entrySet().stream()
                        .filter(e -> e.getKey() >= first).mapToDouble(Map.Entry::getValue).sorted().toArray();
                job.cancel().get(30, TimeUnit.SECONDS);
                double mb = 1e-6 * rate;
                return new Row((passThrough ? "pass-through " : "pipeline ") + mode
                        + (extraArgs.isEmpty() ? "" : " " + String.join(" ", extraArgs).replace("--", "+")), shapeName(), rate,
                        mb * WireFormat.embeddingRecordBytes(n, d), mb * WireFormat.gradientRecordBytes(n, d, false),
                        percentile(ms, 50), percentile(ms, 99), percentile(ms, 99.9),
                        receiver.answers.get(), receiver.duplicates.get(), rate / ceiling,
                        String.format(Locale.ROOT, "latency at %.0f/s offered, %d samples, checkpoints every %d ms",
                                offered, ms.length, interval(mode).toMillis()));
            } finally {
                receiver.stop();
            }
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(8 << 20));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(256L << 20));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** Writes batches with increasing ids over the stream keys; remembers when each was created. */
    private final class Sender {
        private final KafkaProducer<byte[], byte[]> producer;
        private final String topic;
        private final Receiver receiver;
        private final EmbeddingBatchCodec codec = new EmbeddingBatchCodec();
        long sent;

        Sender(KafkaProducer<byte[], byte[]> producer, String topic, Receiver receiver) {
            this.producer = producer;
            this.topic = topic;
            this.receiver = receiver;
        }

        void send() {
            long id = sent++;
            EmbeddingBatch p = payloads[(int) (id % PAYLOADS)];
            String key = "trainer-" + (id % KEYS);
            receiver.created.put(id, System.nanoTime());
            EmbeddingBatch batch = new EmbeddingBatch(key, id, id, System.currentTimeMillis(), p.rows(), p.dimension(),
                    p.labels(), p.embeddings());
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), codec.encode(batch)));
        }

        void sendAndWait(int count, Duration timeout) throws InterruptedException {
            for (int i = 0; i < count; i++) {
                send();
            }
            producer.flush();
            waitForAll(timeout);
        }

        void waitForAll(Duration timeout) throws InterruptedException {
            producer.flush();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (receiver.answers.get() < sent) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + receiver.answers.get() + " of " + sent + " batches answered");
                }
                Thread.sleep(5);
            }
        }
    }

    /** Reads the gradients under read_committed and books latency per batch id. */
    private static final class Receiver implements Runnable {
        final Map<Long, Long> created = new ConcurrentHashMap<>();
        final Map<Long, Double> latencies = new ConcurrentHashMap<>();
        final AtomicLong answers = new AtomicLong();
        final AtomicLong duplicates = new AtomicLong();
        /** (receive time, answers so far) after every poll that returned answers. */
        private final List<long[]> timeline = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Map<Long, Boolean> seen = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final String topic;
        private Thread thread;

        Receiver(String bootstrap, String topic) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
            p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 << 20));
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            this.consumer = new KafkaConsumer<>(p);
            this.topic = topic;
        }

        void start() {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            thread = new Thread(this, "gradient-receiver");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void run() {
            while (running.get()) {
                var records = consumer.poll(Duration.ofMillis(20));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    long received = System.nanoTime();
                    long id = ByteBuffer.wrap(r.value()).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
                    if (seen.putIfAbsent(id, Boolean.TRUE) != null) {
                        duplicates.incrementAndGet();
                        continue;
                    }
                    Long sentAt = created.get(id);
                    if (sentAt != null) {
                        latencies.put(id, (received - sentAt) / 1e6);
                        if (TRACE && (received - sentAt) > 40_000_000L) {
                            System.err.printf(Locale.ROOT, "# slow answer: batch %d received at %tT.%<tL, %.1f ms%n", id,
                                    System.currentTimeMillis(), (received - sentAt) / 1e6);
                        }
                    }
                    answers.incrementAndGet();
                }
                if (!records.isEmpty()) {
                    timeline.add(new long[] {System.nanoTime(), answers.get()});
                }
            }
            consumer.close();
        }

        /**
         * Answers per second between the first and the last arrival inside {@code [from, to]}:
         * exactly-once answers arrive in bursts (one per checkpoint), so the rate is measured from
         * burst to burst rather than over a window that may cut one.
         */
        double rate(long from, long to) {
            long[] first = null;
            long[] last = null;
            long before = -1;
            synchronized (timeline) {
                for (long[] sample : timeline) {
                    if (sample[0] < from) {
                        before = sample[1];
                    } else if (sample[0] <= to && sample[1] > before) {
                        if (first == null) {
                            first = sample;
                        }
                        last = sample;
                        before = sample[1];
                    }
                }
            }
            if (first == null || last == first) {
                return Double.NaN;
            }
            if (System.getenv("PIPELINE_BENCH_TRACE") != null) {
                synchronized (timeline) {
                    long previous = -1;
                    for (long[] sample : timeline) {
                        if (sample[0] >= from && sample[0] <= to && sample[1] != previous) {
                            System.out.printf(Locale.ROOT, "  %.3f s: %d%n", (sample[0] - from) / 1e9, sample[1]);
                            previous = sample[1];
                        }
                    }
                }
            }
            return (last[1] - first[1]) / ((last[0] - first[0]) / 1e9);
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join(5000);
            }
        }
    }

    private static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
