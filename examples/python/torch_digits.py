#!/usr/bin/python3
"""Trains a small PyTorch embedding network on real data through tripletflow: scikit-learn's
handwritten digits (8x8 images, 10 classes, shipped with scikit-learn: no download).

The network (64 -> 64 -> 32, L2-normalised) embeds a mini-batch in anchor/positive pairs (rows 2i
and 2i+1 are two images of one digit: the job's default pair-size 2); ``RemoteTripletLoss`` sends
the embeddings to the job, which mines triplets and answers with the loss and d loss / d embeddings;
autograd carries that gradient into the network. ``--mode pipelined`` keeps up to
``--max-staleness`` batches in flight (delayed SGD), ``--mode sync`` waits for each answer.

    bin/tripletflow local --no-trainer          # prints the bootstrap address and topics
    /usr/bin/python3 examples/python/torch_digits.py --bootstrap-servers 127.0.0.1:PORT --seconds 30

Prints recall@1 on held-out digits before and after, batches/s and the round trip (p50); exits 0
when recall@1 after training reaches --target. ``--check-dead-letter`` first sends a batch whose
rows 0 and 1 have different labels, which the job refuses (reason label-mismatch), and exits 1
unless that raises DeadLetterError.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python"))
from tripletflow import wire  # noqa: E402
from tripletflow.client import DeadLetterError, TrainerClient  # noqa: E402
from tripletflow.torch import RemoteTripletLoss  # noqa: E402


class Embedder(torch.nn.Module):
    def __init__(self, dim: int = 32):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, dim))

    def forward(self, x):
        return torch.nn.functional.normalize(self.net(x), dim=1)


class Digits:
    """The digits, scaled to [0, 1], split into training and held-out images; pair batches."""

    def __init__(self, seed: int, held_out: float = 0.3):
        data = load_digits()
        x = torch.tensor(data.data / 16.0, dtype=torch.float32)
        y = torch.tensor(data.target, dtype=torch.int64)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(y))
        cut = int(len(y) * held_out)
        self.test_x, self.test_y = x[order[:cut]], y[order[:cut]]
        self.train_x, self.train_y = x[order[cut:]], y[order[cut:]]
        self.by_class = [np.flatnonzero(self.train_y.numpy() == c) for c in range(10)]
        self.rng = rng

    def batch(self, rows: int):
        """rows/2 pairs: two different training images of one random digit each."""
        idx = []
        for c in self.rng.integers(0, 10, rows // 2):
            idx.extend(self.rng.choice(self.by_class[c], 2, replace=False))
        return self.train_x[idx], self.train_y[idx]


@torch.no_grad()
def recall_at_1(model, x, y) -> float:
    model.eval()
    e = model(x)
    sim = e @ e.T
    sim.fill_diagonal_(-float("inf"))
    model.train()
    return float((y[sim.argmax(dim=1)] == y).float().mean())


def check_dead_letter(client, stream_key: str, batch_id: int) -> bool:
    """Sends a batch whose first pair has two labels; the job must refuse it (label-mismatch)."""
    emb = np.eye(4, 8, dtype=np.float32)
    batch = wire.EmbeddingBatch(batch_id, 0, wire.now_ms(), np.array([0, 1, 2, 2], np.int32), emb)
    try:
        g = client.exchange(batch, timeout=60, stream_key=stream_key)
    except DeadLetterError as e:
        print(f"dead-letter: DeadLetterError reason={e.reason} detail={e.detail}", flush=True)
        return e.reason == "label-mismatch"
    print(f"dead-letter: expected DeadLetterError, got an answer (loss {g.loss})", flush=True)
    return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    ap.add_argument("--embeddings-topic", default="embeddings")
    ap.add_argument("--gradients-topic", default="gradients", help="may contain {key}")
    ap.add_argument("--dead-letter-topic", default="embeddings.dead-letters")
    ap.add_argument("--stream-key", default="torch-digits")
    ap.add_argument("--seconds", type=float, default=30.0, help="training time")
    ap.add_argument("--mode", choices=("sync", "pipelined"), default="pipelined")
    ap.add_argument("--max-staleness", type=int, default=4)
    ap.add_argument("--batch-rows", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--target", type=float, default=0.95, help="recall@1 needed for exit status 0")
    ap.add_argument("--until-target", action="store_true",
                    help="stop as soon as held-out recall@1 reaches --target (checked every second; "
                         "--seconds is then the time allowed)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one answer")
    ap.add_argument("--check-dead-letter", action="store_true",
                    help="first check that a refused batch raises DeadLetterError")
    args = ap.parse_args(argv)
    if args.batch_rows < 2 or args.batch_rows % 2:
        ap.error("--batch-rows must be even and at least 2 (anchor/positive pairs)")

    torch.manual_seed(args.seed)
    data = Digits(args.seed)
    model = Embedder()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    before = recall_at_1(model, data.test_x, data.test_y)
    print(f"torch_digits: {len(data.train_y)} training and {len(data.test_y)} held-out digits; mode {args.mode}; "
          f"stream '{args.stream_key}' -> {args.embeddings_topic} on {args.bootstrap_servers}; "
          f"recall@1 before {before:.3f}", flush=True)

    with TrainerClient(args.bootstrap_servers, embeddings_topic=args.embeddings_topic,
                       gradients_topic=args.gradients_topic, stream_keys=[args.stream_key],
                       dead_letter_topic=args.dead_letter_topic, max_in_flight=args.max_staleness + 2,
                       answer_timeout=args.timeout) as client:
        first_id = 1
        if args.check_dead_letter:
            if not check_dead_letter(client, args.stream_key, first_id):
                return 1
            first_id += 1
        criterion = RemoteTripletLoss(client, args.stream_key, mode=args.mode, max_staleness=args.max_staleness,
                                      timeout=args.timeout, first_batch_id=first_id)
        start = last = checked = time.monotonic()
        losses = []
        reached = None  # (seconds, batches, recall) when held-out recall@1 first reached the target
        while time.monotonic() - start < args.seconds:
            x, y = data.batch(args.batch_rows)
            if args.mode == "sync":
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                losses.append(float(loss))
            else:
                with criterion.keep_graph():
                    emb = model(x)
                criterion(emb, y)
                losses.extend(p.loss for p in criterion.step(optimizer))
            if args.until_target and time.monotonic() - checked >= 1:
                checked = time.monotonic()
                recall = recall_at_1(model, data.test_x, data.test_y)
                if recall >= args.target:
                    reached = (checked - start, criterion.applied, recall)
                    print(f"reached recall@1 {recall:.3f} >= {args.target} after {reached[0]:.1f} s and "
                          f"{reached[1]} batches", flush=True)
                    break
            if time.monotonic() - last >= 5:
                last = time.monotonic()
                print(f"progress: {criterion.applied} batches, loss {np.mean(losses[-50:]):.4f}, "
                      f"recall@1 {recall_at_1(model, data.test_x, data.test_y):.3f}", flush=True)
        losses.extend(p.loss for p in criterion.drain(optimizer))
        elapsed = time.monotonic() - start
        s = criterion.stats()
        cs = client.stats()
    after = recall_at_1(model, data.test_x, data.test_y)
    print(f"summary: {s['applied']} batches in {elapsed:.1f} s ({s['applied'] / elapsed:.1f} batches/s); "
          f"loss {np.mean(losses[:10]):.4f} -> {np.mean(losses[-10:]):.4f}; "
          f"recall@1 {before:.3f} -> {after:.3f}; round trip p50 {s['round_trip_p50'] * 1000:.1f} ms; "
          f"staleness mean {s['staleness_mean']:.2f} max {s['staleness_max']}; "
          f"duplicates {cs.duplicate_answers}, unknown {cs.unknown_answers}, dead letters {cs.dead_letters}",
          flush=True)
    if args.until_target:
        return 0 if reached is not None else 1
    return 0 if after >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
