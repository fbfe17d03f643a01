"""An independent float64 PyTorch implementation of the job's loss, written from docs/mining.md:
the distance, the miner (deterministic configurations only), the loss terms and the reduction.
Autograd of this loss is the reference for the job's gradients (engine_reference_check.py)."""

from __future__ import annotations

import numpy as np
import torch


def distances(f: torch.Tensor, kind: str) -> torch.Tensor:
    """dis[i][j] from the Gram matrix; the diagonal is 0 and carries no gradient."""
    n = f.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    zero = torch.zeros((), dtype=f.dtype)
    g = f @ f.T
    if kind == "neg-dot":
        return torch.where(eye, zero, -g)
    sq_norm = torch.diagonal(g)
    sq = torch.clamp(sq_norm[:, None] + sq_norm[None, :] - 2 * g, min=0)
    if kind == "squared-euclidean":
        return torch.where(eye, zero, sq)
    if kind == "euclidean":
        return torch.where(eye, zero, torch.sqrt(torch.where(eye, torch.ones_like(sq), sq)))
    if kind == "cosine":
        norm = torch.sqrt(sq_norm)
        return torch.where(eye, zero, 1 - g / (norm[:, None] * norm[None, :]))
    raise ValueError(kind)


def anchor_positives(labels: np.ndarray, opts: dict):
    n = labels.shape[0]
    if opts["positives"] == "pairs":
        ps = opts["pair-size"]
        out = []
        for a in range(0, n, ps):
            if a + 1 < n:
                assert labels[a + 1] == labels[a], "the reference covers batches without label mismatches"
                out.append((a, [a + 1]))
        return out
    out = []
    for a in range(n):
        pos = [j for j in range(n) if j != a and labels[j] == labels[a]]
        if pos:
            out.append((a, pos))
    return out


def triplets(dis: np.ndarray, labels: np.ndarray, opts: dict):
    """The selected (a, p, n), from docs/mining.md "Miners"."""
    n = labels.shape[0]
    margin, neg_num, miner = opts["margin"], opts["neg-num"], opts["miner"]
    out = []
    for a, positives in anchor_positives(labels, opts):
        others = [j for j in range(n) if labels[j] != labels[a]]
        by_hardness = sorted(others, key=lambda j: (dis[a, j], j))
        if miner == "batch-hard":
            p = max(positives, key=lambda q: (dis[a, q], -q))
            if by_hardness:
                out.append((a, p, by_hardness[0]))
            continue
        for p in positives:
            cand = [j for j in by_hardness if (dis[a, p] - dis[a, j]) + margin > 0]
            if miner == "batch-all":
                chosen = cand
            elif miner == "rank-hard":
                hard_num = int(np.float32(neg_num) * np.float32(opts["hard-ratio"]))
                rand_num = int(np.float32(neg_num) * np.float32(opts["rand-ratio"]))
                assert len(cand) <= neg_num or (hard_num >= neg_num and rand_num == 0), "rank-hard would draw"
                chosen = cand if len(cand) <= neg_num else cand[:neg_num]
            elif miner == "semi-hard":
                semi = [j for j in cand if dis[a, p] < dis[a, j]]
                chosen = semi[:neg_num] if semi else by_hardness[:1]
            else:
                raise ValueError(miner)
            out.extend((a, p, j) for j in chosen)
    return out


def reference_loss(f: torch.Tensor, labels: np.ndarray, opts: dict):
    """(loss, selected triplets, mask [N, N]) in float64; differentiable in ``f``."""
    dis = distances(f, opts["distance"])
    trip = triplets(dis.detach().numpy(), labels, opts)
    n = labels.shape[0]
    mask = np.zeros((n, n), dtype=bool)
    terms = []
    for a, p, j in trip:
        mask[a, j] = True
        x1 = (dis[a, p] - dis[a, j]) + opts["margin"]
        x2 = (dis[a, p] - dis[p, j]) + opts["margin"]
        loss = opts["loss"]
        if loss == "double-hinge":
            terms += [torch.relu(x1), torch.relu(x2)]
        elif loss == "hinge":
            terms.append(torch.relu(x1))
        elif loss == "soft":
            terms.append(torch.nn.functional.softplus(x1, beta=1, threshold=20))
        else:
            raise ValueError(loss)
    total = torch.stack(terms).sum() if terms else f.sum() * 0
    red = opts["reduction"]
    if red == "seed":
        divisor = opts["neg-num"] * n // opts["pair-size"] * 2
    elif red == "mean-nonzero":
        divisor = sum(1 for t in terms if float(t) > 0)
    elif red == "mean":
        divisor = len(terms)
    else:
        raise ValueError(red)
    if divisor == 0:
        return f.sum() * 0, len(trip), mask
    return total / divisor * opts["loss-weight"], len(trip), mask
