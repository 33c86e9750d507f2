"""Evaluation for the model card: per-class precision/recall, confusion matrix (and its
picture), expected calibration error, the "unsure" threshold (numpy + Pillow only)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def confusion(labels: np.ndarray, predicted: np.ndarray, n: int) -> np.ndarray:
    """``m[true, predicted]`` counts."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m


def per_class(m: np.ndarray, classes: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall and support of each class (0.0 where undefined)."""
    out = {}
    for i, name in enumerate(classes):
        tp, predicted, actual = m[i, i], m[:, i].sum(), m[i, :].sum()
        out[name] = {
            "precision": float(tp / predicted) if predicted else 0.0,
            "recall": float(tp / actual) if actual else 0.0,
            "support": int(actual),
        }
    return out


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error: confidence vs accuracy gap, weighted over equal-width bins."""
    if len(labels) == 0:
        return 0.0
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    correct = (pred == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total)


def unsure_threshold(probs: np.ndarray, labels: np.ndarray, target: float = 0.95) -> float:
    """The lowest top probability above which predictions were right at least ``target`` of
    the time on validation data: below it a prediction says "unsure: review"."""
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    # Never below even odds: a species under 50 % is worth a human look whatever validation says.
    for percent in range(50, 99):
        t = percent / 100
        kept = conf >= t - 1e-9  # whole percents, without float drift (0.3 + 25 * 0.01 > 0.55)
        if kept.sum() >= max(5, 0.05 * len(conf)) and correct[kept].mean() >= target:
            return t
    return 0.9


def evaluate(probs: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, ECE, per-class scores and the confusion matrix of calibrated ``probs``."""
    m = confusion(labels, probs.argmax(axis=1), len(classes))
    return {
        "accuracy": float(np.trace(m) / max(1, m.sum())),
        "ece": ece(probs, labels),
        "per_class": per_class(m, classes),
        "confusion": m.tolist(),
    }


def confusion_png(m: np.ndarray, classes: list[str], path: Path, cell: int = 44) -> None:
    """Draw the confusion matrix (rows true, columns predicted) as a PNG."""
    n, margin = len(classes), 130
    img = Image.new("RGB", (margin + n * cell + 10, margin + n * cell + 10), "white")
    draw = ImageDraw.Draw(img)
    rows = np.maximum(m.sum(axis=1, keepdims=True), 1)
    for i in range(n):
        draw.text((4, margin + i * cell + cell // 3), classes[i][:18], fill="black")
        draw.text((margin + i * cell + 2, margin - 14 - (i % 2) * 14), classes[i][:8], fill="black")
        for j in range(n):
            shade = int(255 * (1 - m[i, j] / rows[i, 0]))
            x, y = margin + j * cell, margin + i * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=(shade, shade, 255))
            draw.text(
                (x + 6, y + cell // 3), str(int(m[i, j])), fill="black" if shade > 110 else "white"
            )
    draw.text((margin, 4), "rows: true species, columns: predicted", fill="black")
    img.save(path)
