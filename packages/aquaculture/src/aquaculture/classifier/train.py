"""``aquaculture train``: a compact CNN from scratch on an ImageFolder tree (PyTorch CPU).

Split by source, augment, train with a progress bar, early-stop on validation accuracy,
calibrate by temperature scaling on validation, evaluate on the held-out test sources, export
ONNX (normalisation and temperature inside the graph) and write the model card. Needs the
``train`` extra; the server never imports this module.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from aquaculture.classifier.dataset import ImageSet, load_image_folder, split_by_source
from aquaculture.classifier.metrics import confusion_png, evaluate, unsure_threshold
from aquaculture.classifier.preprocess import to_input

MEAN = (0.45, 0.45, 0.45)
STD = (0.25, 0.25, 0.25)


@dataclass
class TrainConfig:
    """What ``aquaculture train`` was asked to do."""

    data: Path
    out: Path
    epochs: int = 30
    size: int = 64
    batch_size: int = 64
    patience: int = 4
    seed: int = 0
    lr: float = 3e-3
    synthetic: bool = False
    #: Progress bars on stderr (off in tests).
    progress: bool = True


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class FishNet(nn.Module):  # type: ignore[misc]
    """Four conv blocks, global average pooling, one linear layer (~0.1 M parameters)."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(3, 24), _block(24, 48), _block(48, 64), _block(64, 96))
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(96, classes)
        )
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of (N, 3, S, S) images in [0, 1]."""
        logits: torch.Tensor = self.head(self.features((x - self.mean) / self.std))  # type: ignore[operator]
        return logits


class Exported(nn.Module):  # type: ignore[misc]
    """What ships: calibrated probabilities (logits / T, softmax) and the logits."""

    def __init__(self, net: FishNet, temperature: float) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("temperature", torch.tensor(temperature))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(probabilities, logits)``."""
        logits = self.net(image)
        return torch.softmax(logits / self.temperature, dim=1), logits


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flips, shifts (reflect-padded crops), brightness and contrast jitter, on a batch."""
    n, _, s, _ = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    pad = max(2, s // 10)
    padded = nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
    dx, dy = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=gen))
    x = padded[:, :, dy : dy + s, dx : dx + s]
    bright = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.4
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.4
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * contrast + mean * bright).clamp(0, 1)


def _tensor(data: ImageSet) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(to_input(data.images)), torch.from_numpy(data.labels)


@torch.no_grad()
def _logits(net: nn.Module, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    net.eval()
    return (
        torch.cat([net(x[i : i + batch]) for i in range(0, len(x), batch)])
        if len(x)
        else torch.zeros(0)
    )


def _epoch(
    net: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    gen: torch.Generator,
    bar: Any,
) -> float:
    net.train()
    order, total = torch.randperm(len(x), generator=gen), 0.0
    for i in range(0, len(x), cfg.batch_size):
        idx = order[i : i + cfg.batch_size]
        loss = nn.functional.cross_entropy(net(augment(x[idx], gen)), y[idx], label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
        bar.update(len(idx))
    return total / max(1, len(x))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature minimising validation NLL (Guo et al. 2017), by L-BFGS on log T."""
    if len(labels) == 0:
        return 1.0
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


def _train(cfg: TrainConfig, train: ImageSet, val: ImageSet) -> tuple[FishNet, int, float]:
    """The best model on validation accuracy, its epoch, and that accuracy."""
    gen = torch.Generator().manual_seed(cfg.seed)
    net = FishNet(len(train.classes))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, cfg.epochs))
    (x, y), (vx, vy) = _tensor(train), _tensor(val)
    best, best_acc, best_epoch, waited = copy.deepcopy(net.state_dict()), -1.0, 0, 0
    for epoch in range(1, cfg.epochs + 1):
        with tqdm(
            total=len(x),
            desc=f"epoch {epoch}/{cfg.epochs}",
            unit="img",
            disable=not cfg.progress,
            leave=False,
        ) as bar:
            loss = _epoch(net, opt, x, y, cfg, gen, bar)
        sched.step()
        acc = float((_logits(net, vx).argmax(1) == vy).float().mean()) if len(vx) else 0.0
        if cfg.progress:
            tqdm.write(f"epoch {epoch}: train loss {loss:.3f}, val accuracy {acc:.3f}")
        if acc > best_acc:
            best, best_acc, best_epoch, waited = copy.deepcopy(net.state_dict()), acc, epoch, 0
        else:
            waited += 1
            if waited >= cfg.patience:  # early stopping: validation stopped improving
                break
    net.load_state_dict(best)
    return net, best_epoch, best_acc


def export_onnx(net: FishNet, temperature: float, size: int, path: Path) -> None:
    """Write the calibrated model as ONNX: input ``image`` (N, 3, S, S) float in [0, 1],
    outputs ``probabilities`` and ``logits``, dynamic batch."""
    model = Exported(net, temperature).eval()
    axes = {"image": {0: "batch"}, "probabilities": {0: "batch"}, "logits": {0: "batch"}}
    with warnings.catch_warnings():
        # The TorchScript exporter on purpose: the dynamo one needs onnxscript, not installed.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (torch.zeros(1, 3, size, size),), str(path),
                          input_names=["image"], output_names=["probabilities", "logits"],
                          opset_version=17, dynamo=False, dynamic_axes=axes)  # fmt: skip


