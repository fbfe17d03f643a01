"""The Python side of one round trip, apart from the wait: encode a batch, decode its answer, hand the
gradient to autograd. Run: /usr/bin/python3 python/tests/overhead_bench.py (from the repository root)."""
import sys, time, numpy as np, torch
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), ".."))
from tripletflow import wire
from tripletflow.torch import JobGradient
N, D = 256, 128
rng = np.random.default_rng(1)
emb = torch.nn.functional.normalize(torch.randn(N, D), dim=1).requires_grad_(True)
labels = np.repeat(np.arange(N // 2), 2).astype(np.int32)
grad = rng.standard_normal((N, D)).astype(np.float32)
answer_bytes = wire.encode_gradient_batch(wire.GradientBatch(batch_id=1, model_step=1, created_ms=0, computed_ms=0,
    loss=1.0, selected_triplets=10, nonzero_hinges=5, gradients=grad, mask=None))
def one():
    e = emb.detach().numpy().astype(np.float32, copy=False)
    b = wire.EmbeddingBatch(batch_id=1, model_step=1, created_ms=0, labels=labels, embeddings=e)
    rec = wire.encode_embedding_batch(b)
    g = wire.decode_gradient_batch(answer_bytes)
    loss = JobGradient.apply(emb, torch.from_numpy(np.asarray(g.gradients)), torch.tensor(g.loss))
    loss.backward()
    emb.grad = None
for _ in range(50): one()
ts = []
for _ in range(500):
    t = time.perf_counter(); one(); ts.append(time.perf_counter() - t)
ts.sort()
print(f"python side per batch, N={N} D={D}: p50 {ts[len(ts)//2]*1e3:.3f} ms, p99 {ts[int(len(ts)*0.99)]*1e3:.3f} ms (encode + decode + autograd hand-off)")
