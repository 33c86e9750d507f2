"""The neural bug detector (PyTorch; training only — serving runs the exported ONNX graph).

A small transformer over tokens embedded from hashed subtokens, with GREAT/BugLab-style heads:
a location pointer over the tokens plus a "no bug" slot, and for each location a repair
distribution over the fixed repairs and a pointer to another token of the function.
Attention is written out with plain matrix products so the graph exports to ONNX as is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from pyforge.ml.features import KIND_SLOTS, MAX_TOKENS, VOCAB
from pyforge.ml.rewrites import REPAIRS

NEG = -1e4  # "minus infinity" that stays finite in float16/float32 softmax


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Sizes of the model."""

    dim: int = 64
    layers: int = 3
    heads: int = 4
    ff: int = 192

    def as_dict(self) -> dict[str, int]:
        """The config as plain JSON data."""
        return asdict(self)


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, ff: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Linear(ff, dim))

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h) + bias, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(y)
        out: Tensor = x + self.ff(self.norm2(x))
        return out


class BugModel(nn.Module):
    """Outputs ``loc [b,t]``, ``nobug [b]``, ``repair [b,t,R]`` and ``pointer [b,t,t]`` logits."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.dim
        self.config = config
        self.sub = nn.Embedding(VOCAB, d, padding_idx=0)
        self.kind = nn.Embedding(KIND_SLOTS, d)
        self.pos = nn.Embedding(MAX_TOKENS, d)
        self.blocks = nn.ModuleList(
            [_Block(d, config.heads, config.ff) for _ in range(config.layers)]
        )
        self.norm = nn.LayerNorm(d)
        self.loc = nn.Linear(d, 1)
        self.nobug = nn.Sequential(nn.Linear(2 * d, d), nn.GELU(), nn.Linear(d, 1))
        self.repair = nn.Linear(d, len(REPAIRS))
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)

    def forward(self, sub: Tensor, kind: Tensor, pad: Tensor) -> tuple[Tensor, ...]:
        """Logits of every head; padding positions are left for the caller to mask."""
        t = sub.shape[1]
        positions = torch.arange(t, device=sub.device)
        x = self.sub(sub).sum(dim=2) + self.kind(kind) + self.pos(positions)[None]
        bias = ((1.0 - pad) * NEG)[:, None, None, :]
        for block in self.blocks:
            x = block(x, bias)
        h = self.norm(x)
        loc = self.loc(h).squeeze(-1)
        mean = (h * pad[..., None]).sum(1) / pad.sum(1, keepdim=True).clamp(min=1.0)
        peak = (h + ((1.0 - pad) * NEG)[..., None]).max(dim=1).values
        nobug = self.nobug(torch.cat([mean, peak], dim=-1)).squeeze(-1)
        repair = self.repair(h)
        pointer = self.query(h) @ self.key(h).transpose(1, 2) / math.sqrt(h.shape[-1])
        return loc, nobug, repair, pointer


def losses(
    outputs: tuple[Tensor, ...],
    loc_mask: Tensor,
    repair_mask: Tensor,
    ptr_mask: Tensor,
    loc_target: Tensor,
    repair_target: Tensor,
    ptr_target: Tensor,
) -> tuple[Tensor, Tensor]:
    """Location loss (over no-bug + sites) and repair loss at the true location of buggy ones.

    ``loc_target`` is -1 for a clean function; ``repair_target`` is -1 for a pointer repair,
    whose positives are the tokens marked in ``ptr_target [b, t]``.
    """
    loc, nobug, repair, pointer = outputs
    loc = torch.where(loc_mask, loc, torch.full_like(loc, NEG))
    loc_loss = nn.functional.cross_entropy(torch.cat([nobug[:, None], loc], 1), loc_target + 1)
    buggy = (loc_target >= 0).nonzero().squeeze(1)
    if buggy.numel() == 0:
        return loc_loss, loc_loss.new_zeros(())
    at = loc_target[buggy]
    rep = repair[buggy, at]
    rep = torch.where(repair_mask[buggy, at], rep, torch.full_like(rep, NEG))
    ptr = pointer[buggy, at]
    ptr = torch.where(ptr_mask[buggy, at], ptr, torch.full_like(ptr, NEG))
    logp = torch.log_softmax(torch.cat([rep, ptr], 1), dim=1)
    positive = torch.cat(
        [nn.functional.one_hot(repair_target[buggy].clamp(min=0), len(REPAIRS)).bool()
         & (repair_target[buggy] >= 0)[:, None], ptr_target[buggy]], 1,
    )  # fmt: skip
    rep_loss = -torch.logsumexp(torch.where(positive, logp, torch.full_like(logp, NEG)), 1)
    return loc_loss, rep_loss.mean()