def _card(
    cfg: TrainConfig,
    data: ImageSet,
    splits: tuple[np.ndarray, ...],
    facts: dict[str, Any],
    test: dict[str, Any],
    onnx_path: Path,
) -> dict[str, Any]:
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    kind = (
        (
            "SYNTHETIC: generated fish images (aquaculture.classifier.synth); the model knows "
            "these invented species only, not real fish"
        )
        if cfg.synthetic
        else f"ImageFolder {cfg.data}"
    )
    return {
        "name": "aquaculture-fish-classifier",
        "version": f"{datetime.now(UTC):%Y%m%d}-{digest[:8]}",
        "sha256": digest,
        "classes": data.classes,
        "input_size": cfg.size,
        "inputs": {"image": "float32 (N, 3, S, S), RGB in [0, 1], centre square crop"},
        "data": {
            "kind": kind,
            "synthetic": cfg.synthetic,
            "images": len(data.labels),
            "split": "by source (src-<name>__ file prefix), never by row",
            "train": len(splits[0]),
            "validation": len(splits[1]),
            "test": len(splits[2]),
            "test_sources": sorted({data.sources[i] for i in splits[2]})[:50],
        },
        "calibration": {"method": "temperature scaling on validation", **facts},
        "metrics": {
            "val_accuracy": facts["val_accuracy"],
            "test_accuracy": test["accuracy"],
            "ece": test["ece"],
            "ece_uncalibrated": facts["ece_uncalibrated"],
            "per_class": test["per_class"],
            "confusion": test["confusion"],
        },
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training": {"best_epoch": facts["epochs"], "seed": cfg.seed, "seconds": facts["seconds"]},
    }


def _markdown(card: dict[str, Any]) -> str:
    m = card["metrics"]
    rows = "\n".join(
        f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |"
        for c, v in m["per_class"].items()
    )
    return (
        f"# {card['name']} {card['version']}\n\n**Data: {card['data']['kind']}.**\n\n"
        f"Classes: {', '.join(card['classes'])}. Input {card['input_size']}px.\n\n"
        f"Held-out test (split by source): accuracy {m['test_accuracy']:.3f}, ECE "
        f"{m['ece']:.3f} (uncalibrated {m['ece_uncalibrated']:.3f}); validation accuracy "
        f"{m['val_accuracy']:.3f}. Temperature {card['calibration']['temperature']:.3f}; "
        f"predictions under {card['calibration']['unsure_threshold']:.2f} are flagged "
        f"unsure, and so are images whose largest logit is under "
        f"{card['calibration'].get('min_max_logit') or 0:.2f} (rarer than 1 in 20 on validation: "
        "out of distribution).\n\n| class | precision | recall | support |\n|---|---|---|---|\n"
        f"{rows}\n\n![confusion matrix](confusion.png)\n"
    )


def train_and_export(cfg: TrainConfig) -> dict[str, Any]:
    """Train, calibrate, evaluate and export to ``cfg.out`` (model.onnx, card.json, card.md,
    confusion.png); returns the card."""
    started = time.monotonic()
    torch.manual_seed(cfg.seed)
    data = load_image_folder(cfg.data, cfg.size)
    splits = split_by_source(data, cfg.seed)
    train, val, test = (data.subset(s) for s in splits)
    # Too few sources for a validation split (a tiny tree): validate on the training rows.
    val = val if len(val.labels) else train
    net, epochs, val_acc = _train(cfg, train, val)
    (vx, vy), (tx, ty) = _tensor(val), _tensor(test)
    val_logits = _logits(net, vx)
    temperature = fit_temperature(val_logits, vy)
    val_probs = torch.softmax(val_logits / temperature, 1).numpy()
    threshold = unsure_threshold(val_probs, vy.numpy())
    # 1 in 20 validation images has a smaller largest logit: below it, "looks like nothing known".
    floor = float(np.percentile(val_logits.max(1).values.numpy(), 5)) if len(vy) else None
    test_logits = _logits(net, tx) if len(tx) else val_logits
    test_labels = ty.numpy() if len(tx) else vy.numpy()
    test_eval = evaluate(
        torch.softmax(test_logits / temperature, 1).numpy(), test_labels, data.classes
    )
    raw_ece = evaluate(torch.softmax(test_logits, 1).numpy(), test_labels, data.classes)["ece"]
    cfg.out.mkdir(parents=True, exist_ok=True)
    onnx_path = cfg.out / "model.onnx"
    export_onnx(net, temperature, cfg.size, onnx_path)
    confusion_png(np.array(test_eval["confusion"]), data.classes, cfg.out / "confusion.png")
    facts = {
        "temperature": temperature,
        "unsure_threshold": threshold,
        "min_max_logit": floor,
        "val_accuracy": val_acc,
        "ece_uncalibrated": raw_ece,
        "epochs": epochs,
        "seconds": round(time.monotonic() - started, 1),
    }
    card = _card(cfg, data, splits, facts, test_eval, onnx_path)
    (cfg.out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (cfg.out / "card.md").write_text(_markdown(card))
    return card
