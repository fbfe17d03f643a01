package io.tripletflow.bench;

import io.tripletflow.batch.EmbeddingBatch;
import io.tripletflow.engine.MiningOptions;
import io.tripletflow.engine.cpu.CpuMiningBackend;
import io.tripletflow.job.TripletFlowJob;
import io.tripletflow.job.TripletFlowOptions;
import io.tripletflow.kafka.EmbeddedKafkaBroker;
import io.tripletflow.local.LocalFlinkCluster;
import io.tripletflow.wire.EmbeddingBatchCodec;
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
 * The whole local pipeline, timed: embedded broker, local MiniCluster (RocksDB, checkpoints every
 * second), the production job; trainers' batches in, gradients read back under read_committed.
 * For exactly-once and at-least-once it measures
 *
 * <ul>
 *   <li>sustained batches/s: the producer keeps a backlog of unanswered batches, the rate is the
 *       answers per second over a steady window;</li>
 *   <li>latency p50/p99, created (just before the send) to received, at an open-loop rate of about
 *       half the sustained one, with no backlog;</li>
 * </ul>
 * beside the engine's standalone rate for the same shape (CPU backend, one thread, in a loop).
 *
 * <p>Run from the test class path: {@code java --add-modules jdk.incubator.vector -cp
 * <classes>:<test-classes>:<test class path> io.tripletflow.bench.PipelineBench [--n 256 --d 128
 * --parallelism 2 --seconds 8]}. About 45 s. Not a test.
 */
public final class PipelineBench {

    private static final int KEYS = 8;
    private static final int PAYLOADS = 8;

    private final int n;
    private final int d;
    private final int parallelism;
    private final int seconds;
    private final EmbeddingBatch[] payloads;

    private PipelineBench(int n, int d, int parallelism, int seconds) {
        this.n = n;
        this.d = d;
        this.parallelism = parallelism;
        this.seconds = seconds;
        this.payloads = new EmbeddingBatch[PAYLOADS];
        for (int i = 0; i < PAYLOADS; i++) {
            payloads[i] = EngineBench.batch(n, d, 100 + i);
        }
    }

    /** One measured configuration. */
    record Row(String what, double batchesPerSecond, double p50Millis, double p99Millis, long answers,
               long duplicates, String note) {}

