#!/usr/bin/python3
"""A Python trainer that trains through tripletflow: numpy + confluent_kafka, nothing else.

The model is the Java demo's (io.tripletflow.local.DemoTrainer) in numpy: class-structured
synthetic inputs hidden under a strong shared nuisance subspace, a linear map ``z = W x`` and an
L2 normalisation ``u = z / |z|``. Every step publishes a mini-batch of embeddings ``u`` (rows in
anchor/positive pairs of one class, the job's default pair-size 2) to the embeddings topic, keyed
by the stream key; the job mines triplets and answers on the gradients topic with ``dL/du``, which
is back-propagated through the normalisation and the linear map (``W -= lr * dL/dW``). Several
batches are in flight at once (delayed SGD); answers are matched by batch id.

    /usr/bin/python3 examples/python/trainer.py --bootstrap-servers 127.0.0.1:9092 --steps 300

Against ``bin/tripletflow local --no-trainer`` use the bootstrap address and topics it prints; against
docker-compose.yml the defaults fit (Kafka on 127.0.0.1:9092, topics embeddings / gradients).

With the job's idempotent delivery (tripletflow.delivery-guarantee, the default) an answer is written
at once, and after a failure may be written again: each (stream key, batch id) is applied once, the
first time ``tripletflow.dedup.Deduplicator`` sees it; replays are dropped and counted. The clients
are tuned for latency (no producer linger, short broker fetch waits, short polls). Gradients are read
with isolation.level=read_committed, which the idempotent mode does not need and the exactly-once
mode does: there an answer arrives after the checkpoint that covers it
(tripletflow.checkpoint-interval), so keep --max-in-flight above (checkpoint interval x batches per
second).

Prints a progress line every --progress-seconds and a summary; exits 0 when every batch sent was
answered, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import numpy as np
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

# The tripletflow package lives in the repository's python/ directory (no install needed).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python"))
from tripletflow import wire as tw  # noqa: E402
from tripletflow.dedup import DEFAULT_WINDOW, Deduplicator  # noqa: E402

# How long one consumer poll may block when no answer is there. An answer ends the wait at once, and
# new batches are sent before each poll, so this only paces progress lines and the answer timeout.
POLL_SECONDS = 0.01


class Model:
    """Synthetic data, the linear + L2-norm embedding model, and recall@1 on held-out samples."""

    def __init__(self, classes: int, input_dim: int, dim: int, nuisance_rank: int = 8, nuisance_scale: float = 6.0,
                 noise: float = 0.6, held_out_per_class: int = 32, seed: int = 7):
        rng = np.random.default_rng(seed)
        self.classes, self.input_dim, self.dim = classes, input_dim, dim
        self.noise, self.nuisance_scale = noise, nuisance_scale
        self.means = rng.standard_normal((classes, input_dim))
        basis = rng.standard_normal((nuisance_rank, input_dim))
        self.nuisance = basis / np.linalg.norm(basis, axis=1, keepdims=True)
        self.W = rng.standard_normal((dim, input_dim)) / np.sqrt(input_dim)
        self.sampler = np.random.default_rng(seed * 31 + 17)
        held = np.random.default_rng(seed ^ 0x5DEECE66D)
        self.held_labels = np.arange(classes * held_out_per_class) % classes
        self.held_x = self.sample(held, self.held_labels)

    def sample(self, rng, labels: np.ndarray) -> np.ndarray:
        n = labels.shape[0]
        x = self.means[labels] + self.noise * rng.standard_normal((n, self.input_dim))
        a = self.nuisance_scale * rng.standard_normal((n, self.nuisance.shape[0]))
        return x + a @ self.nuisance

    def batch(self, rows: int):
        """Inputs and labels of one batch: rows 2i and 2i+1 share a class."""
        pair_labels = self.sampler.integers(0, self.classes, rows // 2)
        labels = np.repeat(pair_labels, 2).astype(np.int32)
        return self.sample(self.sampler, labels), labels

    def forward(self, x: np.ndarray):
        z = x @ self.W.T
        norm = np.linalg.norm(z, axis=1, keepdims=True)
        u = np.divide(z, norm, out=np.zeros_like(z), where=norm > 0)
        return z, u

    def backward(self, x: np.ndarray, z: np.ndarray, grad_u: np.ndarray, lr: float):
        """dL/dz = (g - (g.u) u) / |z|; dL/dW = dL/dz^T x; W -= lr * dL/dW."""
        norm = np.linalg.norm(z, axis=1, keepdims=True)
        u = np.divide(z, norm, out=np.zeros_like(z), where=norm > 0)
        g = grad_u.astype(np.float64)
        dz = np.divide(g - np.sum(g * u, axis=1, keepdims=True) * u, norm, out=np.zeros_like(g), where=norm > 0)
        self.W -= lr * (dz.T @ x)

    def recall_at_1(self) -> float:
        _, u = self.forward(self.held_x)
        sim = u @ u.T
        np.fill_diagonal(sim, -np.inf)
        return float(np.mean(self.held_labels[np.argmax(sim, axis=1)] == self.held_labels))


def gradient_consumer(bootstrap: str, topic: str, timeout_s: float) -> Consumer:
    """A read_committed consumer positioned at the end of every partition of ``topic``, so that no
    answer to a batch sent afterwards can be missed."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"tripletflow-python-trainer-{uuid.uuid4()}",
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "latest",
        # The broker answers a fetch as soon as there is data; this bounds how long it holds an
        # empty one (librdkafka's default: 500 ms).
        "fetch.wait.max.ms": 10,
        "socket.nagle.disable": True,
    })
    deadline = time.time() + timeout_s
    while True:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is not None and meta.error is None and meta.partitions:
            break
        if time.time() > deadline:
            raise SystemExit(f"trainer: gradients topic '{topic}' does not exist")
        time.sleep(0.5)
    assignment = []
    for p in sorted(meta.partitions):
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        assignment.append(TopicPartition(topic, p, high))
    consumer.assign(assignment)
    return consumer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    ap.add_argument("--embeddings-topic", default="embeddings", help="the job's tripletflow.embeddings-topics")
    ap.add_argument("--gradients-topic", default="gradients",
                    help="the job's tripletflow.gradients-topic ('{key}' is replaced by the stream key)")
    ap.add_argument("--stream-key", default="python-trainer")
    ap.add_argument("--steps", type=int, default=300, help="batches to publish")
    ap.add_argument("--max-in-flight", type=int, default=16)
    ap.add_argument("--batch-rows", type=int, default=128)
    ap.add_argument("--classes", type=int, default=16)
    ap.add_argument("--input-dim", type=int, default=32)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--progress-seconds", type=float, default=5.0)
    ap.add_argument("--answer-timeout", type=float, default=60.0,
                    help="seconds to wait for an answer before giving up on the rest")
    args = ap.parse_args(argv)
    if args.batch_rows < 2 or args.batch_rows % 2:
        ap.error("--batch-rows must be even and at least 2 (anchor/positive pairs)")

    gradients_topic = args.gradients_topic.replace("{key}", args.stream_key)
    key = args.stream_key.encode("utf-8")
    model = Model(args.classes, args.input_dim, args.dim, seed=args.seed)
    consumer = gradient_consumer(args.bootstrap_servers, gradients_topic, args.answer_timeout)
    delivery_errors = []
    # linger.ms 0: send each batch at once instead of waiting to fill a request (librdkafka's default 5 ms).
    producer = Producer({"bootstrap.servers": args.bootstrap_servers, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 0, "socket.nagle.disable": True})
    # At most max-in-flight - 1 newer answers can arrive before a batch's first answer (no batch is
    # sent past that), so a window at least that wide never refuses a first answer as too old.
    seen = Deduplicator(window=max(DEFAULT_WINDOW, args.max_in_flight))

    def delivered(err, _msg):
        if err is not None:
            delivery_errors.append(err)

    print(f"trainer: stream '{args.stream_key}' -> {args.embeddings_topic}, answers from {gradients_topic} "
          f"on {args.bootstrap_servers}; N={args.batch_rows} D={args.dim} steps={args.steps} "
          f"in-flight<={args.max_in_flight} crc32c={tw.CRC32C_IMPLEMENTATION}", flush=True)
    recall_before = model.recall_at_1()
    pending = {}          # batch id -> (inputs, pre-normalisation outputs, sent time)
    sent = answered = unknown = invalid = updates = 0
    losses, latencies = [], []
    first_loss = last_loss = float("nan")
    window_loss, window_nonzero, window_answers = 0.0, 0, 0
    start = last_progress = last_answer = time.time()

    while answered < sent or sent < args.steps:
        while sent < args.steps and len(pending) < args.max_in_flight:
            x, labels = model.batch(args.batch_rows)
            z, u = model.forward(x)
            batch_id = sent + 1
            value = tw.encode_embedding_batch(tw.EmbeddingBatch(batch_id, updates, tw.now_ms(), labels, u))
            producer.produce(args.embeddings_topic, key=key, value=value, on_delivery=delivered)
            pending[batch_id] = (x, z, time.time())
            sent += 1
        producer.poll(0)
        if delivery_errors:
            print(f"trainer: could not publish: {delivery_errors[0]}", file=sys.stderr)
            return 1
        msg = consumer.poll(POLL_SECONDS)
        now = time.time()
        if msg is not None:
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(msg.error())
            elif msg.key() == key:
                try:
                    g = tw.decode_gradient_batch(msg.value())
                except tw.InvalidRecord as e:
                    invalid += 1
                    print(f"trainer: invalid gradient record: {e}", file=sys.stderr)
                else:
                    if not 1 <= g.batch_id <= sent:
                        unknown += 1   # not a batch of this run: another run's, on the same stream key
                    elif seen.first_time(args.stream_key, g.batch_id):
                        x, z, t_sent = pending.pop(g.batch_id)
                        model.backward(x, z, g.gradients, args.lr)
                        updates += 1
                        answered += 1
                        last_answer = now
                        latencies.append((now - t_sent) * 1000)
                        losses.append(g.loss)
                        first_loss = g.loss if answered == 1 else first_loss
                        last_loss = g.loss
                        window_loss += g.loss
                        window_nonzero += g.nonzero_hinges
                        window_answers += 1
        if now - last_progress >= args.progress_seconds:
            rate = answered / (now - start)
            mean = window_loss / window_answers if window_answers else float("nan")
            nonzero = window_nonzero / window_answers if window_answers else float("nan")
            p50 = float(np.percentile(latencies[-200:], 50)) if latencies else float("nan")
            print(f"progress: {answered}/{args.steps} answered, {len(pending)} in flight, {rate:.1f} batches/s, "
                  f"loss {mean:.4f}, non-zero hinges/batch {nonzero:.1f}, latency p50 {p50:.0f} ms, "
                  f"recall@1 {model.recall_at_1():.3f}, {seen.duplicates + seen.too_old} duplicate(s) dropped",
                  flush=True)
            last_progress = now
            window_loss, window_nonzero, window_answers = 0.0, 0, 0
        if pending and now - last_answer > args.answer_timeout:
            print(f"trainer: no answer for {args.answer_timeout:.0f} s; {len(pending)} batch(es) unanswered",
                  file=sys.stderr)
            break

    producer.flush(10)
    consumer.close()
    elapsed = time.time() - start
    p50 = float(np.percentile(latencies, 50)) if latencies else float("nan")
    p95 = float(np.percentile(latencies, 95)) if latencies else float("nan")
    print(f"summary: received {answered} gradient batches for {sent} sent in {elapsed:.1f} s "
          f"({answered / elapsed:.1f} batches/s); loss {first_loss:.4f} -> {last_loss:.4f}; "
          f"recall@1 {recall_before:.3f} -> {model.recall_at_1():.3f}; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
          f"dropped {seen.duplicates + seen.too_old} duplicate answer(s) ({seen.too_old} below the window); "
          f"ignored {unknown} unknown and {invalid} invalid answer(s)", flush=True)
    return 0 if answered == sent else 1


if __name__ == "__main__":
    sys.exit(main())
