"""A PyTorch loss whose forward and backward passes are the tripletflow job's: ``RemoteTripletLoss``.

The job mines the triplets, computes the loss and ``d loss / d embeddings``; this module sends it a
batch and connects the answer to the autograd graph, so ``loss.backward()`` carries the job's
gradient into the model like any local loss.

Synchronous (one round trip per step, the answer awaited inside ``forward``)::

    criterion = RemoteTripletLoss(client, "trainer-1")
    loss = criterion(model(x), labels)          # 0-dim tensor, the job's loss
    loss.backward()                             # d loss / d embeddings = the job's gradient
    optimizer.step(); optimizer.zero_grad()

Pipelined (up to ``max_staleness`` batches in flight; delayed SGD)::

    criterion = RemoteTripletLoss(client, "trainer-1", mode="pipelined", max_staleness=4)
    for x, labels in loader:
        with criterion.keep_graph():            # the forward's graph survives later optimizer steps
            emb = model(x)
        criterion(emb, labels)                  # submits, returns a PendingLoss at once
        criterion.step(optimizer)               # backward + optimizer step for every answer that is in
    criterion.drain(optimizer)                  # the rest

Why ``keep_graph()``: in pipelined mode a batch's backward runs after the optimizer has stepped for
earlier batches, and in-place parameter updates invalidate the tensors autograd saved in the forward
("modified by an inplace operation"). Inside ``keep_graph()`` the forward saves copies of the
parameters it uses (``torch.autograd.graph.saved_tensors_hooks``), so the backward computes the
gradient at the parameters that produced the embeddings: the gradient delayed SGD applies.

Errors of the job arrive as the client's exceptions: ``DeadLetterError`` (the job refused the batch:
reason and detail from the dead-letter headers), ``AnswerTimeout``; in pipelined mode they are
raised by the ``step``/``drain`` that reaches the batch.

Batch ids increase per stream key from ``first_batch_id``; the model step sent with a batch is the
number of answers applied so far (the version of the parameters, when the optimizer steps once per
answer), or the ``model_step`` passed to ``forward``.
"""

from __future__ import annotations

import contextlib
from collections import deque
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Optional

import numpy as np
import torch

from . import wire
from .client import AnswerTimeout

__all__ = ["RemoteTripletLoss", "PendingLoss", "JobGradient"]


class JobGradient(torch.autograd.Function):
    """``loss = job_loss`` forward; ``d loss / d embeddings = grad_output * job_gradient`` backward."""

    @staticmethod
    def forward(ctx, embeddings, gradient, loss):
        ctx.save_for_backward(gradient)
        return loss.detach().clone()

    @staticmethod
    def backward(ctx, grad_output):
        (gradient,) = ctx.saved_tensors
        return grad_output * gradient, None, None


class PendingLoss:
    """A batch sent in pipelined mode: its graph (kept until the answer is applied) and its answer."""

    def __init__(self, embeddings: torch.Tensor, answer, batch_id: int, submitted_index: int, updates_at_forward: int):
        self.embeddings = embeddings
        self.answer = answer
        self.batch_id = batch_id
        self.submitted_index = submitted_index
        self.updates_at_forward = updates_at_forward
        self.loss: Optional[float] = None       # the job's loss, once applied
        self.staleness: Optional[int] = None    # answers applied between this forward and its backward
        self.gradient: Optional[wire.GradientBatch] = None

    def ready(self) -> bool:
        return self.answer.done()

    @property
    def applied(self) -> bool:
        return self.loss is not None


