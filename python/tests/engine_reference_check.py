"""Run by PythonTorchLossTest (Java): for every configuration directory the Java engine filled with
embedding batches (batch-<i>.tfeb), its answers with masks (answer-<i>.tfgb) and its options
(options.txt, ``name=value`` by spec name), the gradient autograd gives through RemoteTripletLoss
(fed the job's answer by a fake client) must equal the gradient of reference_loss (float64,
independent of the engine), within a relative error of 1e-5, for the embeddings and for the weights
of a linear layer in front of them; the losses and the masks must agree as well.

    /usr/bin/python3 python/tests/engine_reference_check.py DIR     # exit 0: all agree
"""

import os
import sys
from concurrent.futures import Future

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from reference_loss import reference_loss  # noqa: E402
from tripletflow import wire  # noqa: E402
from tripletflow.torch import RemoteTripletLoss  # noqa: E402

TOLERANCE = 1e-5
NUMBERS = ("neg-num", "pair-size")
FLOATS = ("hard-ratio", "rand-ratio", "margin", "loss-weight")


class ReplayClient:
    """Answers each submitted batch with the job's recorded answer (checking it is the batch sent)."""

    def __init__(self, batch: wire.EmbeddingBatch, answer: wire.GradientBatch):
        self.batch, self.answer = batch, answer

    def submit(self, batch, stream_key=None, timeout=None):
        assert np.array_equal(batch.labels, self.batch.labels), "labels sent differ from the recorded batch"
        assert np.allclose(batch.embeddings, self.batch.embeddings, rtol=0, atol=1e-6), "embeddings sent differ"
        f = Future()
        f.set_result(self.answer)
        return f


def options(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            out[k] = int(v) if k in NUMBERS else float(np.float32(v)) if k in FLOATS else v
    return out


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    scale = float(expected.norm())
    return float((actual.double() - expected).norm()) / (scale if scale > 0 else 1.0)


def check(config_dir: str, failures: list) -> int:
    opts = options(os.path.join(config_dir, "options.txt"))
    name = os.path.basename(config_dir)
    checked = 0
    for file in sorted(f for f in os.listdir(config_dir) if f.startswith("batch-")):
        i = file[len("batch-"):-len(".tfeb")]
        batch = wire.decode_embedding_batch(open(os.path.join(config_dir, file), "rb").read())
        answer = wire.decode_gradient_batch(open(os.path.join(config_dir, f"answer-{i}.tfgb"), "rb").read())
        labels = batch.labels
        ref_f = torch.tensor(batch.embeddings, dtype=torch.float64, requires_grad=True)
        ref_loss, ref_triplets, ref_mask = reference_loss(ref_f, labels, opts)
        ref_loss.backward()
        what = f"{name} batch {i}"
        if answer.mask is None or not np.array_equal(answer.mask, ref_mask):
            failures.append(f"{what}: the job's mask differs from the reference selection")
            continue
        if abs(answer.loss - float(ref_loss)) > TOLERANCE * max(1.0, abs(float(ref_loss))):
            failures.append(f"{what}: loss {answer.loss} versus reference {float(ref_loss)}")
        for dtype in (torch.float32, torch.float64):
            criterion = RemoteTripletLoss(ReplayClient(batch, answer), "reference", mode="sync")
            emb = torch.tensor(batch.embeddings, dtype=dtype, requires_grad=True)
            loss = criterion(emb, torch.tensor(labels))
            if loss.dim() != 0 or loss.dtype != dtype:
                failures.append(f"{what}: loss is not a 0-dim {dtype} tensor")
            (2.0 * loss).backward()
            err = relative_error(emb.grad / 2.0, ref_f.grad)
            if emb.grad.dtype != dtype or not err <= TOLERANCE:
                failures.append(f"{what} ({dtype}): relative error {err:.3g} of d loss / d embeddings")
        # A linear layer in front, with inputs chosen so that it outputs these embeddings: the job's
        # gradient must reach its weights as the reference's does (d/dW = G^T X).
        d = batch.dimension
        weights = torch.eye(d, dtype=torch.float64) + 0.1 * torch.from_numpy(
            np.random.default_rng(int(i)).standard_normal((d, d)))
        x = torch.from_numpy(batch.embeddings.astype(np.float64)) @ torch.linalg.inv(weights.T)
        layer = torch.nn.Linear(d, d, bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(weights)
        criterion = RemoteTripletLoss(ReplayClient(batch, answer), "reference", mode="sync")
        criterion(layer(x), torch.tensor(labels)).backward()
        ref_weights_grad = ref_f.grad.T @ x
        err = relative_error(layer.weight.grad, ref_weights_grad)
        if not err <= TOLERANCE:
            failures.append(f"{what}: relative error {err:.3g} of d loss / d weights")
        print(f"{what}: {ref_triplets} triplets, loss {answer.loss:.6g}, relative error {err:.2e}")
        checked += 1
    return checked


def main(root: str) -> int:
    failures, checked = [], 0
    for config in sorted(os.listdir(root)):
        if os.path.isdir(os.path.join(root, config)):
            checked += check(os.path.join(root, config), failures)
    for f in failures:
        print("FAILED:", f)
    print(f"checked {checked} batches, {len(failures)} failure(s)")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