    public static void main(String[] args) throws Exception {
        int n = 256;
        int d = 128;
        int parallelism = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        int seconds = 8;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--n": n = Integer.parseInt(args[++i]); break;
                case "--d": d = Integer.parseInt(args[++i]); break;
                case "--parallelism": parallelism = Integer.parseInt(args[++i]); break;
                case "--seconds": seconds = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: PipelineBench [--n N] [--d D] [--parallelism P] [--seconds S]");
                    System.exit(64);
            }
        }
        new PipelineBench(n, d, parallelism, seconds).run();
        System.exit(0);
    }

    private void run() throws Exception {
        long t0 = System.nanoTime();
        List<Row> rows = new ArrayList<>();
        rows.add(engine(1));
        if (parallelism > 1) {
            rows.add(engine(parallelism)); // the job's ceiling: one backend per subtask
        }
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().build().start()) {
            rows.add(pipeline(broker, "exactly-once"));
            rows.add(pipeline(broker, "at-least-once"));
        }
        System.out.printf(Locale.ROOT, "%n# tripletflow pipeline, N=%d D=%d, %d stream keys, parallelism %d, "
                        + "checkpoint interval 1 s, %d cores, %s%n", n, d, KEYS, parallelism,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(Locale.ROOT, "%-38s | %12s | %9s | %9s | %8s | %5s | %s%n",
                "", "batches/s", "p50 ms", "p99 ms", "answers", "dups", "");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-38s | %12.1f | %9s | %9s | %8s | %5s | %s%n", r.what(), r.batchesPerSecond(),
                    Double.isNaN(r.p50Millis()) ? "-" : String.format(Locale.ROOT, "%.1f", r.p50Millis()),
                    Double.isNaN(r.p99Millis()) ? "-" : String.format(Locale.ROOT, "%.1f", r.p99Millis()),
                    r.answers() < 0 ? "-" : Long.toString(r.answers()),
                    r.duplicates() < 0 ? "-" : Long.toString(r.duplicates()), r.note());
        }
        System.out.printf(Locale.ROOT, "# total %.0f s%n", (System.nanoTime() - t0) / 1e9);
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
        return new Row("engine standalone (" + backends + " x cpu, 1 thread)", Arrays.stream(counts).sum() / seconds,
                percentile(all, 50), percentile(all, 99), -1, -1, described[0] + "; p50/p99 = ms per batch");
    }

    /** The production job on a local cluster, measured: sustained rate, then latency below saturation. */
    private Row pipeline(EmbeddedKafkaBroker broker, String guarantee) throws Exception {
        String run = guarantee + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
        String in = "bench-embeddings-" + run;
        String out = "bench-gradients-" + run;
        broker.createTopics(parallelism, in, out);
        broker.createTopics(1, "bench-dead-letters-" + run, "bench-statistics-" + run);
        Configuration conf = TripletFlowJob.configuration(new Configuration(),
                "--bootstrap-servers", broker.bootstrapServers(),
                "--embeddings-topics", in,
                "--gradients-topic", out,
                "--dead-letter-topic", "bench-dead-letters-" + run,
                "--statistics-topic", "bench-statistics-" + run,
                "--group-id", "bench-" + run,
                "--transactional-id-prefix", "bench-" + run,
                "--delivery-guarantee", guarantee,
                "--backend", "cpu",
                "--cpu-threads", "1",
                "--checkpoint-interval", "1 s");
        Receiver receiver = new Receiver(broker.bootstrapServers(), out);
        try (LocalFlinkCluster local = LocalFlinkCluster.builder()
                .webPort(0)
                .parallelism(parallelism)
                .checkpointInterval(conf.get(TripletFlowOptions.CHECKPOINT_INTERVAL))
                .build();
             KafkaProducer<byte[], byte[]> producer = producer(broker.bootstrapServers())) {
            StreamExecutionEnvironment env = local.createEnvironment();
            TripletFlowJob.build(env, conf);
            JobClient job = env.executeAsync("tripletflow bench " + guarantee);
            receiver.start();
            Sender sender = new Sender(producer, in, receiver);
            try {
                // Warm-up: the job is running and answering before anything is timed.
                sender.sendAndWait(4 * KEYS, Duration.ofSeconds(60));

                // Sustained rate: keep a backlog of unanswered batches; count answers over a steady window.
                long backlog = 1500;
                long stop = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                long windowStart = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                long windowStartNanos = windowStart;
                while (System.nanoTime() < stop) {
                    if (sender.sent - receiver.answers.get() < backlog) {
                        sender.send();
                    } else {
                        Thread.sleep(1);
                    }
                }
                double rate = receiver.rate(windowStartNanos, System.nanoTime());
                sender.waitForAll(Duration.ofSeconds(120));

                // Latency: open loop at about half the sustained rate, no backlog.
                double offered = Math.max(5, Math.min(200, rate / 2));
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
                        TimeUnit.NANOSECONDS.sleep(Math.min(next - now, 1_000_000));
                    }
                }
                producer.flush();
                sender.waitForAll(Duration.ofSeconds(60));
                double[] ms = receiver.latencies.entrySet().stream()
                        .filter(e -> e.getKey() >= first).mapToDouble(Map.Entry::getValue).sorted().toArray();
                job.cancel().get(30, TimeUnit.SECONDS);
                return new Row("pipeline " + guarantee, rate, percentile(ms, 50), percentile(ms, 99),
                        receiver.answers.get(), receiver.duplicates.get(),
                        String.format(Locale.ROOT, "latency at %.0f batches/s offered, %d samples", offered, ms.length));
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
            p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5");
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