class RemoteTripletLoss(torch.nn.Module):
    """The job's triplet loss as a ``torch.nn.Module``; see the module's doc.

    client: a ``tripletflow.client.TrainerClient`` (or anything with its ``submit``).
    mode: ``"sync"`` (forward waits for the answer) or ``"pipelined"`` (forward returns a PendingLoss).
    max_staleness: pipelined only: batches in flight after ``step()``; ``step`` waits for the oldest
        answers beyond it. The client's ``max_in_flight`` should be above it.
    timeout: seconds to wait for one answer (``AnswerTimeout`` after it).
    """

    def __init__(self, client, stream_key: str, mode: str = "sync", max_staleness: int = 4,
                 timeout: float = 60.0, first_batch_id: int = 1):
        super().__init__()
        if mode not in ("sync", "pipelined"):
            raise ValueError(f"mode must be 'sync' or 'pipelined', got {mode!r}")
        if max_staleness < 0:
            raise ValueError(f"max_staleness must be >= 0, got {max_staleness}")
        self.client = client
        self.stream_key = stream_key
        self.mode = mode
        self.max_staleness = max_staleness
        self.timeout = timeout
        self.next_batch_id = first_batch_id
        self.submitted = 0
        self.applied = 0                          # answers whose gradient went into the graph
        self.staleness_total = 0
        self.staleness_max = 0
        self.round_trips = []                     # seconds per answer, in order of application
        self._pending = deque()

    # ---- Forward

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, model_step: Optional[int] = None):
        if embeddings.dim() != 2:
            raise ValueError(f"embeddings must be [N, D], got shape {tuple(embeddings.shape)}")
        if labels.dim() != 1 or labels.shape[0] != embeddings.shape[0]:
            raise ValueError(f"labels must be [N] with N = {embeddings.shape[0]}, got shape {tuple(labels.shape)}")
        batch = wire.EmbeddingBatch(
            batch_id=self.next_batch_id,
            model_step=self.applied if model_step is None else int(model_step),
            created_ms=wire.now_ms(),
            labels=labels.detach().cpu().numpy().astype(np.int32),
            embeddings=embeddings.detach().to(torch.float32).contiguous().cpu().numpy())
        answer = self.client.submit(batch, self.stream_key, self.timeout)
        self.next_batch_id += 1
        self.submitted += 1
        if self.mode == "sync":
            g = self._wait(answer)
            self._count(answer, 0)
            return self._connect(embeddings, g)
        pending = PendingLoss(embeddings, answer, batch.batch_id, self.submitted - 1, self.applied)
        self._pending.append(pending)
        return pending

    def _wait(self, answer) -> wire.GradientBatch:
        try:
            return answer.result(self.timeout)
        except (TimeoutError, FutureTimeout) as e:
            if isinstance(e, AnswerTimeout):
                raise
            answer.cancel()
            raise AnswerTimeout(self.stream_key, answer.batch_id, self.timeout) from None

    @staticmethod
    def _connect(embeddings: torch.Tensor, g: wire.GradientBatch) -> torch.Tensor:
        if tuple(g.gradients.shape) != tuple(embeddings.shape):
            raise ValueError(f"the job answered batch {g.batch_id} with gradients of shape {g.gradients.shape} "
                             f"for embeddings of shape {tuple(embeddings.shape)}")
        gradient = torch.from_numpy(np.array(g.gradients, dtype=np.float32)).to(embeddings.device, embeddings.dtype)
        loss = torch.tensor(g.loss, dtype=embeddings.dtype, device=embeddings.device)
        return JobGradient.apply(embeddings, gradient, loss)

    def _count(self, answer, staleness: int):
        self.applied += 1
        self.staleness_total += staleness
        self.staleness_max = max(self.staleness_max, staleness)
        rt = getattr(answer, "round_trip_seconds", None)
        if rt is not None:
            self.round_trips.append(rt)

    # ---- Pipelined

    @contextlib.contextmanager
    def keep_graph(self):
        """Run the model's forward inside it (pipelined mode): parameters the graph saves are copied,
        so optimizer steps before this batch's backward do not invalidate it."""
        def pack(t):
            # A parameter or a view of one (Linear saves weight.t()): the optimizer changes it in place.
            base = t if t._base is None else t._base
            if base.is_leaf and base.requires_grad:
                return t.detach().clone()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            yield

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def step(self, optimizer=None, block: bool = True) -> list:
        """Applies the answers that are in, oldest first: ``torch.autograd.backward(embeddings,
        job_gradient)`` for each, then ``optimizer.step()`` and ``zero_grad()`` when an optimizer is
        given (once per answer). While more than ``max_staleness`` batches are in flight it waits for
        the oldest (unless ``block`` is False). Returns the PendingLoss objects applied."""
        applied = []
        while self._pending:
            head = self._pending[0]
            must = block and len(self._pending) > self.max_staleness
            if not must and not head.ready():
                break
            self._apply(self._pending.popleft(), optimizer)
            applied.append(head)
        return applied

    def drain(self, optimizer=None) -> list:
        """Applies every batch still in flight (waits for each answer)."""
        applied = []
        while self._pending:
            head = self._pending.popleft()
            self._apply(head, optimizer)
            applied.append(head)
        return applied

    def _apply(self, p: PendingLoss, optimizer):
        try:
            g = self._wait(p.answer)
        except BaseException:
            p.embeddings = None
            raise
        staleness = self.applied - p.updates_at_forward
        gradient = torch.from_numpy(np.array(g.gradients, dtype=np.float32)).to(p.embeddings.device, p.embeddings.dtype)
        if tuple(gradient.shape) != tuple(p.embeddings.shape):
            raise ValueError(f"the job answered batch {g.batch_id} with gradients of shape {tuple(gradient.shape)} "
                             f"for embeddings of shape {tuple(p.embeddings.shape)}")
        try:
            torch.autograd.backward(p.embeddings, gradient)
        except RuntimeError as e:
            if "inplace operation" in str(e):
                raise RuntimeError(f"batch {p.batch_id}: its graph was changed by an optimizer step before its answer "
                                   "arrived; run the model's forward inside `with criterion.keep_graph():` in "
                                   f"pipelined mode ({e})") from e
            raise
        p.embeddings = None
        p.loss, p.staleness, p.gradient = float(g.loss), staleness, g
        self._count(p.answer, staleness)
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad()

    def stats(self) -> dict:
        """Batches submitted and applied, in flight, staleness (mean, max) and round trip p50 (s)."""
        return {"submitted": self.submitted, "applied": self.applied, "in_flight": len(self._pending),
                "staleness_mean": self.staleness_total / self.applied if self.applied else 0.0,
                "staleness_max": self.staleness_max,
                "round_trip_p50": float(np.median(self.round_trips)) if self.round_trips else float("nan")}
