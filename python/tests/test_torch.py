"""RemoteTripletLoss with a fake client: the job's gradient reaches autograd, sync and pipelined."""
import unittest
from concurrent.futures import Future

import numpy as np

try:
    import torch
    from tripletflow.torch import RemoteTripletLoss
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

from tripletflow import wire
from tripletflow.client import DeadLetterError


class FakeJob:
    """Answers with loss = sum(e * W_job) and gradient W_job, a fixed matrix; completes on demand."""

    def __init__(self, n, d, hold=False):
        self.grad = np.arange(n * d, dtype=np.float32).reshape(n, d) / 10
        self.sent, self.futures, self.hold, self.fail = [], [], hold, set()

    def submit(self, batch, stream_key=None, timeout=None):
        self.sent.append((stream_key, batch))
        f = Future()
        f.batch_id = batch.batch_id
        self.futures.append((f, batch))
        if not self.hold:
            self.complete(len(self.futures) - 1)
        return f

    def complete(self, i):
        f, b = self.futures[i]
        if b.batch_id in self.fail:
            f.set_exception(DeadLetterError("k", b.batch_id, "label-mismatch", "rows 0 and 1", "dl"))
        else:
            f.set_result(wire.GradientBatch(b.batch_id, b.model_step, 0, 0, float(np.sum(b.embeddings * self.grad)),
                                            1, 1, self.grad))


@unittest.skipIf(torch is None, "torch is not installed")
class RemoteTripletLossTest(unittest.TestCase):
    def test_sync_backward_is_grad_output_times_job_gradient(self):
        job = FakeJob(4, 3)
        crit = RemoteTripletLoss(job, "k")
        for dtype in (torch.float32, torch.float64):
            e = torch.randn(4, 3, dtype=dtype, requires_grad=True)
            loss = crit(e, torch.tensor([0, 0, 1, 1]))
            self.assertEqual((loss.dim(), loss.dtype), (0, dtype))
            self.assertAlmostEqual(float(loss), float(np.sum(e.detach().numpy().astype(np.float32) * job.grad)), 4)
            (3 * loss).backward()
            torch.testing.assert_close(e.grad, 3 * torch.from_numpy(job.grad).to(dtype))
        keys_ids = [(k, b.batch_id) for k, b in job.sent]
        self.assertEqual(keys_ids, [("k", 1), ("k", 2)])
        self.assertEqual(job.sent[0][1].embeddings.dtype, np.float32)

    def test_pipelined_applies_stale_gradients_at_the_forward_parameters(self):
        torch.manual_seed(0)
        job = FakeJob(4, 3, hold=True)
        model = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        crit = RemoteTripletLoss(job, "k", mode="pipelined", max_staleness=2)
        xs = [torch.randn(4, 5) for _ in range(3)]
        # The gradient each batch must give: at the parameters of its forward.
        expected = []
        for x in xs[:2]:
            model.zero_grad()
            torch.autograd.backward(model(x), torch.from_numpy(job.grad))
            expected.append([p.grad.clone() for p in model.parameters()])
        model.zero_grad()
        for x in xs[:2]:
            with crit.keep_graph():
                emb = model(x)
            crit(emb, torch.tensor([0, 0, 1, 1]))
            self.assertEqual(crit.step(), [])              # nothing in yet, 2 <= max_staleness
        job.complete(0)
        (first,) = crit.step()
        for p, g in zip(model.parameters(), expected[0]):
            torch.testing.assert_close(p.grad, g)
        opt.step()                                         # parameters change before batch 2's backward
        opt.zero_grad()
        job.complete(1)
        (second,) = crit.step()
        for p, g in zip(model.parameters(), expected[1]):
            torch.testing.assert_close(p.grad, g)
        self.assertEqual((first.staleness, second.staleness, crit.applied), (0, 1, 2))
        self.assertEqual(crit.stats()["staleness_max"], 1)

    def test_step_waits_beyond_max_staleness_and_raises_dead_letters(self):
        job = FakeJob(4, 3, hold=True)
        job.fail.add(2)
        crit = RemoteTripletLoss(job, "k", mode="pipelined", max_staleness=0, timeout=1)
        e = torch.randn(4, 3, requires_grad=True)
        crit(e * 1, torch.tensor([0, 0, 1, 1]))
        job.complete(0)
        self.assertEqual(len(crit.step()), 1)
        crit(e * 1, torch.tensor([0, 1, 1, 1]))
        job.complete(1)
        with self.assertRaises(DeadLetterError) as err:
            crit.step()
        self.assertIn("label-mismatch", str(err.exception))

    def test_pipelined_without_keep_graph_says_what_to_do(self):
        job = FakeJob(4, 3)
        model = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        crit = RemoteTripletLoss(job, "k", mode="pipelined", max_staleness=2)
        crit(model(torch.randn(4, 5)), torch.tensor([0, 0, 1, 1]))
        crit(model(torch.randn(4, 5)), torch.tensor([0, 0, 1, 1]))
        with self.assertRaisesRegex(RuntimeError, "keep_graph"):
            crit.drain(opt)


if __name__ == "__main__":
    unittest.main()
