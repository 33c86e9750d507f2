"""Training, scoring and ONNX export of the neural detector (needs the ``train`` extra)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from pyforge.ml.dataset import Example, FunctionPair
from pyforge.ml.decode import decide
from pyforge.ml.evaluate import Scored
from pyforge.ml.features import collate
from pyforge.ml.model import BugModel, ModelConfig, losses

ONNX_INPUTS = ["sub", "kind", "pad"]
ONNX_OUTPUTS = ["loc", "nobug", "repair", "pointer"]


def training_stream(pairs: Sequence[FunctionPair], rng: random.Random) -> list[Example]:
    """One epoch: every clean function, and the buggy twin of every other one (2 : 1)."""
    out = [p.clean for p in pairs]
    out += [p.buggy for p in pairs if p.buggy is not None and rng.random() < 0.5]
    return out


def _batches(examples: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    # Similar lengths share a batch (little padding); batch order is shuffled.
    rng.shuffle(examples)
    chunks = [examples[i : i + size * 50] for i in range(0, len(examples), size * 50)]
    batches = []
    for chunk in chunks:
        chunk.sort(key=lambda e: e.enc.length)
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[Example]) -> dict[str, torch.Tensor]:
    b = collate([e.enc for e in batch])
    t = b.kind.shape[1]
    ptr_target = np.zeros((len(batch), t), dtype=np.bool_)
    for k, e in enumerate(batch):
        ptr_target[k, : e.enc.length] = e.pointer_targets()
    return {
        "sub": torch.from_numpy(b.sub),
        "kind": torch.from_numpy(b.kind),
        "pad": torch.from_numpy(b.pad),
        "loc_mask": torch.from_numpy(b.loc_mask),
        "repair_mask": torch.from_numpy(b.repair_mask),
        "ptr_mask": torch.from_numpy(b.ptr_mask),
        "loc_target": torch.tensor([e.location for e in batch]),
        "repair_target": torch.tensor([e.repair for e in batch]),
        "ptr_target": torch.from_numpy(ptr_target),
    }


def train(
    pairs: Sequence[FunctionPair],
    config: ModelConfig,
    *,
    epochs: int,
    seed: int,
    batch_size: int = 32,
    lr: float = 2e-3,
    time_budget_s: float | None = None,
    init_state: dict[str, Any] | None = None,
) -> tuple[BugModel, dict[str, Any]]:
    """Train with AdamW and a linear warm-up/decay schedule; returns the model and a log.

    ``init_state`` continues from a checkpoint's weights (a fresh optimizer and schedule).
    """
    torch.manual_seed(seed)
    rng = random.Random(seed)  # noqa: S311 - data sampling, not security
    model = BugModel(config)
    if init_state is not None:
        model.load_state_dict(init_state)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    # Clean functions plus half the buggy twins: the epoch's size, without drawing from rng.
    per_epoch = len(pairs) + sum(p.buggy is not None for p in pairs) // 2
    steps_per_epoch = (per_epoch + batch_size - 1) // batch_size
    total = max(1, steps_per_epoch * epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 200) * max(0.05, 1 - s / total)
    )
    log: dict[str, Any] = {"epochs": [], "steps": 0, "lr": lr, "resumed": init_state is not None}
    start = time.monotonic()
    model.train()
    for epoch in range(epochs):
        batches = _batches(training_stream(pairs, rng), batch_size, rng)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", mininterval=5.0)
        total_loss = 0.0
        for batch in bar:
            t = _tensors(batch)
            outputs = model(t["sub"], t["kind"], t["pad"])
            loc_loss, rep_loss = losses(
                outputs, t["loc_mask"], t["repair_mask"], t["ptr_mask"],
                t["loc_target"], t["repair_target"], t["ptr_target"],
            )  # fmt: skip
            loss = loc_loss + rep_loss
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            log["steps"] += 1
            total_loss += loss.item()
            bar.set_postfix(loc=f"{float(loc_loss):.3f}", rep=f"{float(rep_loss):.3f}")
        log["epochs"].append({"epoch": epoch + 1, "mean_loss": total_loss / max(1, len(batches))})
        if time_budget_s is not None and time.monotonic() - start > time_budget_s:
            log["stopped_early"] = f"time budget of {time_budget_s:.0f}s reached"
            break
    log["train_seconds"] = round(time.monotonic() - start, 1)
    model.eval()
    return model, log


def judge(example: Example, verdict_loc: int, verdict_rep: int, verdict_ptr_sid: int) -> bool:
    """Whether a (location, repair) answer is the right one for a buggy example."""
    if verdict_loc != example.location:
        return False
    if example.repair >= 0:
        return verdict_rep == example.repair
    return verdict_rep < 0 and verdict_ptr_sid == example.pointer_sid


@torch.no_grad()
def score(model: BugModel, examples: Sequence[Example], batch_size: int = 64) -> list[Scored]:
    """Scored verdicts of the model on examples (clean and buggy)."""
    out: list[Scored] = []
    order = sorted(range(len(examples)), key=lambda i: examples[i].enc.length)
    results: dict[int, Scored] = {}
    for s in tqdm(range(0, len(order), batch_size), desc="scoring", mininterval=5.0):
        idx = order[s : s + batch_size]
        batch = [examples[i] for i in idx]
        b = collate([e.enc for e in batch])
        loc, nobug, rep, ptr = (
            o.numpy()
            for o in model(
                torch.from_numpy(b.sub), torch.from_numpy(b.kind), torch.from_numpy(b.pad)
            )
        )
        for k, i in enumerate(idx):
            results[i] = scored_from_logits(examples[i], loc[k], float(nobug[k]), rep[k], ptr[k])
    out = [results[i] for i in range(len(examples))]
    return out


def scored_from_logits(
    e: Example,
    loc: np.ndarray,
    nobug: float,
    rep: np.ndarray,
    ptr: np.ndarray,
) -> Scored:
    """Judge one example from its model outputs."""
    v = decide(e.enc, loc, nobug, rep, ptr)
    if e.location < 0:
        return Scored("clean", v.probability, v.argmax_location >= 0, False, False, False)
    ptr_sid = int(e.enc.string_id[v.pointer]) if v.pointer >= 0 else 0
    joint = judge(e, v.location, v.repair, ptr_sid)
    # Repair accuracy is measured at the true location, whatever location won.
    from pyforge.ml.decode import repair_distribution

    fixed, by_string = repair_distribution(e.enc, rep, ptr, e.location)
    best_fixed = int(np.argmax(fixed)) if fixed.size else -1
    pf = float(fixed[best_fixed]) if best_fixed >= 0 else 0.0
    best_sid, ps = max(by_string.items(), key=lambda kv: kv[1]) if by_string else (0, 0.0)
    repair_ok = (best_sid == e.pointer_sid) if ps > pf else (best_fixed == e.repair)
    location_ok = v.location == e.location
    argmax_bug = v.argmax_location >= 0
    return Scored(e.kind, v.probability, argmax_bug, location_ok, repair_ok, joint)


def export_onnx(model: BugModel, path: Path) -> None:
    """Write the model as ONNX with dynamic batch and length axes."""
    b, t = 2, 24
    sample = (
        torch.randint(1, 100, (b, t, 4)),
        torch.randint(0, 100, (b, t)),
        torch.ones(b, t),
    )
    axes = {"sub": {0: "batch", 1: "tokens"}, "kind": {0: "batch", 1: "tokens"},
            "pad": {0: "batch", 1: "tokens"}, "loc": {0: "batch", 1: "tokens"},
            "nobug": {0: "batch"}, "repair": {0: "batch", 1: "tokens"},
            "pointer": {0: "batch", 1: "tokens", 2: "tokens2"}}  # fmt: skip
    torch.onnx.export(
        model, sample, str(path), input_names=ONNX_INPUTS, output_names=ONNX_OUTPUTS,
        dynamic_axes=axes, opset_version=17, dynamo=False,
    )  # fmt: skip
